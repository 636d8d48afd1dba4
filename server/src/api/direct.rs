//! Direct destinations: list, add, change, remove — through the dashboard's own
//! `admin::direct::create`, `change` and `remove` (the shared form rules, the key sealed and never shown, an event naming the
//! token), the engine nudged after each change.

use app::direct::DirectForm;
use app::store::DirectId;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::auth::Caller;
use super::error::ApiError;
use super::types::{DirectPatch, DirectView, Done, ErrorBody, NewDirect};
use crate::admin::direct::DirectChangeError;
use crate::state::AppState;

fn view(d: app::store::DirectDestination) -> DirectView {
    DirectView { id: d.id.to_string(), label: d.label, server: d.server, enabled: d.enabled, created_at: app::store::rfc3339(d.created_at) }
}

fn refused(error: DirectChangeError) -> ApiError {
    match error {
        DirectChangeError::Invalid(problem) => ApiError::Invalid(problem),
        DirectChangeError::Unknown => ApiError::UnknownDirect,
        DirectChangeError::Store => ApiError::Store,
    }
}

/// Every direct destination, oldest first (keys never shown).
#[utoipa::path(get, path = "/api/v1/direct", tag = "direct", security(("bearer" = [])),
    responses((status = 200, body = Vec<DirectView>), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>) -> Result<Json<Vec<DirectView>>, ApiError> {
    let all = state.store.direct_destinations().await.map_err(|error| {
        tracing::error!(%error, "cannot read the direct destinations for the API");
        ApiError::Store
    })?;
    Ok(Json(all.into_iter().map(view).collect()))
}

/// Adds a direct destination (enabled: a live in progress gets it at once).
#[utoipa::path(post, path = "/api/v1/direct", tag = "direct", security(("bearer" = [])), request_body = NewDirect,
    responses((status = 201, body = DirectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewDirect>, JsonRejection>,
) -> Result<(StatusCode, Json<DirectView>), ApiError> {
    let Json(new) = body?;
    let form = DirectForm { label: new.label, url: new.url, key: new.key };
    let (destination, _) = crate::admin::direct::create(&state, &form, &caller.by()).await.map_err(refused)?;
    state.nudge_engine();
    Ok((StatusCode::CREATED, Json(view(destination))))
}

/// Changes a direct destination: its label, URL or key (checked by the same rules as adding),
/// and whether it is enabled.
#[utoipa::path(patch, path = "/api/v1/direct/{id}", tag = "direct", security(("bearer" = [])), request_body = DirectPatch,
    params(("id" = String, Path, description = "The direct destination's id")),
    responses((status = 200, body = DirectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<DirectPatch>, JsonRejection>,
) -> Result<Json<DirectView>, ApiError> {
    let Json(patch) = body?;
    let id = DirectId::from_stored(id);
    let form = match (patch.label, patch.url, patch.key) {
        (None, None, None) => None,
        (label, url, key) => {
            let all = state.store.direct_destinations().await.map_err(|error| {
                tracing::error!(%error, "cannot read the direct destinations for the API");
                ApiError::Store
            })?;
            let saved = all.into_iter().find(|d| d.id == id).ok_or(ApiError::UnknownDirect)?;
            Some(DirectForm { label: label.unwrap_or(saved.label), url: url.unwrap_or(saved.server), key: key.unwrap_or_default() })
        }
    };
    let (destination, _) = crate::admin::direct::change(&state, &id, form.as_ref(), patch.enabled, &caller.by()).await.map_err(refused)?;
    state.nudge_engine();
    Ok(Json(view(destination)))
}

/// Removes a direct destination.
#[utoipa::path(delete, path = "/api/v1/direct/{id}", tag = "direct", security(("bearer" = [])),
    params(("id" = String, Path, description = "The direct destination's id")),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Done>, ApiError> {
    let message = crate::admin::direct::remove(&state, &DirectId::from_stored(id), &caller.by()).await.map_err(refused)?;
    state.nudge_engine();
    Ok(Json(Done { message }))
}
