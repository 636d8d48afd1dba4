//! The live now, its destinations, start/stop, and the accounts (list, pause, resume): the
//! engine's published status as the dashboard shows it, and the same calls as the dashboard's
//! controls (`engine::control`) and account actions (`manage::apply`).

use app::manage::ManageAction;
use app::store::AccountId;
use axum::extract::{Path, State};
use axum::{Extension, Json};

use super::auth::Caller;
use super::error::ApiError;
use super::types::{AccountView, DestinationView, Done, ErrorBody, LiveNow, LiveView};
use crate::engine::control::{Control, ControlError};
use crate::state::AppState;

/// The live now and its phase.
#[utoipa::path(get, path = "/api/v1/live", tag = "live", security(("bearer" = [])),
    responses((status = 200, body = LiveNow), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn live(State(state): State<AppState>) -> Json<LiveNow> {
    let status = crate::admin::dashboard::current(&state);
    Json(LiveNow {
        sending: status.sending(),
        watching: status.watching,
        on_air: status.on_air,
        live: status.live.map(|l| LiveView { title: l.title, url: l.url, phase: l.phase.to_string(), phase_secs: l.phase_secs }),
        input_publishing: status.input_publishing,
        input_bps: status.input_bps,
    })
}

/// The live's destinations, with state and bitrate.
#[utoipa::path(get, path = "/api/v1/destinations", tag = "live", security(("bearer" = [])),
    responses((status = 200, body = Vec<DestinationView>), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn destinations(State(state): State<AppState>) -> Json<Vec<DestinationView>> {
    let status = crate::admin::dashboard::current(&state);
    Json(
        status
            .destinations
            .into_iter()
            .map(|d| DestinationView {
                id: d.id.to_string(),
                name: d.name,
                kind: d.kind.to_string(),
                state: d.state.to_string(),
                bitrate_bps: d.bitrate_bps,
                bytes_sent: d.bytes_sent,
                reconnects: d.reconnects,
                last_error: d.last_error,
            })
            .collect(),
    )
}

async fn ask(state: &AppState, control: Control, caller: &Caller) -> Result<Json<Done>, ApiError> {
    let engine = state.engine.as_ref().ok_or(ApiError::Refused(ControlError::EngineGone))?;
    let message = engine.control(control, &caller.by()).await.map_err(ApiError::Refused)?;
    Ok(Json(Done { message }))
}

/// Starts restreaming the live the channel shows (as the dashboard's Start does).
#[utoipa::path(post, path = "/api/v1/control/start", tag = "live", security(("bearer" = [])),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn start(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Result<Json<Done>, ApiError> {
    ask(&state, Control::Start, &caller).await
}

/// Stops restreaming the live (as the dashboard's Stop does).
#[utoipa::path(post, path = "/api/v1/control/stop", tag = "live", security(("bearer" = [])),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn stop(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Result<Json<Done>, ApiError> {
    ask(&state, Control::Stop, &caller).await
}

/// Every account, newest first.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountView>), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn accounts(State(state): State<AppState>) -> Result<Json<Vec<AccountView>>, ApiError> {
    let mut accounts = state.store.accounts().await.map_err(|error| {
        tracing::error!(%error, "cannot read the accounts for the API");
        ApiError::Store
    })?;
    accounts.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    Ok(Json(
        accounts
            .into_iter()
            .map(|a| AccountView {
                id: a.id.to_string(),
                name: a.display_name,
                status: a.status.to_string(),
                connected_since: app::store::rfc3339(a.created_at),
            })
            .collect(),
    ))
}

async fn act(state: &AppState, caller: &Caller, id: String, action: ManageAction) -> Result<Json<Done>, ApiError> {
    let id = AccountId::from_stored(id);
    let account = match state.store.account(&id).await {
        Ok(Some(account)) => account,
        Ok(None) => return Err(ApiError::UnknownAccount),
        Err(error) => {
            tracing::error!(%error, "cannot read an account for an API action");
            return Err(ApiError::Store);
        }
    };
    match crate::manage::apply(state, &account.id, action, &format!("by {} through the API", caller.by())).await {
        Ok(applied) => {
            state.nudge_engine();
            Ok(Json(Done { message: format!("{} {}", account.display_name, applied.word().replace('_', " ")) }))
        }
        Err(error) => {
            tracing::error!(%error, account = %account.id, %action, token = %caller.id, "an API account action failed");
            Err(ApiError::Store)
        }
    }
}

/// Pauses an account (no live goes to it until it is resumed).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/pause", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Done>, ApiError> {
    act(&state, &caller, id, ManageAction::Pause).await
}

/// Resumes a paused account.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/resume", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Done>, ApiError> {
    act(&state, &caller, id, ManageAction::Resume).await
}
