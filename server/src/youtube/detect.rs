//! Watching the channel: every poll interval (jittered down by up to 20 %, so many Fanouts never
//! poll in step yet a live is seen within one interval) a [`Look`] at it — its public feed with
//! the `/live` page when the feed says it is worth it (`feed::FeedLook`, the default), the
//! `/live` page alone ([`PageLook`]), or the Data API (`data_api::DataApi`) — and what it says
//! published on a `watch` channel.
//! YouTube's refusals (429, 5xx) and network errors back the polling off, doubling up to five
//! minutes; an unreadable page is reported as such, never as "no live".

use std::time::Duration;

use app::channels::YoutubeChannel;
use app::model::{SourceProblem, SourceProblemNote};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::page::{EndedLive, LiveNow, LivePage, ScheduledLive, read_live_page};

/// The longest wait between polls while YouTube refuses.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What the latest poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Live now.
    Live(LiveNow),
    /// Not live (perhaps a live is scheduled).
    NotLive(Option<ScheduledLive>),
    /// The page shows an ended live.
    Ended(EndedLive),
    /// The page could not be read (what stood in the way, for the banner and the event).
    Unreadable(SourceProblemNote),
}

impl From<LivePage> for Observation {
    fn from(page: LivePage) -> Self {
        match page {
            LivePage::Live(live) => Self::Live(live),
            LivePage::Upcoming(scheduled) => Self::NotLive(Some(scheduled)),
            LivePage::Ended(ended) => Self::Ended(ended),
            LivePage::NoLive => Self::NotLive(None),
        }
    }
}

/// Where and how often to look.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// YouTube's base URL (a stand-in's in tests).
    pub base: Url,
    /// The watched channel.
    pub channel: YoutubeChannel,
    /// The poll interval.
    pub poll: Duration,
}

impl DetectorConfig {
    /// The `/live` page's URL.
    pub fn live_page(&self) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}{}", url.path().trim_end_matches('/'), self.channel.live_path());
        url.set_path(&path);
        url
    }
}

/// The watch page of a video under YouTube's `base` (what yt-dlp is given).
pub fn watch_page(base: &Url, video_id: &str) -> Url {
    let mut url = base.clone();
    let path = format!("{}/watch", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut().clear().append_pair("v", video_id);
    url
}

/// The most of a `/live` page read (YouTube's are about 1 MiB).
pub const MAX_PAGE: usize = 8 * 1024 * 1024;

/// Fetches and reads the `/live` page once.
pub async fn look(http: &reqwest::Client, page: &Url) -> Result<Observation, Refusal> {
    read(http, page).await.map(|(observation, _)| observation)
}

/// Fetches and reads the `/live` page once: what it shows, and the channel's `UC…` id when the
/// page names it.
pub async fn read(http: &reqwest::Client, page: &Url) -> Result<(Observation, Option<String>), Refusal> {
    let response = http.get(page.clone()).send().await.map_err(|e| Refusal::Network(e.without_url().to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Refusal::Status(status.as_u16()));
    }
    if !status.is_success() {
        let detail = format!("YouTube answered {status} for the /live page");
        return Ok((Observation::Unreadable(SourceProblemNote { problem: SourceProblem::LayoutChanged, detail }), None));
    }
    let html = match super::client::bounded_body(response, MAX_PAGE).await {
        Ok(body) => String::from_utf8_lossy(&body).into_owned(),
        Err(super::client::BodyError::Network(error)) => return Err(Refusal::Network(error)),
        Err(too_large @ super::client::BodyError::TooLarge(_)) => {
            let detail = format!("YouTube's /live page is {too_large}: not read");
            return Ok((Observation::Unreadable(SourceProblemNote { problem: SourceProblem::LayoutChanged, detail }), None));
        }
    };
    Ok(match read_live_page(&html) {
        Ok(read) => (read.page.into(), read.channel_id),
        Err(error) => (Observation::Unreadable(error.problem()), None),
    })
}

/// Why a poll should back off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 429 or a server error.
    #[error("YouTube answered {0}")]
    Status(u16),
    /// The network failed.
    #[error("could not reach YouTube: {0}")]
    Network(String),
    /// The Data API refused the key or the channel, or answered what Fanout cannot read: it
    /// will not fix itself (the message says what to do).
    #[error("{0}")]
    Api(String),
    /// The Data API key's quota is spent for the day: waited out.
    #[error("{0}")]
    Quota(String),
}

fn jittered(period: Duration) -> Duration {
    period.mul_f64(0.8 + rand::random::<f64>() * 0.2)
}

/// What the channel shows, and whether the last two looks agreed on it — YouTube's word on an
/// end counts only then (one look can be a glitch of the page).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// What the last look found.
    pub observation: Observation,
    /// Whether the look before found the same.
    pub confirmed: bool,
}

impl Seen {
    /// What is seen after a look that found `observation`.
    pub fn after(last: Option<&Seen>, observation: Observation) -> Self {
        let confirmed = last.is_some_and(|last| last.observation == observation);
        Self { observation, confirmed }
    }
}

/// A way to look at the channel: its feed and `/live` page (`feed::FeedLook`), its `/live`
/// page alone ([`PageLook`]) or the Data API (`data_api::DataApi`).
#[async_trait::async_trait]
pub trait Look: Send + Sync + std::fmt::Debug {
    /// One look at the channel (`page` is its `/live` page).
    async fn look(&self, page: &Url) -> Result<Observation, Refusal>;
}

/// Looking at the channel's `/live` page with this client.
#[derive(Clone)]
pub struct PageLook(pub reqwest::Client);

impl std::fmt::Debug for PageLook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("its /live page")
    }
}

#[async_trait::async_trait]
impl Look for PageLook {
    async fn look(&self, page: &Url) -> Result<Observation, Refusal> {
        look(&self.0, page).await
    }
}

/// Looks at the channel every poll (polls until `stop`); the receiver is told when what is seen
/// changes (and once more when a second look confirms it), `None` before the first look.
pub fn spawn(config: DetectorConfig, looker: std::sync::Arc<dyn Look>, stop: CancellationToken) -> watch::Receiver<Option<Seen>> {
    let (sender, receiver) = watch::channel(None);
    tokio::spawn(async move {
        let page = config.live_page();
        tracing::info!(channel = %config.channel, every = ?config.poll, how = ?looker, "watching the channel");
        let mut backoff = config.poll;
        loop {
            match looker.look(&page).await {
                Ok(observation) => {
                    backoff = config.poll;
                    sender.send_if_modified(|last| {
                        let seen = Seen::after(last.as_ref(), observation);
                        let changed = last.as_ref() != Some(&seen);
                        *last = Some(seen);
                        changed
                    });
                }
                Err(refusal) => {
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    tracing::warn!(wait = ?backoff, "looking at the channel: {refusal}");
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(jittered(backoff)) => {}
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_two_looks_in_a_row_agree_on_is_confirmed() {
        let first = Seen::after(None, Observation::NotLive(None));
        assert!(!first.confirmed, "one look");
        let second = Seen::after(Some(&first), Observation::NotLive(None));
        assert!(second.confirmed, "two in a row");
        let problem = Observation::Unreadable(SourceProblemNote { problem: SourceProblem::BotWall, detail: String::new() });
        assert!(!Seen::after(Some(&second), problem).confirmed, "something else: not yet");
        assert_eq!(Seen::after(Some(&second), Observation::NotLive(None)), second, "no change to tell after that");
    }

    #[test]
    fn the_live_page_is_under_the_channels_path() {
        let config = |base: &str| DetectorConfig {
            base: Url::parse(base).unwrap_or_else(|e| panic!("{e}")),
            channel: YoutubeChannel::Handle("SriNithyananda".into()),
            poll: Duration::from_secs(15),
        };
        assert_eq!(config("https://www.youtube.com").live_page().as_str(), "https://www.youtube.com/@SriNithyananda/live");
        assert_eq!(config("http://127.0.0.1:9/yt/").live_page().as_str(), "http://127.0.0.1:9/yt/@SriNithyananda/live");
        assert_eq!(
            watch_page(&config("https://www.youtube.com").base, "Ab3_dE-fGh1").as_str(),
            "https://www.youtube.com/watch?v=Ab3_dE-fGh1"
        );
    }

    #[test]
    fn jitter_never_makes_a_poll_later_than_its_interval() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(15)).as_secs_f64();
            assert!((12.0..=15.0).contains(&wait), "{wait}");
        }
    }
}
