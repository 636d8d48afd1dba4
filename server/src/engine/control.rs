//! What an admin can ask of the engine from the dashboard — stop or start restreaming the
//! current live, reconnect one destination, set the titles again — carried to the engine (and
//! on to the live's task) as requests with a reply; and the settings that outlive a live:
//! the transcode profile for the next live and the live an admin stopped (kept stopped across
//! a restart).

use app::model::DestinationId;
use app::store::{SharedStore, StoreError, VideoId};
use tokio::sync::{mpsc, oneshot};

use crate::ingest::TranscodeProfile;

/// Where the transcode profile chosen for the next live is kept.
const PROFILE_META: &str = app::admin::TRANSCODE_PROFILE_META;
/// Where the live an admin stopped is kept.
const HELD_META: &str = "held_live";

/// An admin's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Stop restreaming the current live; it stays stopped until started again.
    Stop,
    /// Restream the channel's current live again.
    Start,
    /// Reconnect a destination now, or prepare a failed one again.
    Retry(DestinationId),
    /// Set the titles of every streamed account's channels again.
    Retitle,
}

/// Why a request could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// Nothing is being restreamed.
    #[error("nothing is being restreamed right now")]
    NotRestreaming,
    /// A live is already being restreamed.
    #[error("the live is already being restreamed")]
    AlreadyRestreaming,
    /// The channel is not live.
    #[error("the channel is not live right now")]
    NoLive,
    /// No destination of the live has that id.
    #[error("the live has no such destination")]
    UnknownDestination,
    /// Titles need a Restream app.
    #[error("no Restream app is configured")]
    NoRestream,
    /// The engine is not running (stopping, or no channel watched).
    #[error("the engine is not running")]
    EngineGone,
}

/// A request on its way, with where the answer goes.
#[derive(Debug)]
pub struct Request {
    /// What is asked.
    pub control: Control,
    /// The admin asking (named in the event).
    pub by: String,
    /// Where the outcome goes: what was done, in words.
    pub reply: oneshot::Sender<Result<String, ControlError>>,
}

impl Request {
    /// Answers the request (the asker may have gone: nothing to do then).
    pub fn answer(self, outcome: Result<String, ControlError>) {
        let _ = self.reply.send(outcome);
    }
}

/// Sends a request and waits for its answer.
pub async fn ask(to: &mpsc::Sender<Request>, control: Control, by: &str) -> Result<String, ControlError> {
    let (reply, answer) = oneshot::channel();
    to.send(Request { control, by: by.to_string(), reply }).await.map_err(|_| ControlError::EngineGone)?;
    answer.await.unwrap_or(Err(ControlError::EngineGone))
}

/// The transcode profile for the next live: the admin's choice, else `configured`.
pub async fn next_profile(store: &SharedStore, configured: TranscodeProfile) -> TranscodeProfile {
    match store.meta(PROFILE_META).await {
        Ok(Some(bytes)) => std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()).unwrap_or(configured),
        Ok(None) => configured,
        Err(error) => {
            tracing::warn!(%error, "cannot read the chosen transcode profile; using the configured one");
            configured
        }
    }
}

/// Chooses the profile for the next live.
pub async fn choose_profile(store: &SharedStore, profile: TranscodeProfile) -> Result<(), StoreError> {
    store.set_meta(PROFILE_META, Some(profile.to_string().as_bytes())).await
}

/// The live an admin stopped, if any.
pub async fn held_live(store: &SharedStore) -> Option<VideoId> {
    match store.meta(HELD_META).await {
        Ok(bytes) => bytes.and_then(|b| String::from_utf8(b).ok()).map(VideoId),
        Err(error) => {
            tracing::warn!(%error, "cannot read whether a live was stopped by an admin");
            None
        }
    }
}

/// Keeps (or, with `None`, forgets) the live an admin stopped.
pub async fn hold_live(store: &SharedStore, video: Option<&VideoId>) {
    if let Err(error) = store.set_meta(HELD_META, video.map(|v| v.0.as_bytes())).await {
        tracing::warn!(%error, "cannot store which live an admin stopped");
    }
}
