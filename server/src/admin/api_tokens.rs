//! The JSON API's tokens from the dashboard's Settings: `POST /admin/api-tokens` makes one (a
//! name; the token is shown once, in the answer's message, and kept only as its hash) and `POST
//! /admin/api-tokens/{id}/revoke` revokes one. Each is an event naming the admin and the
//! token's name, never the token.

use app::model::EventKind;
use app::store::{ApiTokenId, NewEvent};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use super::{AdminSession, back};
use crate::api::tokens::{self, TokenError};
use crate::state::AppState;

const SECTION: &str = "settings";

/// The form that makes a token.
#[derive(Debug, Deserialize)]
pub struct NewTokenForm {
    name: String,
}

/// `POST /admin/api-tokens`.
pub async fn create(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Form(form): Form<NewTokenForm>) -> Response {
    match tokens::issue(&state.store, &form.name).await {
        Ok((record, token)) => {
            let message = format!("API token “{}” made by admin {}", record.name, admin.user);
            tracing::info!(token = %record.id, "{message}");
            app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message)).await;
            let text = format!(
                "New API token “{}” — shown only this once, copy it now: {} (send it as Authorization: Bearer <token>)",
                record.name,
                token.expose()
            );
            back(&state, &admin, SECTION, Ok(text))
        }
        Err(TokenError::BadName) => back(&state, &admin, SECTION, Err(capitalised(&TokenError::BadName.to_string()))),
        Err(error) => {
            tracing::error!(%error, "cannot store a new API token");
            back(&state, &admin, SECTION, Err("The token could not be saved; please try again.".into()))
        }
    }
}

/// `POST /admin/api-tokens/{id}/revoke`.
pub async fn revoke(State(state): State<AppState>, Extension(admin): Extension<AdminSession>, Path(id): Path<String>) -> Response {
    let id = ApiTokenId::from_stored(id);
    let name = match state.store.api_tokens().await {
        Ok(all) => all.into_iter().find(|t| t.id == id).map(|t| t.name),
        Err(error) => {
            tracing::error!(%error, "cannot read the API tokens");
            return back(&state, &admin, SECTION, Err("The tokens could not be read; please try again.".into()));
        }
    };
    let Some(name) = name else { return back(&state, &admin, SECTION, Err("There is no such API token (already revoked?)".into())) };
    match state.store.delete_api_token(&id).await {
        Ok(_) => {
            let message = format!("API token “{name}” revoked by admin {}", admin.user);
            tracing::info!(token = %id, "{message}");
            app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AdminAction, message.clone())).await;
            back(&state, &admin, SECTION, Ok(message))
        }
        Err(error) => {
            tracing::error!(%error, "cannot revoke an API token");
            back(&state, &admin, SECTION, Err("The token could not be revoked; please try again.".into()))
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
