//! Direct destinations from the dashboard: `POST /admin/direct` adds one, `POST
//! /admin/direct/{id}` edits it (an empty key keeps the saved one), `POST
//! /admin/direct/{id}/{enable|disable|delete}`. The form's rules are `app::direct::validate`;
//! adding and removing ([`create`], [`remove`]) are shared with the JSON API;
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
    match create(&state, &form, &format!("admin {}", admin.user)).await {
        Ok((_, message)) => {
            state.nudge_engine();
            back(&state, &admin, SECTION, Ok(message))
        }
        Err(problem) => back(&state, &admin, SECTION, Err(problem.to_string())),
    }
}

/// Why a direct destination could not be added or removed (the dashboard and the API say it).
#[derive(Debug, thiserror::Error)]
pub enum DirectChangeError {
    /// The form broke the shared rules, or the relay could not stream to its URL.
    #[error("{0}")]
    Invalid(String),
    /// No direct destination has that id.
    #[error("no direct destination has that id")]
    Unknown,
    /// The store failed (logged where it happened).
    #[error("the destination could not be saved; please try again")]
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
    let Some(mut destination) = find(&state, &id).await else { return StatusCode::NOT_FOUND.into_response() };
    let valid = match checked(&form, false) {
        Ok(valid) => valid,
        Err(problem) => return back(&state, &admin, SECTION, Err(problem)),
    };
    destination.label = valid.label.clone();
    destination.server = valid.server.clone();
    let key_changed = valid.key.is_some();
    if let Some(key) = &valid.key {
        destination.key = state.cipher.seal(Purpose::StreamKey, key.as_bytes());
    }
    destination.updated_at = now();
    let what = if key_changed { ", with a new stream key" } else { "" };
    save(
        &state,
        &admin,
        &destination,
        format!("Direct destination “{}” ({}) changed{what} by admin {}", valid.label, valid.server, admin.user),
    )
    .await
}

/// `POST /admin/direct/{id}/{enable|disable|delete}`.
pub async fn act(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Some(mut destination) = find(&state, &id).await else { return StatusCode::NOT_FOUND.into_response() };
    let label = destination.label.clone();
    match action.as_str() {
        "enable" | "disable" => {
            destination.enabled = action == "enable";
            destination.updated_at = now();
            save(&state, &admin, &destination, format!("Direct destination “{label}” {action}d by admin {}", admin.user)).await
        }
        "delete" => match remove(&state, &destination.id, &format!("admin {}", admin.user)).await {
            Ok(message) => {
                state.nudge_engine();
                back(&state, &admin, SECTION, Ok(message))
            }
            Err(DirectChangeError::Store) => {
                back(&state, &admin, SECTION, Err("The destination could not be removed; please try again.".into()))
            }
            Err(DirectChangeError::Unknown | DirectChangeError::Invalid(_)) => StatusCode::NOT_FOUND.into_response(),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
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

async fn save(state: &AppState, admin: &AdminSession, destination: &DirectDestination, message: String) -> Response {
    match state.store.put_direct_destination(destination).await {
        Ok(()) => done(state, admin, message).await,
        Err(error) => {
            tracing::error!(%error, "cannot store a direct destination");
            back(state, admin, SECTION, Err("The destination could not be saved; please try again.".into()))
        }
    }
}

async fn done(state: &AppState, admin: &AdminSession, message: String) -> Response {
    record(state, &message).await;
    state.nudge_engine();
    back(state, admin, SECTION, Ok(message))
}
