//! The stand-in's REST API surface: the bearer-authenticated `/v2/user/…` endpoints Fanout
//! uses, the public platform and server lists, and errors in Restream's documented shape
//! (`{"error":{"statusCode":…,"status":…,"code":…,"message":…,"name":…}}`).

// Handlers answer refusals as ready responses (axum's way); their size does not matter here.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::state::{BearerRefusal, ChannelMeta};
use super::{Shared, StandInChannel, TWITCH, YOUTUBE};

pub(super) fn routes() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/v2/user/profile", get(profile))
        .route("/v2/user/channel/all", get(channels))
        .route("/v2/user/channel/{id}", get(channel))
        .route("/v2/user/channel-meta/{id}", get(read_meta).patch(update_meta))
        .route("/v2/user/streamKey", get(stream_key))
        .route("/v2/platform/all", get(platforms))
        .route("/v2/server/all", get(servers))
}

/// An error in Restream's shape.
pub(super) fn error_body(status: StatusCode, name: &str, message: &str) -> Response {
    let code = status.as_u16();
    (status, Json(json!({ "error": { "statusCode": code, "status": code, "code": code, "message": message, "name": name } })))
        .into_response()
}

/// The bearer token of a request.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The user a request's bearer token names, or Restream's 401.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<i64, Response> {
    let Some(token) = bearer(headers) else {
        return Err(error_body(StatusCode::UNAUTHORIZED, "invalid_request", "Invalid request: no access token"));
    };
    shared.world().bearer(token).map_err(|refusal| match refusal {
        BearerRefusal::Unknown => error_body(StatusCode::UNAUTHORIZED, "invalid_token", "Invalid token: access token is invalid"),
        BearerRefusal::Expired => error_body(StatusCode::UNAUTHORIZED, "invalid_token", "Invalid token: access token has expired"),
    })
}

fn channel_json(channel: &StandInChannel, enabled_field: &str) -> serde_json::Value {
    json!({
        "id": channel.id,
        "streamingPlatformId": channel.streaming_platform_id,
        "embedUrl": channel.embed_url,
        "url": channel.url,
        "identifier": channel.identifier,
        "displayName": channel.display_name,
        enabled_field: channel.enabled,
    })
}

async fn profile(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let user_id = match authenticate(&shared, &headers) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    match shared.world().users.get(&user_id) {
        Some(user) => Json(json!({ "id": user.id, "username": user.username, "email": user.email })).into_response(),
        None => error_body(StatusCode::NOT_FOUND, "not_found", "User not found"),
    }
}

async fn channels(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let user_id = match authenticate(&shared, &headers) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let world = shared.world();
    let list: Vec<_> =
        world.users.get(&user_id).map(|u| u.channels.iter().map(|c| channel_json(c, "enabled")).collect()).unwrap_or_default();
    Json(list).into_response()
}

/// The user's channel `id`, or Restream's 404.
fn own_channel(shared: &Shared, user_id: i64, id: i64) -> Result<StandInChannel, Response> {
    let world = shared.world();
    world
        .users
        .get(&user_id)
        .and_then(|u| u.channels.iter().find(|c| c.id == id).cloned())
        .ok_or_else(|| error_body(StatusCode::NOT_FOUND, "not_found", "Channel not found"))
}

async fn channel(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let result = authenticate(&shared, &headers).and_then(|user_id| own_channel(&shared, user_id, id));
    match result {
        // The single-channel answer names the flag `active`.
        Ok(channel) => Json(channel_json(&channel, "active")).into_response(),
        Err(refusal) => refusal,
    }
}

async fn read_meta(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Err(refusal) = authenticate(&shared, &headers).and_then(|user_id| own_channel(&shared, user_id, id)) {
        return refusal;
    }
    let meta = shared.world().meta.get(&id).cloned().unwrap_or(ChannelMeta { title: String::new(), description: None });
    Json(json!({ "title": meta.title, "description": meta.description })).into_response()
}

#[derive(Debug, Deserialize)]
struct MetaUpdate {
    title: Option<String>,
    description: Option<String>,
}

async fn update_meta(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<i64>, body: axum::body::Bytes) -> Response {
    if let Err(refusal) = authenticate(&shared, &headers).and_then(|user_id| own_channel(&shared, user_id, id)) {
        return refusal;
    }
    if shared.world().fail_meta {
        return error_body(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal server error");
    }
    let Ok(update) = serde_json::from_slice::<MetaUpdate>(&body) else {
        return error_body(StatusCode::BAD_REQUEST, "bad_request", "Invalid request body");
    };
    let Some(title) = update.title.filter(|t| !t.trim().is_empty()) else {
        return error_body(StatusCode::BAD_REQUEST, "bad_request", "Validation failed: title is required");
    };
    shared.world().meta.insert(id, ChannelMeta { title, description: update.description });
    StatusCode::OK.into_response()
}

async fn stream_key(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let user_id = match authenticate(&shared, &headers) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    match shared.world().users.get(&user_id) {
        Some(user) => Json(json!({
            "streamKey": user.stream_key,
            "srtUrl": format!("srt://live.restream.io:2010?streamid=srt_{}&passphrase=stand-in", user.stream_key),
        }))
        .into_response(),
        None => error_body(StatusCode::NOT_FOUND, "not_found", "User not found"),
    }
}

async fn platforms() -> Response {
    let platform = |id: i64, name: &str, url: &str| {
        json!({ "id": id, "name": name, "url": url, "image": {
            "png": format!("https://restream.io/img/api/platforms/platform-{id}.png"),
            "svg": format!("https://restream.io/img/api/platforms/platform-{id}.svg"),
        }})
    };
    Json(json!([
        platform(TWITCH, "Twitch", "http://twitch.tv"),
        platform(YOUTUBE, "Youtube", "https://www.youtube.com"),
        platform(37, "Facebook Live", "https://www.facebook.com"),
        platform(38, "Twitter", "https://twitter.com"),
    ]))
    .into_response()
}

async fn servers(State(shared): State<Shared>) -> Response {
    Json(shared.world().config.ingest_servers.clone()).into_response()
}
