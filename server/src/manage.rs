//! The manage page's actions — pause, resume, disconnect — as plain form posts to
//! `/manage/<link>/<action>`. Each checks the signed link, changes the account, records an
//! event, and sends the volunteer back to their page saying what was done.

use app::manage::ManageAction;
use app::model::{AccountStatus, EventKind};
use app::secrets::Purpose;
use app::store::{Account, NewEvent, StoreError, now};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;

/// `POST /manage/{link}/{action}`.
pub async fn act(State(state): State<AppState>, Path((link, action)): Path<(String, String)>) -> Response {
    let page = format!("/manage/{link}");
    let Ok(action) = action.parse::<ManageAction>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An invalid or stale link, or a vanished account: the page itself explains.
    let Ok(account_id) = state.links.verify(&link, now()) else {
        return Redirect::to(&page).into_response();
    };
    let account = match state.store.account(&account_id).await {
        Ok(Some(account)) => account,
        Ok(None) => return Redirect::to(&page).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not read an account for a manage action");
            return (StatusCode::SERVICE_UNAVAILABLE, "The server could not read your connection; please try again.").into_response();
        }
    };
    match apply(&state, &account, action, "from the manage page").await {
        Ok(done) => {
            state.nudge_engine();
            Redirect::to(&format!("{page}?done={done}")).into_response()
        }
        Err(error) => {
            tracing::error!(%error, account = %account.id, %action, "a manage action failed");
            (StatusCode::SERVICE_UNAVAILABLE, "The server could not change your connection; please try again.").into_response()
        }
    }
}

/// Applies `action` (done `from` where, for the event); returns the word the confirmation is
/// keyed by. Shared by the manage page and the admin dashboard.
pub async fn apply(state: &AppState, account: &Account, action: ManageAction, from: &str) -> Result<&'static str, StoreError> {
    let (to, done) = match (action, account.status) {
        (ManageAction::Pause, AccountStatus::Active) => (AccountStatus::Paused, "paused"),
        (ManageAction::Resume, AccountStatus::Paused) => (AccountStatus::Active, "resumed"),
        (ManageAction::Disconnect, status) if status != AccountStatus::Disconnected => {
            revoke_on_restream(state, account).await;
            state.store.set_account_tokens(&account.id, None, now()).await?;
            (AccountStatus::Disconnected, "disconnected")
        }
        _ => return Ok("unchanged"),
    };
    state.store.set_account_status(&account.id, to, now()).await?;
    let message = format!("{} {done} {from}", account.display_name);
    tracing::info!(account = %account.id, "{message}");
    if let Err(error) = state.store.append_event(NewEvent::now(EventKind::AccountStatusChanged, message).for_account(&account.id)).await {
        tracing::warn!(%error, "could not record a manage action");
    }
    Ok(done)
}

/// Best effort: asks Restream to revoke the account's grant before Fanout forgets it.
async fn revoke_on_restream(state: &AppState, account: &Account) {
    let (Some(oauth), Some(tokens)) = (state.restream_oauth.as_ref(), account.tokens.as_ref()) else { return };
    match state.cipher.open_secret(Purpose::RefreshToken, &tokens.refresh) {
        Ok(refresh) => {
            if let Err(error) = oauth.revoke(&refresh).await {
                tracing::warn!(account = %account.id, "Restream did not confirm the revocation: {error}");
            }
        }
        Err(error) => tracing::warn!(account = %account.id, "could not open the refresh token to revoke it: {error}"),
    }
}
