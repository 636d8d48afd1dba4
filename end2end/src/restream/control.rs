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
