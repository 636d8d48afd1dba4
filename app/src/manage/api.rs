//! What the manage page shows, and the server function that reads it for a manage link.

// `#[server]` generates a public argument struct whose fields cannot carry docs.
#![allow(missing_docs)]

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::model::{AccountStatus, MailChoices, RestreamChannel};

/// A volunteer's account, as its manage page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManageView {
    /// The name they gave.
    pub display_name: String,
    /// Their Restream user name.
    pub restream_username: String,
    /// Whether lives are streamed to them.
    pub status: AccountStatus,
    /// Their Restream channels.
    pub channels: Vec<RestreamChannel>,
    /// When they first connected (RFC 3339).
    pub connected_since: String,
    /// A freshly signed manage link (path and query, e.g. `/manage/…`).
    pub manage_path: String,
    /// The manage link as a full URL to keep.
    pub manage_url: String,
    /// While a live is streamed to them: what Restream says it receives, and each channel.
    pub live: Option<crate::received::ReceivedHealth>,
    /// The e-mails they take.
    pub mail: MailChoices,
    /// Whether this server can send e-mail at all (`FANOUT_SMTP_URL`).
    pub mail_configured: bool,
}

/// What a volunteer can do from the manage page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum ManageAction {
    /// Stop streaming to the account until resumed.
    Pause,
    /// Stream to the account again.
    Resume,
    /// Forget the account's tokens; nothing is streamed until they connect again.
    Disconnect,
    /// Issue a new manage link; every link given before stops working.
    NewLink,
    /// Delete the account and everything that names the volunteer (tokens revoked first).
    Delete,
    /// Mail them when their connection needs them (the default).
    MailOn,
    /// No "needs you" e-mails.
    MailOff,
    /// Mail them when a live starts streaming to them.
    LiveNotesOn,
    /// No "we're live" e-mails (the default).
    LiveNotesOff,
}

/// Why the manage page cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ManageFnError {
    /// The link was changed or cut short.
    #[error("this manage link is not valid: it was changed or cut short")]
    InvalidLink,
    /// The link is too old.
    #[error("this manage link has expired")]
    ExpiredLink,
    /// A newer link replaced this one.
    #[error("this manage link was replaced by a newer one")]
    RevokedLink,
    /// The account no longer exists.
    #[error("this account no longer exists")]
    Gone,
    /// The store failed.
    #[error("the server could not read your account; please try again in a moment")]
    Unavailable,
    /// The request itself failed.
    #[error("the request failed: {0}")]
    Request(ServerFnErrorErr),
}

impl FromServerFnError for ManageFnError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        Self::Request(error)
    }
}

/// The account behind a manage link.
#[server(name = ReadManageView, prefix = "/api", endpoint = "manage_view", input = server_fn::codec::Json)]
pub async fn manage_view(token: String) -> Result<ManageView, ManageFnError> {
    use crate::manage::link::{LinkError, LinkSigner};
    use crate::store::{SharedStore, now};

    let signer = crate::context::<LinkSigner>().map_err(|_| ManageFnError::Unavailable)?;
    let store = crate::context::<SharedStore>().map_err(|_| ManageFnError::Unavailable)?;
    let base = crate::context::<crate::setup::PublicUrl>().map_err(|_| ManageFnError::Unavailable)?;
    let at = now();
    let refused = |e| match e {
        LinkError::Invalid => ManageFnError::InvalidLink,
        LinkError::Expired => ManageFnError::ExpiredLink,
        LinkError::Revoked => ManageFnError::RevokedLink,
    };
    let claim = signer.verify(&token, at).map_err(refused)?;
    let account = store
        .account(&claim.account)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read an account for its manage page");
            ManageFnError::Unavailable
        })?
        .ok_or(ManageFnError::Gone)?;
    claim.current(account.link_epoch).map_err(refused)?;
    let live = live_health(&account.id);
    let manage_path = format!("/manage/{}", signer.issue(&account.id, account.link_epoch, at));
    Ok(ManageView {
        display_name: account.display_name,
        restream_username: account.restream.username,
        status: account.status,
        channels: account.restream_channels,
        connected_since: account.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        manage_url: base.join(&manage_path),
        manage_path,
        live,
        mail: account.mail.choices,
        mail_configured: crate::context::<MailConfigured>().is_ok_and(|m| m.0),
    })
}

/// Whether the server can send e-mail (a context the server provides).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy)]
pub struct MailConfigured(pub bool);

/// Restream's side of the account's destination, from the engine's status, while a live runs.
#[cfg(feature = "ssr")]
fn live_health(account: &crate::model::AccountId) -> Option<crate::received::ReceivedHealth> {
    let source = crate::context::<crate::dashboard::DashboardSource>().ok()?;
    let status = (source.0)();
    status.live.as_ref()?;
    let id = crate::model::DestinationId::Account(account.clone());
    status.destinations.into_iter().find(|row| row.id == id)?.received
}
