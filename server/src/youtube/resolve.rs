//! Resolving a live's stream for the ingest: the HLS manifest the `/live` page gave, until it
//! stops working; then a fresh one from the page again, and `yt-dlp -g` when the page has none.

use std::process::Stdio;
use std::time::Duration;

use tokio::sync::Mutex;
use url::Url;

use super::detect::{Observation, look};
use super::page::watch_url;
use crate::ingest::{ManifestSource, ResolveError};

/// A live's stream, as the ingest asks for it.
pub struct LiveStream {
    video_id: String,
    page: Url,
    http: reqwest::Client,
    yt_dlp: String,
    current: Mutex<Option<Url>>,
}

impl std::fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The stream's address is signed for this server: not for logs.
        f.debug_struct("LiveStream").field("video_id", &self.video_id).finish_non_exhaustive()
    }
}

impl LiveStream {
    /// The stream of live `video_id`, found on `page` (the channel's `/live` page), with the
    /// manifest the detection already read, if any.
    pub fn new(video_id: &str, page: Url, http: reqwest::Client, yt_dlp: &str, manifest: Option<Url>) -> Self {
        Self { video_id: video_id.to_string(), page, http, yt_dlp: yt_dlp.to_string(), current: Mutex::new(manifest) }
    }

    /// The manifest the page gives now; `Err(Ended)` when the page says this live is over.
    async fn manifest_on_page(&self) -> Result<Option<Url>, ResolveError> {
        match look(&self.http, &self.page).await {
            Ok(Observation::Live(live)) if live.video_id == self.video_id => Ok(live.hls_manifest_url.and_then(|u| Url::parse(&u).ok())),
            Ok(Observation::Ended(ended)) if ended.video_id == self.video_id => Err(ResolveError::Ended),
            Ok(Observation::NotLive(_)) => Err(ResolveError::Ended),
            _ => Ok(None),
        }
    }

    async fn manifest_from_yt_dlp(&self) -> Result<Url, String> {
        let mut command = crate::child::command(&self.yt_dlp, &[]);
        command.args(["--quiet", "--no-warnings", "-g", "-f", "best", &watch_url(&self.video_id)]).stdin(Stdio::null());
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .map_err(|_| "yt-dlp did not answer within 60 s".to_string())?
            .map_err(|e| format!("cannot run yt-dlp: {e}"))?;
        if !output.status.success() {
            return Err(format!("yt-dlp could not resolve the live ({})", output.status));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let first = stdout.lines().next().unwrap_or_default().trim();
        Url::parse(first).map_err(|_| "yt-dlp printed no stream URL".to_string())
    }
}

#[async_trait::async_trait]
impl ManifestSource for LiveStream {
    async fn manifest(&self, fresh: bool) -> Result<Url, ResolveError> {
        let mut current = self.current.lock().await;
        if let (false, Some(url)) = (fresh, current.as_ref()) {
            return Ok(url.clone());
        }
        let url = match self.manifest_on_page().await? {
            Some(url) => url,
            None => self.manifest_from_yt_dlp().await.map_err(ResolveError::Failed)?,
        };
        *current = Some(url.clone());
        Ok(url)
    }

    fn watch_url(&self) -> Url {
        Url::parse(&watch_url(&self.video_id)).unwrap_or_else(|_| self.page.clone())
    }
}
