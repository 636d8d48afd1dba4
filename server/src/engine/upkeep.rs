//! Keeps the source's tools current between lives: with `FANOUT_YT_DLP_AUTO_UPDATE`, yt-dlp is
//! updated soon after start and then once a day — only while no live runs (an update that falls
//! due during a live waits for its end, so a live never sees its resolver change under it). Each
//! update that changes the version, and each that fails, is an event.

use std::sync::Arc;
use std::time::Duration;

use app::model::EventKind;
use tokio::time::Instant;

use super::EngineParts;
use super::live::SourceSetup;
use crate::youtube::resolve::Resolver;
use crate::youtube::ytdlp::YtDlp;

/// The first update, after start (the first look at the channel has been made by then).
const FIRST_AFTER: Duration = Duration::from_secs(30);
/// Then one a day.
const EVERY: Duration = Duration::from_secs(24 * 3600);

/// When yt-dlp is next updated.
#[derive(Debug)]
pub(super) struct Upkeep {
    yt_dlp: Arc<YtDlp>,
    next: Instant,
}

impl Upkeep {
    /// The schedule, when updates are on and the source uses yt-dlp.
    pub(super) fn new(source: &SourceSetup) -> Option<Self> {
        match &source.resolver {
            Resolver::YtDlp { yt_dlp, .. } if source.yt_dlp_auto_update => {
                Some(Self { yt_dlp: Arc::clone(yt_dlp), next: Instant::now() + FIRST_AFTER })
            }
            _ => None,
        }
    }

    /// Starts the update that is due (in the background: it may take minutes) and schedules the
    /// next.
    pub(super) fn start(&mut self, parts: &Arc<EngineParts>) {
        self.next = Instant::now() + EVERY;
        tokio::spawn(update(Arc::clone(parts), Arc::clone(&self.yt_dlp)));
    }
}

/// Resolves when an update is due — never while a live runs, nor without a schedule.
pub(super) async fn due(upkeep: Option<&Upkeep>, live_running: bool) {
    match upkeep {
        Some(upkeep) if !live_running => tokio::time::sleep_until(upkeep.next).await,
        _ => std::future::pending().await,
    }
}

async fn update(parts: Arc<EngineParts>, yt_dlp: Arc<YtDlp>) {
    let before = yt_dlp.version().await.unwrap_or_else(|_| "an unknown version".into());
    match yt_dlp.update().await {
        Ok(said) => {
            let after = yt_dlp.version().await.unwrap_or_else(|_| "an unknown version".into());
            if after == before {
                tracing::info!(version = %after, %said, "yt-dlp is up to date");
            } else {
                tracing::info!(%before, %after, "yt-dlp updated");
                super::record(&parts, EventKind::ToolUpdated, format!("yt-dlp updated from {before} to {after}, between lives")).await;
            }
        }
        Err(error) => {
            tracing::warn!(%error, "yt-dlp could not be updated");
            let message = format!("yt-dlp could not be updated ({error}); {before} stays in use — update it by hand (README, YouTube)");
            super::record(&parts, EventKind::ToolUpdated, message).await;
        }
    }
}
