//! Direct destinations from the dashboard: `POST /admin/direct` adds one, `POST
//! /admin/direct/{id}` edits it (an empty key keeps the saved one), `POST
//! /admin/direct/{id}/{enable|disable|delete}`. The form's rules are `app::direct::validate`;
//! adding, changing and removing ([`create`], [`change`], [`remove`]) are shared with the JSON API;
//! the key is sealed before it is stored and never shown or logged; every change is an event
//! naming the admin, and the engine is nudged so a live in progress follows at once.

use app::direct::{DirectForm, ValidDirect, validate};
use app::model::EventKind;
use app::secrets::Purpose;
use app::store::{DirectDestination, DirectId, NewEvent, now};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};

use super::{AdminSession, back};
use crate::relay::RtmpTarget;
use crate::state::AppState;

const SECTION: &str = "direct";

/// `POST /admin/direct`: adds a direct destination.
pub async fn add(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Form(form): Form<DirectForm>) -> Response {
    changed(&state, &admin, create(&state, &form, &format!("admin {}", admin.user)).await.map(|(_, message)| message))
}

/// Why a direct destination could not be added, changed or removed (the dashboard and the API say it).
#[derive(Debug, thiserror::Error)]
pub enum DirectChangeError {
    /// The form broke the shared rules, or the relay could not stream to its URL.
    #[error("{0}")]
    Invalid(String),
    /// No direct destination has that id.
    #[error("no direct destination has that id")]
    Unknown,
    /// The store failed (logged where it happened).
    #[error("The destination could not be saved; please try again.")]
    Store,
}

/// Adds the direct destination `form` describes (checked by the shared rules, its key sealed),
/// recorded as an event done `by`; the destination and what was done. The caller nudges the
/// engine.
pub async fn create(state: &AppState, form: &DirectForm, by: &str) -> Result<(DirectDestination, String), DirectChangeError> {
    let valid = checked(form, true).map_err(DirectChangeError::Invalid)?;
    let Some(key) = valid.key.as_deref() else { return Err(DirectChangeError::Invalid("The stream key is needed.".into())) };
    let at = now();
    let destination = DirectDestination {
        id: DirectId::random(),
        label: valid.label.clone(),
        server: valid.server.clone(),
        key: state.cipher.seal(Purpose::StreamKey, key.as_bytes()),
        enabled: true,
        created_at: at,
        updated_at: at,
    };
    if let Err(error) = state.store.put_direct_destination(&destination).await {
        tracing::error!(%error, "cannot store a direct destination");
        return Err(DirectChangeError::Store);
    }
    let message = format!("Direct destination “{}” ({}) added by {by}", valid.label, valid.server);
    record(state, &message).await;
    Ok((destination, message))
}

/// Removes the direct destination `id`, recorded as an event done `by`; what was done. The
/// caller nudges the engine.
pub async fn remove(state: &AppState, id: &DirectId, by: &str) -> Result<String, DirectChangeError> {
    let Some(destination) = find(state, id.as_str()).await else { return Err(DirectChangeError::Unknown) };
    match state.store.delete_direct_destination(&destination.id).await {
        Ok(true) => {
            let message = format!("Direct destination “{}” removed by {by}", destination.label);
            record(state, &message).await;
            Ok(message)
        }
        Ok(false) => Err(DirectChangeError::Unknown),
        Err(error) => {
            tracing::error!(%error, "cannot delete a direct destination");
            Err(DirectChangeError::Store)
        }
    }
}

async fn record(state: &AppState, message: &str) {
    tracing::info!("{message}");
    app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message.to_string())).await;
}

/// `POST /admin/direct/{id}`: edits one (label, URL, and the key when a new one is typed).
pub async fn edit(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminSession>,
    Path(id): Path<String>,
    Form(form): Form<DirectForm>,
) -> Response {
    let by = format!("admin {}", admin.user);
    changed(&state, &admin, change(&state, &DirectId::from_stored(id), Some(&form), None, &by).await.map(|(_, message)| message))
}

/// `POST /admin/direct/{id}/{enable|disable|delete}`.
pub async fn act(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let id = DirectId::from_stored(id);
    let by = format!("admin {}", admin.user);
    let outcome = match action.as_str() {
        "enable" | "disable" => change(&state, &id, None, Some(action == "enable"), &by).await.map(|(_, message)| message),
        "delete" => remove(&state, &id, &by).await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    changed(&state, &admin, outcome)
}

/// The dashboard's answer to a change: back to the section with what was done, or a 404 for a
/// destination that is not there.
fn changed(state: &AppState, admin: &AdminSession, outcome: Result<String, DirectChangeError>) -> Response {
    match outcome {
        Ok(done) => {
            state.nudge_engine();
            back(state, admin, SECTION, Ok(done))
        }
        Err(DirectChangeError::Unknown) => StatusCode::NOT_FOUND.into_response(),
        Err(problem) => back(state, admin, SECTION, Err(problem.to_string())),
    }
}

/// Changes the direct destination `id`: its label, URL and (when one is typed) key from `form`,
/// and/or whether it is `enabled`; recorded as an event done `by`. The destination and what was
/// done; the caller nudges the engine.
pub async fn change(
    state: &AppState,
    id: &DirectId,
    form: Option<&DirectForm>,
    enabled: Option<bool>,
    by: &str,
) -> Result<(DirectDestination, String), DirectChangeError> {
    let Some(mut destination) = find(state, id.as_str()).await else { return Err(DirectChangeError::Unknown) };
    let mut done = Vec::new();
    let mut server = String::new();
    if let Some(form) = form {
        let valid = checked(form, false).map_err(DirectChangeError::Invalid)?;
        destination.label = valid.label;
        destination.server = valid.server;
        server = format!(" ({})", destination.server);
        match &valid.key {
            Some(key) => {
                destination.key = state.cipher.seal(Purpose::StreamKey, key.as_bytes());
                done.push("changed, with a new stream key");
            }
            None => done.push("changed"),
        }
    }
    if let Some(enabled) = enabled {
        destination.enabled = enabled;
        done.push(if enabled { "enabled" } else { "disabled" });
    }
    if done.is_empty() {
        return Err(DirectChangeError::Invalid("Nothing to change: give a label, URL, key or enabled.".into()));
    }
    destination.updated_at = now();
    if let Err(error) = state.store.put_direct_destination(&destination).await {
        tracing::error!(%error, "cannot store a direct destination");
        return Err(DirectChangeError::Store);
    }
    let message = format!("Direct destination “{}”{server} {} by {by}", destination.label, done.join(" and "));
    record(state, &message).await;
    Ok((destination, message))
}

/// The form checked by the shared rules, then as the relay will read it.
fn checked(form: &DirectForm, key_required: bool) -> Result<ValidDirect, String> {
    let valid = validate(form, key_required).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))?;
    let probe = format!("{}/{}", valid.server, valid.key.as_deref().unwrap_or("key"));
    RtmpTarget::parse(&probe).map_err(|error| format!("The URL cannot be streamed to: {error}."))?;
    Ok(valid)
}

async fn find(state: &AppState, id: &str) -> Option<DirectDestination> {
    match state.store.direct_destinations().await {
        Ok(all) => all.into_iter().find(|d| d.id.as_str() == id),
        Err(error) => {
            tracing::error!(%error, "cannot read the direct destinations");
            None
        }
    }
}
