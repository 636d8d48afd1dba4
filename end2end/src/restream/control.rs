//! Steering the stand-in over HTTP, for tests that cannot call Rust (Playwright): everything
//! under `/__standin/`, which is not part of Restream's surface and is not recorded.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::state::RecordedCall;
use super::{Consent, Shared, StandInUser};

pub(super) fn routes() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/__standin/consent", post(set_consent))
        .route("/__standin/token-failure", post(set_token_failure))
        .route("/__standin/users", post(add_user))
        .route("/__standin/redirect-uris", post(add_redirect_uri))
        .route("/__standin/calls", get(calls))
        .route("/__standin/updates/received", post(set_received))
        .route("/__standin/updates/channel", post(set_channel))
        .route("/__standin/updates/expired", post(set_expired))
        .route("/__standin/updates/drop", post(drop_sockets))
        .route("/__standin/updates/sockets", get(sockets))
}

#[derive(Debug, Deserialize)]
struct Received {
    user_id: i64,
    received: bool,
}

/// `POST /__standin/updates/received` with `{"user_id":5101,"received":false}`: that user's
/// incoming stream is not reported (or is again).
async fn set_received(State(shared): State<Shared>, Json(steer): Json<Received>) -> StatusCode {
    shared.world().sockets.set_received(steer.user_id, steer.received);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct ChannelOnline {
    channel_id: i64,
    online: bool,
}

/// `POST /__standin/updates/channel` with `{"channel_id":510101,"online":false}`.
async fn set_channel(State(shared): State<Shared>, Json(steer): Json<ChannelOnline>) -> StatusCode {
    shared.world().sockets.set_online(steer.channel_id, steer.online);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct ChannelExpired {
    channel_id: i64,
    expired: bool,
}

/// `POST /__standin/updates/expired` with `{"channel_id":510101,"expired":true}`.
async fn set_expired(State(shared): State<Shared>, Json(steer): Json<ChannelExpired>) -> StatusCode {
    shared.world().sockets.set_expired(steer.channel_id, steer.expired);
    StatusCode::NO_CONTENT
}

/// `POST /__standin/updates/drop`: every open WebSocket is closed.
async fn drop_sockets(State(shared): State<Shared>) -> StatusCode {
    shared.world().sockets.generation += 1;
    StatusCode::NO_CONTENT
}

/// `GET /__standin/updates/sockets`: `{"open":…,"refused":…,"accepted":[{user_id, feed}…]}`
/// (the tokens left out).
async fn sockets(State(shared): State<Shared>) -> Json<serde_json::Value> {
    let world = shared.world();
    let accepted: Vec<_> = world.sockets.accepted.iter().map(|s| serde_json::json!({ "user_id": s.user_id, "feed": s.feed })).collect();
    Json(serde_json::json!({ "open": world.sockets.open, "refused": world.sockets.refused, "accepted": accepted }))
}

/// `POST /__standin/consent` with e.g. `{"mode":"approve","user_id":5001}` or `{"mode":"prompt"}`.
async fn set_consent(State(shared): State<Shared>, Json(consent): Json<Consent>) -> StatusCode {
    shared.world().consent = consent;
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct TokenFailure {
    status: Option<u16>,
}

/// `POST /__standin/token-failure` with `{"status":500}` or `{"status":null}`.
async fn set_token_failure(State(shared): State<Shared>, Json(failure): Json<TokenFailure>) -> StatusCode {
    shared.world().token_failure = failure.status;
    StatusCode::NO_CONTENT
}

/// `POST /__standin/users` with a user as JSON.
async fn add_user(State(shared): State<Shared>, Json(user): Json<StandInUser>) -> StatusCode {
    shared.world().add_user(user);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct RedirectUri {
    uri: String,
}

/// `POST /__standin/redirect-uris` with `{"uri":"…"}`.
async fn add_redirect_uri(State(shared): State<Shared>, Json(redirect): Json<RedirectUri>) -> StatusCode {
    shared.world().config.redirect_uris.push(redirect.uri);
    StatusCode::NO_CONTENT
}

/// `GET /__standin/calls`: every recorded call.
async fn calls(State(shared): State<Shared>) -> Json<Vec<RecordedCall>> {
    Json(shared.world().calls.clone())
}
