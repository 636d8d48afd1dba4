//! `POST /admin/accounts/{id}/{pause|resume|disconnect|new_link|delete}`: what a volunteer can do from their
//! manage page, done by an admin from the dashboard (the gate has checked the session and the
//! CSRF token). The change is recorded as an event naming the admin, and the engine is nudged
//! so a live in progress follows at once.

use app::manage::ManageAction;
use app::store::AccountId;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AdminSession, back};
use crate::state::AppState;

/// Applies the action and goes back to the dashboard's Accounts section.
pub async fn act(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Ok(action) = action.parse::<ManageAction>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let account = match state.store.account(&AccountId::from_stored(id)).await {
        Ok(Some(account)) => account,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "could not read an account for an admin action");
            return (StatusCode::SERVICE_UNAVAILABLE, "The store could not be read; please try again.").into_response();
        }
    };
    match crate::manage::apply(&state, &account.id, action, &format!("by admin {} from the dashboard", admin.user)).await {
        Ok(applied) => {
            state.nudge_engine();
            let text = match applied {
                crate::manage::Applied::Deleted => format!("{}'s data was deleted", account.display_name),
                other => format!("{} {}", account.display_name, other.word().replace('_', " ")),
            };
            back(&state, &admin, "accounts", Ok(text))
        }
        Err(error) => {
            tracing::error!(%error, account = %account.id, %action, "an admin account action failed");
            (StatusCode::SERVICE_UNAVAILABLE, "The account could not be changed; please try again.").into_response()
        }
    }
}
