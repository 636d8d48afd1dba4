//! The manage page's actions — pause, resume, disconnect, a new link, delete my data, which
//! e-mails the volunteer takes — as plain
//! form posts to `/manage/<link>/<action>`. Each checks the signed link (and that its generation
//! is the account's current one), changes the account, records an event, and sends the
//! volunteer back to their page — under a new link when the old ones were just revoked —
//! saying what was done. The admin dashboard does the same through [`apply`].

use app::manage::ManageAction;
use app::model::{AccountStatus, EventKind, MailChoices};
use app::secrets::Purpose;
use app::store::{Account, AccountId, NewEvent, StoreError, now};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The account changed; the word its confirmation is keyed by.
    Changed(&'static str),
    /// It already was as asked.
    Unchanged,
    /// Links moved on to this generation (a new link, or a disconnect): old links are dead.
    NewLinks(&'static str, u32),
    /// The account and everything naming the volunteer are gone.
    Deleted,
}

impl Applied {
    /// The word the confirmation is keyed by.
    pub fn word(self) -> &'static str {
        match self {
            Self::Changed(word) | Self::NewLinks(word, _) => word,
            Self::Unchanged => "unchanged",
            Self::Deleted => "deleted",
        }
    }
}

/// `POST /manage/{link}/{action}`.
pub async fn act(State(state): State<AppState>, Path((link, action)): Path<(String, String)>) -> Response {
    let page = format!("/manage/{link}");
    let Ok(action) = action.parse::<ManageAction>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An invalid, stale or replaced link, or a vanished account: the page itself explains.
    let Ok(claim) = state.links.verify(&link, now()) else {
        return Redirect::to(&page).into_response();
    };
    let account = match state.store.account(&claim.account).await {
        Ok(Some(account)) if claim.clone().current(account.link_epoch).is_ok() => account,
        Ok(_) => return Redirect::to(&page).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not read an account for a manage action");
            return (StatusCode::SERVICE_UNAVAILABLE, "The server could not read your connection; please try again.").into_response();
        }
    };
    match apply(&state, &account.id, action, "from the manage page").await {
        Ok(applied) => {
            state.nudge_engine();
            let to = match applied {
                Applied::Deleted => "/signup/problem?reason=deleted".to_string(),
                Applied::NewLinks(word, epoch) => format!("/manage/{}?done={word}", state.links.issue(&account.id, epoch, now())),
                other => format!("{page}?done={}", other.word()),
            };
            Redirect::to(&to).into_response()
        }
        Err(error) => {
            tracing::error!(%error, account = %account.id, %action, "a manage action failed");
            (StatusCode::SERVICE_UNAVAILABLE, "The server could not change your connection; please try again.").into_response()
        }
    }
}

/// Applies `action` to the account `id` (done `from` where, for the event). Runs under the
/// account's token lock, on the account as it is then: a token refresh racing a disconnect or a
/// deletion either finishes first (and its new pair is the one revoked) or finds no tokens.
/// Shared by the manage page and the admin dashboard.
pub async fn apply(state: &AppState, id: &AccountId, action: ManageAction, from: &str) -> Result<Applied, StoreError> {
    let _tokens = state.account_locks.lock(id).await;
    let Some(account) = state.store.account(id).await? else { return Ok(Applied::Unchanged) };
    let at = now();
    let applied = match (action, account.status) {
        (ManageAction::Pause, AccountStatus::Active) => {
            state.store.set_account_status(id, AccountStatus::Paused, at).await?;
            Applied::Changed("paused")
        }
        (ManageAction::Resume, AccountStatus::Paused) => {
            state.store.set_account_status(id, AccountStatus::Active, at).await?;
            Applied::Changed("resumed")
        }
        (ManageAction::Disconnect, status) if status != AccountStatus::Disconnected => {
            revoke_on_restream(state, &account).await;
            state.store.set_account_tokens(id, None, at).await?;
            state.store.set_account_status(id, AccountStatus::Disconnected, at).await?;
            let epoch = state.store.bump_link_epoch(id, at).await?.unwrap_or(account.link_epoch);
            Applied::NewLinks("disconnected", epoch)
        }
        (ManageAction::NewLink, _) => {
            let epoch = state.store.bump_link_epoch(id, at).await?.unwrap_or(account.link_epoch);
            Applied::NewLinks("new_link", epoch)
        }
        (ManageAction::Delete, _) => {
            revoke_on_restream(state, &account).await;
            state.store.forget_account(id).await?;
            // The event names nobody: it is the anonymous trace that a deletion happened.
            let message = format!("A volunteer's data was deleted {from}");
            tracing::info!("{message}");
            record(state, NewEvent::now(EventKind::AccountStatusChanged, message)).await;
            return Ok(Applied::Deleted);
        }
        (ManageAction::MailOn | ManageAction::MailOff | ManageAction::LiveNotesOn | ManageAction::LiveNotesOff, _) => {
            let (choices, word) = match action {
                ManageAction::MailOn => (MailChoices { needs_you: true, ..account.mail.choices }, "mail_on"),
                ManageAction::MailOff => (MailChoices { needs_you: false, ..account.mail.choices }, "mail_off"),
                ManageAction::LiveNotesOn => (MailChoices { live_notes: true, ..account.mail.choices }, "live_notes_on"),
                _ => (MailChoices { live_notes: false, ..account.mail.choices }, "live_notes_off"),
            };
            if choices == account.mail.choices {
                return Ok(Applied::Unchanged);
            }
            state.store.set_mail_choices(id, choices, at).await?;
            Applied::Changed(word)
        }
        _ => return Ok(Applied::Unchanged),
    };
    let message = match applied {
        Applied::NewLinks("new_link", _) => format!("{} got a new manage link {from} (older links revoked)", account.display_name),
        other => format!("{} {} {from}", account.display_name, other.word()),
    };
    tracing::info!(account = %account.id, "{message}");
    record(state, NewEvent::now(EventKind::AccountStatusChanged, message).for_account(id)).await;
    Ok(applied)
}

async fn record(state: &AppState, event: NewEvent) {
    app::store::note(state.store.as_ref(), event).await;
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
