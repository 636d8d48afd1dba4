//! The JSON API under `/api/v1`, for other tools: the live now, its destinations, accounts
//! (pause, resume), lives and events (paged), start/stop, direct destinations (list, add, change, remove) — each handler a
//! thin face over what the dashboard's own actions call. Only `Authorization: Bearer <token>`
//! opens it ([`auth`]: the token's SHA-256 looked up in the store, rate-limited per token); the
//! admin's session cookie is never read here, so there is no CSRF surface. Errors are
//! [`error::ApiError`] (`{"error": {"code", "message"}}`); the OpenAPI document
//! (`/api/v1/openapi.json`) is derived from the handlers ([`openapi`]). Response types are the
//! API's own ([`types`]), so the shared `app` types (compiled to WASM too) never take `utoipa`.

pub mod auth;
mod control;
mod direct;
pub mod error;
mod history;
mod openapi;
pub mod tokens;
pub mod types;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};

pub use auth::ApiRateLimit;
use error::ApiError;

use crate::state::AppState;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// The API's routes (to nest under [`PREFIX`]): every one but the OpenAPI document needs a
/// token; an unknown path is a JSON 404, a known one with another method a JSON 405.
pub fn router(state: &AppState, limit: ApiRateLimit) -> Router<AppState> {
    Router::new()
        .route("/live", get(control::live))
        .route("/destinations", get(control::destinations))
        .route("/control/start", post(control::start))
        .route("/control/stop", post(control::stop))
        .route("/accounts", get(control::accounts))
        .route("/accounts/{id}/pause", post(control::pause))
        .route("/accounts/{id}/resume", post(control::resume))
        .route("/lives", get(history::lives))
        .route("/events", get(history::events))
        .route("/direct", get(direct::list).post(direct::create))
        .route("/direct/{id}", patch(direct::change).delete(direct::remove))
        .route_layer(from_fn_with_state(auth::Door { store: state.store.clone(), limit }, auth::authenticate))
        .route("/openapi.json", get(openapi::document))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::NotFound })
}
