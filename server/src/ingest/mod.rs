//! The ingest: one `ffmpeg` per live that pulls the YouTube HLS (or reads `yt-dlp -o -`) and
//! publishes it as FLV to the relay on loopback — copy-remuxed by default, transcoded to a
//! profile when configured. Supervised: restarted with backoff (re-resolving the manifest after
//! a 403/404, since YouTube's manifest URLs expire), its stderr turned into status, and only
//! ever stopped by its own pid.

pub mod command;
pub mod progress;
mod supervise;

use std::sync::Arc;

use app::secrets::Secret;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use command::{PullMode, TranscodeProfile};

use crate::relay::InputStatus;

/// Where the live comes from; asked again for a fresh manifest when the old one stops working.
#[async_trait::async_trait]
pub trait ManifestSource: Send + Sync {
    /// The HLS manifest URL (with `fresh`, resolved anew rather than reused).
    async fn manifest(&self, fresh: bool) -> Result<Url, String>;
    /// The watch page URL (for `yt-dlp`).
    fn watch_url(&self) -> Url;
}

/// Where the ingest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IngestState {
    /// Starting ffmpeg.
    Starting,
    /// ffmpeg runs.
    Running,
    /// ffmpeg exited; waiting before starting it again.
    Restarting,
    /// Stopped on request.
    Stopped,
}

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
    /// Have ffmpeg report its progress (`-progress pipe:1`) and publish what it writes as
    /// [`Ingest::output`]: for when Fanout's relay does not receive the live (Nimble does).
    pub progress: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            yt_dlp: "yt-dlp".into(),
            mode: PullMode::Hls,
            profile: TranscodeProfile::Copy,
            progress: false,
        }
    }
}

/// A running ingest. Dropping it does not stop it: call [`Ingest::stop`].
pub struct Ingest {
    stop: CancellationToken,
    status: watch::Receiver<IngestStatus>,
    output: watch::Receiver<InputStatus>,
}

impl Ingest {
    /// Starts pulling from `source` into the relay at `relay_url`.
    pub fn start(config: IngestConfig, source: Arc<dyn ManifestSource>, relay_url: Secret, parent: &CancellationToken) -> Self {
        let stop = parent.child_token();
        let (status, receiver) =
            watch::channel(IngestStatus { state: IngestState::Starting, restarts: 0, last_error: None });
        let (output, output_receiver) = watch::channel(InputStatus::default());
        tokio::spawn(supervise::run(config, source, relay_url, status, output, stop.clone()));
        Self { stop, status: receiver, output: output_receiver }
    }

    /// Watches its status.
    pub fn status(&self) -> watch::Receiver<IngestStatus> {
        self.status.clone()
    }

    /// What ffmpeg has written to its output, from its progress report (with
    /// [`IngestConfig::progress`]; otherwise it stays empty).
    pub fn output(&self) -> watch::Receiver<InputStatus> {
        self.output.clone()
    }

    /// Stops ffmpeg (and yt-dlp) by pid.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
