//! Preparing a live's destinations: for each active account — many at once, within a limit —
//! a usable token, its enabled channels' titles (set once per live: a resumed live does not set
//! them again), and its stream key, which becomes the destination URL. Every title is an event;
//! a failed title never keeps an account from being streamed to.

use std::collections::HashSet;
use std::future::Future;

use app::model::EventKind;
use app::secrets::Secret;
use app::store::{Account, AccountId, NewEvent, SharedStore, StoreError, VideoId, now};
use futures::StreamExt;

use crate::relay::{RtmpTarget, TargetError};
use crate::restream::api::{ApiError, RestreamApi};
use crate::restream::titles::{LiveFacts, TitleTemplates};
use crate::restream::tokens::{TokenError, TokenKeeper};

/// How many accounts are prepared at once.
pub const CONCURRENCY: usize = 16;

/// Why an account could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// No usable token.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Restream's API failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The stream key does not make a valid destination URL.
    #[error("the destination URL is not valid: {0}")]
    Target(#[from] TargetError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PrepareError {
    /// Whether trying again soon may succeed (Restream or the store failed for a moment), as
    /// opposed to a refusal that needs a person (a revoked grant, a bad key).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api(error) => error.is_transient(),
            Self::Token(TokenError::Refresh(crate::restream::oauth::OAuthError::Unreachable(_))) => true,
            Self::Token(TokenError::Store(_)) | Self::Store(_) => true,
            Self::Token(_) | Self::Target(_) => false,
        }
    }
}

/// Why an account was not prepared, as the live's destinations keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprepared {
    /// In words.
    pub why: String,
    /// Whether it is worth trying again soon.
    pub transient: bool,
}

/// What one account's preparation gave.
pub type Outcome = Result<Prepared, Unprepared>;

/// A destination ready to be added to the relay.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Whose it is.
    pub account: AccountId,
    /// Their name.
    pub name: String,
    /// Where to stream.
    pub target: RtmpTarget,
    /// Its enabled Restream channels, by name.
    pub channels: Vec<String>,
    /// Its enabled Restream channels (what Restream's streaming updates report on).
    pub restream_channels: Vec<app::model::RestreamChannel>,
    /// What became of its titles, in words.
    pub titles: String,
}

/// How many of an account's enabled channels got their titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Titled {
    /// Titled.
    pub done: usize,
    /// Enabled channels.
    pub of: usize,
}

impl Titled {
    /// In words, for the dashboard.
    pub fn describe(self) -> String {
        match self {
            Self { of: 0, .. } => "no enabled channel".into(),
            Self { done, of } if done == of => format!("titled ({done} of {of})"),
            Self { done, of } => format!("{} of {of} titles failed", of - done),
        }
    }
}

/// A channel as the API lists it, named by its platform as the account's stored channels name
/// it (`Platform #id` for a platform none of them is on).
fn with_platform_name(channel: crate::restream::api::ApiChannel, stored: &[app::model::RestreamChannel]) -> app::model::RestreamChannel {
    let platform = stored
        .iter()
        .find(|s| s.platform_id == channel.streaming_platform_id)
        .map_or_else(|| format!("Platform #{}", channel.streaming_platform_id), |s| s.platform.clone());
    app::model::RestreamChannel {
        id: channel.id,
        platform_id: channel.streaming_platform_id,
        platform,
        display_name: channel.display_name,
        url: channel.url,
        enabled: channel.enabled,
    }
}

/// The live being prepared for.
#[derive(Debug, Clone)]
pub struct LiveFor {
    /// Its video id.
    pub video_id: VideoId,
    /// What the title templates are filled with.
    pub facts: LiveFacts,
}

/// Prepares destinations.
#[derive(Clone)]
pub struct Preparer {
    /// The store.
    pub store: SharedStore,
    /// Tokens.
    pub tokens: TokenKeeper,
    /// Restream's API.
    pub api: RestreamApi,
    /// Title templates.
    pub templates: TitleTemplates,
    /// The RTMP ingest base the stream key is appended to.
    pub ingest_base: String,
    /// How many accounts are prepared at once.
    pub concurrency: usize,
}

impl std::fmt::Debug for Preparer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preparer").finish_non_exhaustive()
    }
}

impl Preparer {
    /// Prepares every account given, many at once, and sends each one's outcome on `done` as
    /// soon as it is known (the first destinations join while the rest are still prepared);
    /// failures are recorded as events. Runs beside the live's loop, never inside it.
    pub async fn prepare_each(&self, live: &LiveFor, accounts: Vec<Account>, done: tokio::sync::mpsc::Sender<(AccountId, Outcome)>) {
        let titled: HashSet<AccountId> = match self.store.titled_accounts(&live.video_id).await {
            Ok(ids) => ids.into_iter().collect(),
            Err(error) => {
                tracing::warn!(%error, "cannot read which titles were set; not setting any again");
                accounts.iter().map(|a| a.id.clone()).collect()
            }
        };
        futures::stream::iter(accounts)
            .for_each_concurrent(self.concurrency.max(1), |account| {
                let skip_titles = titled.contains(&account.id);
                let done = done.clone();
                async move {
                    let result = self.prepare(live, &account, skip_titles).await;
                    if let Err(error) = &result {
                        let message = format!("{} could not be prepared: {error}", account.display_name);
                        tracing::warn!(account = %account.id, "{message}");
                        self.event(EventKind::DestinationFailed, message, &account.id, &live.video_id).await;
                    }
                    // The live may have ended meanwhile: nobody listens then, and that is fine.
                    let outcome = result.map_err(|e| Unprepared { transient: e.is_transient(), why: e.to_string() });
                    let _ = done.send((account.id, outcome)).await;
                }
            })
            .await;
    }

    /// Prepares one account (titles unless `skip_titles`).
    pub async fn prepare(&self, live: &LiveFor, account: &Account, skip_titles: bool) -> Result<Prepared, PrepareError> {
        let mut token = self.tokens.access_token(&account.id, None).await?;
        let (restream_channels, titles) = if skip_titles {
            let stored = account.restream_channels.iter().filter(|c| c.enabled).cloned().collect();
            (stored, "set earlier for this live".to_string())
        } else {
            let (channels, titled) = self.set_titles(live, account, &mut token).await?;
            (channels, titled.describe())
        };
        let channels = restream_channels.iter().map(|c| c.display_name.clone()).collect();
        let key = self.authed(&account.id, &mut token, |t| async move { self.api.stream_key(&t).await }).await?;
        let target = RtmpTarget::parse(&format!("{}/{}", self.ingest_base.trim_end_matches('/'), key.expose()))?;
        Ok(Prepared { account: account.id.clone(), name: account.display_name.clone(), target, channels, restream_channels, titles })
    }

    /// Sets these accounts' titles for the live again (an admin asked), whatever was set
    /// before, as many at once as preparation; each title is an event as usual.
    pub async fn retitle_all(&self, live: &LiveFor, accounts: Vec<Account>) {
        futures::stream::iter(accounts)
            .for_each_concurrent(self.concurrency.max(1), |account| async move {
                let retitled = async {
                    let mut token = self.tokens.access_token(&account.id, None).await?;
                    self.set_titles(live, &account, &mut token).await
                };
                if let Err(error) = retitled.await {
                    tracing::warn!(account = %account.id, "titles could not be set again: {error}");
                }
            })
            .await;
    }

    /// Sets the titles of every enabled channel; returns them and how many were titled.
    async fn set_titles(
        &self,
        live: &LiveFor,
        account: &Account,
        token: &mut Secret,
    ) -> Result<(Vec<app::model::RestreamChannel>, Titled), PrepareError> {
        let channels = self.authed(&account.id, token, |t| async move { self.api.channels(&t).await }).await?;
        let enabled: Vec<_> = channels.into_iter().filter(|c| c.enabled).collect();
        let mut titled = Titled { done: 0, of: enabled.len() };
        for channel in &enabled {
            let (title, description) = self.templates.render(&live.facts, channel);
            let result = self
                .authed(&account.id, token, |t| {
                    let (title, description) = (title.clone(), description.clone());
                    async move { self.api.update_channel_meta(&t, channel.id, &title, &description).await }
                })
                .await;
            titled.done += usize::from(result.is_ok());
            let (kind, message) = match result {
                Ok(()) => {
                    (EventKind::TitleUpdated, format!("{}: channel “{}” titled “{title}”", account.display_name, channel.display_name))
                }
                Err(error) => (
                    EventKind::TitleFailed,
                    format!("{}: could not title channel “{}”: {error}", account.display_name, channel.display_name),
                ),
            };
            self.event(kind, message, &account.id, &live.video_id).await;
        }
        self.store.record_titles_set(&live.video_id, &account.id, now()).await?;
        Ok((enabled.into_iter().map(|c| with_platform_name(c, &account.restream_channels)).collect(), titled))
    }

    /// Calls `call` with the account's token; after a 401, once more with a refreshed token.
    async fn authed<T, F, Fut>(&self, account: &AccountId, token: &mut Secret, call: F) -> Result<T, PrepareError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        match call(token.clone()).await {
            Err(ApiError::Unauthorized(_)) => {
                *token = self.tokens.access_token(account, Some(token)).await?;
                Ok(call(token.clone()).await?)
            }
            other => Ok(other?),
        }
    }

    async fn event(&self, kind: EventKind, message: String, account: &AccountId, video: &VideoId) {
        let mut event = NewEvent::now(kind, message).for_account(account);
        event.video_id = Some(video.clone());
        app::store::note(self.store.as_ref(), event).await;
    }
}
