//! The ingest: one `ffmpeg` per live that pulls the live's HLS (the manifest its source
//! resolves — through yt-dlp by default) or reads what a feeder pipes to it (`yt-dlp -o -`),
//! and writes it as FLV on a pipe into the relay's input — copy-remuxed by default, transcoded
//! to a profile when configured. Supervised: before the manifest's URL expires, a second pull
//! on a fresh one stands by and takes over at a keyframe (make-before-break: the destinations
//! see no gap); restarted with backoff (re-resolving at once after a 403/404); restarted with
//! a fresh stream when the engine asks (its input stalled); its stderr turned into status; only
//! ever stopped by its own process group.

pub mod command;
mod pull;
mod supervise;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use command::{PullMode, TranscodeProfile};
pub use pull::expires_at;

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
    /// YouTube (or yt-dlp) refused, for a reason the operator can act on.
    #[error("{}", .0.message())]
    Refused(app::model::SourceProblemNote),
}

/// Where the live comes from; asked again for a fresh manifest when the old one stops working
/// (or is about to expire).
#[async_trait::async_trait]
pub trait ManifestSource: Send + Sync {
    /// The HLS manifest URL (with `fresh`, resolved anew rather than reused).
    async fn manifest(&self, fresh: bool) -> Result<Url, ResolveError>;
    /// A program that writes the live's media to its standard output, for a pull through a
    /// pipe (`yt-dlp -o -`).
    fn feeder(&self) -> Result<Feeder, ResolveError> {
        Err(ResolveError::Failed("this source cannot be piped".into()))
    }
}

/// A program writing the live to its standard output, and what must live as long as it runs
/// (a private copy of a cookies file, say).
pub struct Feeder {
    /// The command (its standard output is taken by the ingest).
    pub command: tokio::process::Command,
    /// Kept until the program is stopped.
    pub keep: Option<Box<dyn std::any::Any + Send>>,
}

impl std::fmt::Debug for Feeder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feeder").finish_non_exhaustive()
    }
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
    /// What stands in the way of the stream, while something does.
    pub problem: Option<app::model::SourceProblemNote>,
}

/// How the ingest runs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The `ffmpeg` program.
    pub ffmpeg: String,
    /// ffmpeg reads the manifest the source resolves, or the media a feeder pipes to it.
    pub mode: PullMode,
    /// Copy, or transcode to a profile.
    pub profile: TranscodeProfile,
    /// The HTTP proxy ffmpeg fetches through (as a child may be given it: no password).
    pub proxy: Option<Url>,
    /// When another source (a pushed stream) may feed the relay too: the pull stands by and
    /// takes the input over at a keyframe once it has been quiet this long (at once when free).
    pub backup_after: Option<std::time::Duration>,
    /// Whether a silent audio track is added (switched on by the engine for a source without
    /// audio when `FANOUT_ADD_SILENT_AUDIO` is set; from the next pull on).
    pub silent_audio: SilentAudio,
}

/// A switch shared by the engine and the ingest: add a silent audio track from the next pull on.
#[derive(Debug, Clone, Default)]
pub struct SilentAudio(Arc<std::sync::atomic::AtomicBool>);

impl SilentAudio {
    /// Whether the track is added.
    pub fn is_on(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Adds it from the next pull on; `false` if it was on already.
    pub fn switch_on(&self) -> bool {
        !self.0.swap(true, std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            mode: PullMode::YtDlp,
            profile: TranscodeProfile::Copy,
            proxy: None,
            backup_after: None,
            silent_audio: SilentAudio::default(),
        }
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
        let (status, receiver) =
            watch::channel(IngestStatus { state: IngestState::Starting, restarts: 0, last_error: None, problem: None });
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
