//! Resolving a live's stream for the ingest. By default yt-dlp resolves it (it solves YouTube's
//! challenges and picks a client that works); the manifest the `/live` page gives is tried
//! first only when the operator asks for that fast path, and is the only way in `hls` mode.
//! The URL is kept until the ingest asks for a fresh one (it expired, it was refused, or it is
//! about to expire). A page that says the live is over ends the search: not a fault.

use std::sync::Arc;

use app::model::{SourceProblem, SourceProblemNote};
use tokio::sync::Mutex;
use url::Url;

use super::detect::{Observation, look};
use super::ytdlp::{YtDlp, YtDlpError};
use crate::ingest::{Feeder, ManifestSource, ResolveError};

/// How a live's stream is found.
#[derive(Debug, Clone)]
pub enum Resolver {
    /// The page's manifest only.
    Page,
    /// yt-dlp, after the page's manifest when `page_first`.
    YtDlp {
        /// yt-dlp and its levers.
        yt_dlp: Arc<YtDlp>,
        /// Whether the page's manifest is tried first.
        page_first: bool,
    },
}

/// A live's stream, as the ingest asks for it.
pub struct LiveStream {
    video_id: String,
    page: Url,
    watch: Url,
    http: reqwest::Client,
    resolver: Resolver,
    current: Mutex<Option<Url>>,
}

impl std::fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The stream's address is signed for this server: not for logs.
        f.debug_struct("LiveStream").field("video_id", &self.video_id).finish_non_exhaustive()
    }
}

impl LiveStream {
    /// The stream of live `video_id`: its channel's `/live` page, its watch page (what yt-dlp is
    /// given), how it is resolved, and the manifest the detection already read, if any (used
    /// first only when the page may be used).
    pub fn new(video_id: &str, page: Url, watch: Url, http: reqwest::Client, resolver: Resolver, manifest: Option<Url>) -> Self {
        let page_allowed = matches!(resolver, Resolver::Page | Resolver::YtDlp { page_first: true, .. });
        let current = Mutex::new(manifest.filter(|_| page_allowed));
        Self { video_id: video_id.to_string(), page, watch, http, resolver, current }
    }

    /// The manifest the page gives now; `Err(Ended)` when the page says this live is over.
    async fn manifest_on_page(&self) -> Result<Result<Url, SourceProblemNote>, ResolveError> {
        match look(&self.http, &self.page).await {
            Ok(Observation::Live(live)) if live.video_id == self.video_id => {
                match live.hls_manifest_url.and_then(|u| Url::parse(&u).ok()) {
                    Some(url) => Ok(Ok(url)),
                    None => Ok(Err(live.refusal.unwrap_or_else(|| SourceProblemNote {
                        problem: SourceProblem::NoManifest,
                        detail: "the /live page gives no HLS manifest to this server".into(),
                    }))),
                }
            }
            Ok(Observation::Ended(ended)) if ended.video_id == self.video_id => Err(ResolveError::Ended),
            Ok(Observation::NotLive(_)) => Err(ResolveError::Ended),
            Ok(Observation::Unreadable(problem)) => Ok(Err(problem)),
            Ok(Observation::Live(_) | Observation::Ended(_)) => {
                Ok(Err(SourceProblemNote { problem: SourceProblem::NoManifest, detail: "the /live page shows another video".into() }))
            }
            Err(refusal) => Ok(Err(SourceProblemNote { problem: SourceProblem::NoManifest, detail: refusal.to_string() })),
        }
    }
}

#[async_trait::async_trait]
impl ManifestSource for LiveStream {
    async fn manifest(&self, fresh: bool) -> Result<Url, ResolveError> {
        let mut current = self.current.lock().await;
        if let (false, Some(url)) = (fresh, current.as_ref()) {
            return Ok(url.clone());
        }
        let (yt_dlp, page_first) = match &self.resolver {
            Resolver::Page => (None, true),
            Resolver::YtDlp { yt_dlp, page_first } => (Some(yt_dlp), *page_first),
        };
        let mut page_problem = None;
        if page_first {
            match self.manifest_on_page().await? {
                Ok(url) => {
                    *current = Some(url.clone());
                    return Ok(url);
                }
                Err(problem) => page_problem = Some(problem),
            }
        }
        let Some(yt_dlp) = yt_dlp else {
            return Err(ResolveError::Refused(
                page_problem.unwrap_or_else(|| SourceProblemNote { problem: SourceProblem::NoManifest, detail: "no manifest".into() }),
            ));
        };
        match yt_dlp.resolve(self.watch.as_str()).await {
            Ok(url) => {
                *current = Some(url.clone());
                Ok(url)
            }
            Err(YtDlpError::Ended) => Err(ResolveError::Ended),
            // yt-dlp cannot tell a live that just ended from a fault ("Unsupported URL", no
            // formats): the channel's page can, and a normal end is not a fault to retry.
            Err(YtDlpError::Refused(problem)) if page_problem.is_some() => Err(ResolveError::Refused(problem)),
            // When yt-dlp only says it failed, the page's own refusal (a bot wall, members
            // only…) names the cause better.
            Err(YtDlpError::Refused(problem)) => match self.manifest_on_page().await {
                Err(ended) => Err(ended),
                Ok(Err(page)) if problem.problem == SourceProblem::ResolverFailed && page.problem != SourceProblem::NoManifest => {
                    Err(ResolveError::Refused(page))
                }
                Ok(_) => Err(ResolveError::Refused(problem)),
            },
        }
    }

    fn feeder(&self) -> Result<Feeder, ResolveError> {
        let Resolver::YtDlp { yt_dlp, .. } = &self.resolver else {
            return Err(ResolveError::Failed("the yt-dlp-pipe pull needs yt-dlp".into()));
        };
        let cookies = yt_dlp.cookies_copy();
        let mut command = crate::child::command(&yt_dlp.program, &[]);
        command.args(yt_dlp.pipe_args(self.watch.as_str(), cookies.as_ref().map(|c| c.path())));
        Ok(Feeder { command, keep: cookies.map(|c| Box::new(c) as Box<dyn std::any::Any + Send>) })
    }
}
