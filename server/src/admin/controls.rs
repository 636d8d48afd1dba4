//! The dashboard's controls, each a plain form post (the gate has checked the session and the
//! CSRF token; the page asks for confirmation first): stop or start restreaming the current
//! live, re-run the title updates, reconnect one destination (`POST /admin/control/{action}`,
//! `POST /admin/destinations/{id}/retry`), choose the transcode profile for the next live
//! (`POST /admin/profile`), and make a new push key (`POST /admin/push-key`: shown once, in the
//! answer's message, and kept only as its hash). Every one is recorded as an event naming the admin, and answers
//! with the dashboard and what was done — or why it could not be.

use app::model::EventKind;
use app::store::NewEvent;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::{AdminSession, back};
use crate::engine::control::{self, Control, ControlError};
use crate::ingest::TranscodeProfile;
use crate::state::AppState;

/// `POST /admin/control/{stop|start|retitle}`.
pub async fn act(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Path(action): Path<String>) -> Response {
    let control = match action.as_str() {
        "stop" => Control::Stop,
        "start" => Control::Start,
        "retitle" => Control::Retitle,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    back(&state, &admin, "controls", ask(&state, control, &admin.user).await)
}

/// `POST /admin/destinations/{id}/retry`.
pub async fn retry(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse() else {
        return back(&state, &admin, "destinations", Err(capitalised(&ControlError::UnknownDestination.to_string())));
    };
    back(&state, &admin, "destinations", ask(&state, Control::Retry(id), &admin.user).await)
}

async fn ask(state: &AppState, control: Control, by: &str) -> Result<String, String> {
    let engine = state.engine.as_ref().ok_or(ControlError::EngineGone).map_err(|e| capitalised(&e.to_string()))?;
    engine.control(control, by).await.map_err(|e| capitalised(&e.to_string()))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The profile form.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    profile: String,
}

/// `POST /admin/profile`: the transcode profile for the next live.
pub async fn profile(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Form(form): Form<ProfileForm>) -> Response {
    let Ok(profile) = form.profile.parse::<TranscodeProfile>() else {
        return back(&state, &admin, "controls", Err(format!("“{}” is not a transcode profile", form.profile)));
    };
    if let Err(error) = control::choose_profile(&state.store, profile).await {
        tracing::error!(%error, "cannot store the chosen profile");
        return back(&state, &admin, "controls", Err("The profile could not be saved; please try again.".into()));
    }
    let message = format!("Transcode profile for the next live set to {profile} by admin {}", admin.user);
    app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message)).await;
    back(&state, &admin, "controls", Ok(format!("The next live will use the {profile} profile")))
}

/// `POST /admin/push-key`: a new key for the push ingest; the old one stops working.
pub async fn push_key(State(state): State<AppState>, Extension(admin): Extension<AdminSession>) -> Response {
    let Some(push) = state.engine.as_ref().and_then(|engine| engine.push()) else {
        return back(&state, &admin, "settings", Err("The push ingest is off (set FANOUT_SOURCE=push or both)".into()));
    };
    let url = push.url_for(&crate::pages::public_host(&state.public_url.0));
    match crate::engine::push::new_key(&state.store).await {
        Ok(key) => {
            let message = format!("A new push key was made by admin {} (the previous one no longer works)", admin.user);
            app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message)).await;
            let text = format!(
                "New push key — shown only this once, copy it now. Encoder: server {url}, stream key {}. The previous key no longer works.",
                key.expose()
            );
            back(&state, &admin, "settings", Ok(text))
        }
        Err(error) => {
            tracing::error!(%error, "cannot store a new push key");
            back(&state, &admin, "settings", Err("The push key could not be saved; please try again.".into()))
        }
    }
}
