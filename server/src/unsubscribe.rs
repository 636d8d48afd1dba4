//! `/unsubscribe/<link>`: the one-click unsubscribe every volunteer e-mail carries. `GET` only
//! shows a button (mail scanners fetch the links in a message: a fetch must change nothing);
//! `POST` — that button, or the mail client's RFC 8058 one-click request
//! (`List-Unsubscribe=One-Click`, from the mail provider's servers: no browser headers, which the
//! same-origin guard lets through) — turns every volunteer e-mail off and records an event. The
//! link is signed for this purpose alone (`app::manage::unsubscribe`), and appears in no log.

use app::model::{EventKind, MailChoices};
use app::store::{NewEvent, now};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// Why an unsubscribe could not be done.
#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeFailure {
    /// The link was changed, or the account is gone.
    #[error("this unsubscribe link does not work")]
    Invalid,
    /// The store failed.
    #[error("the server could not change your e-mails")]
    Store(#[from] app::store::StoreError),
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title></head><body><main id=\"unsubscribe\">\
         <h1>{title}</h1>{body}</main></body></html>"
    );
    (status, Html(html)).into_response()
}

fn refused() -> Response {
    page(StatusCode::NOT_FOUND, "This link does not work", "<p>It was changed or cut short, or the connection no longer exists.</p>")
}

/// `GET /unsubscribe/{link}`: asks, changes nothing.
pub async fn ask(State(state): State<AppState>, Path(link): Path<String>) -> Response {
    // Only a genuine token (URL-safe characters alone) is put back in the page.
    if state.unsubscribe.verify(&link).is_err() {
        return refused();
    }
    page(
        StatusCode::OK,
        "Stop e-mails from Fanout?",
        "<p>Fanout will no longer e-mail you about your Restream.io connection or about lives. \
         You can turn them back on from your manage page.</p>\
         <form method=\"post\"><button id=\"unsubscribe-confirm\" type=\"submit\">Unsubscribe</button></form>",
    )
}

/// `POST /unsubscribe/{link}`: unsubscribes.
pub async fn confirm(State(state): State<AppState>, Path(link): Path<String>) -> Response {
    match unsubscribe(&state, &link).await {
        Ok(()) => page(StatusCode::OK, "Unsubscribed", "<p>Fanout will not e-mail you any more.</p>"),
        Err(UnsubscribeFailure::Invalid) => refused(),
        Err(error @ UnsubscribeFailure::Store(_)) => {
            tracing::error!(%error, "an unsubscribe failed");
            page(StatusCode::SERVICE_UNAVAILABLE, "Something went wrong", "<p>Please try again in a moment.</p>")
        }
    }
}

async fn unsubscribe(state: &AppState, link: &str) -> Result<(), UnsubscribeFailure> {
    let id = state.unsubscribe.verify(link).map_err(|_| UnsubscribeFailure::Invalid)?;
    let account = state.store.account(&id).await?.ok_or(UnsubscribeFailure::Invalid)?;
    if account.mail.choices != MailChoices::NONE {
        state.store.set_mail_choices(&id, MailChoices::NONE, now()).await?;
        let message = format!("{} unsubscribed from Fanout's e-mails", account.display_name);
        tracing::info!(account = %id, "a volunteer unsubscribed from Fanout's e-mails");
        app::store::note(state.store.as_ref(), NewEvent::now(EventKind::AccountStatusChanged, message).for_account(&id)).await;
    }
    Ok(())
}
