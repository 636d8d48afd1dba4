//! The ingest: one `ffmpeg` per live that pulls the YouTube HLS (or reads `yt-dlp -o -`) and
//! writes it as FLV on a pipe into the relay's input — copy-remuxed by default, transcoded to a
//! profile when configured. Supervised: restarted with backoff (re-resolving the manifest after
//! a 403/404, since YouTube's manifest URLs expire), restarted with a fresh stream when the
//! engine asks (its input stalled), its stderr turned into status, and only ever stopped by its
//! own process group.

pub mod command;
mod supervise;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use command::{PullMode, TranscodeProfile};

use crate::relay::Input;

/// Why no manifest could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The live is over (the page says so): not a fault.
    #[error("the live has ended")]
    Ended,
    /// It could not be resolved now.
    #[error("{0}")]
    Failed(String),
}

/// Where the live comes from; asked again for a fresh manifest when the old one stops working.
#[async_trait::async_trait]
pub trait ManifestSource: Send + Sync {
    /// The HLS manifest URL (with `fresh`, resolved anew rather than reused).
    async fn manifest(&self, fresh: bool) -> Result<Url, ResolveError>;
    /// The watch page URL (for `yt-dlp`).
    fn watch_url(&self) -> Url;
}

pub use app::model::IngestState;

/// The ingest's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestStatus {
    /// Its state.
    pub state: IngestState,
    /// How many times ffmpeg was restarted.
    pub restarts: u32,
    /// The last error ffmpeg reported (URLs with tokens are cut out).
    pub last_error: Option<String>,
}

/// How the ingest runs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The `ffmpeg` program.
    pub ffmpeg: String,
    /// The `yt-dlp` program.
    pub yt_dlp: String,
    /// HLS through ffmpeg, or `yt-dlp -o -` piped into ffmpeg.
    pub mode: PullMode,
    /// Copy, or transcode to a profile.
    pub profile: TranscodeProfile,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { ffmpeg: "ffmpeg".into(), yt_dlp: "yt-dlp".into(), mode: PullMode::Hls, profile: TranscodeProfile::Copy }
    }
}

/// A running ingest. Dropping it does not stop it: call [`Ingest::stop`].
#[derive(Debug)]
pub struct Ingest {
    stop: CancellationToken,
    restart: Arc<Notify>,
    status: watch::Receiver<IngestStatus>,
}

impl Ingest {
    /// Starts pulling from `source` into the relay's `input`.
    pub fn start(config: IngestConfig, source: Arc<dyn ManifestSource>, input: Arc<Input>, parent: &CancellationToken) -> Self {
        let stop = parent.child_token();
        let restart = Arc::new(Notify::new());
        let (status, receiver) = watch::channel(IngestStatus { state: IngestState::Starting, restarts: 0, last_error: None });
        tokio::spawn(supervise::run(config, source, input, status, Arc::clone(&restart), stop.clone()));
        Self { stop, restart, status: receiver }
    }

    /// Watches its status.
    pub fn status(&self) -> watch::Receiver<IngestStatus> {
        self.status.clone()
    }

    /// Ends the current run (if any) and starts again at once with a freshly resolved stream.
    pub fn restart(&self) {
        self.restart.notify_one();
    }

    /// Stops ffmpeg (and yt-dlp), as process groups.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
