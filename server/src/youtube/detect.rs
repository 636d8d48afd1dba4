//! Watching the channel: its `/live` page is fetched every poll interval (jittered down by up to
//! 20 %, so many Fanouts never poll in step yet a live is seen within one interval), read, and
//! what it says published on a `watch` channel.
//! YouTube's refusals (429, 5xx) and network errors back the polling off, doubling up to five
//! minutes; an unreadable page is reported as such, never as "no live".

use std::time::Duration;

use app::channels::YoutubeChannel;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::page::{EndedLive, LiveNow, LivePage, ScheduledLive, parse_live_page};

/// The longest wait between polls while YouTube refuses.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A browser's user agent: YouTube serves its full page to browsers.
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// What the latest poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Live now.
    Live(LiveNow),
    /// Not live (perhaps a live is scheduled).
    NotLive(Option<ScheduledLive>),
    /// The page shows an ended live.
    Ended(EndedLive),
    /// The page could not be read (the reason, for an event).
    Unreadable(String),
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

/// The HTTP client YouTube pages are fetched with (a browser's agent, English, consent given).
pub fn youtube_client() -> Result<reqwest::Client, reqwest::Error> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("en-US,en;q=0.9"));
    // The consent cookie YouTube sets once a visitor has chosen: no interstitial.
    headers.insert(reqwest::header::COOKIE, reqwest::header::HeaderValue::from_static("SOCS=CAI; CONSENT=YES+cb"));
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
}

/// Fetches and reads the `/live` page once.
pub async fn look(http: &reqwest::Client, page: &Url) -> Result<Observation, Refusal> {
    let response = http.get(page.clone()).send().await.map_err(|e| Refusal::Network(e.without_url().to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Refusal::Status(status.as_u16()));
    }
    if !status.is_success() {
        return Ok(Observation::Unreadable(format!("YouTube answered {status} for the /live page")));
    }
    let html = response.text().await.map_err(|e| Refusal::Network(e.without_url().to_string()))?;
    Ok(match parse_live_page(&html) {
        Ok(page) => page.into(),
        Err(error) => Observation::Unreadable(error.to_string()),
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
}

fn jittered(period: Duration) -> Duration {
    period.mul_f64(0.8 + rand::random::<f64>() * 0.2)
}

/// Polls until `stop`, publishing each observation (`None` before the first).
pub fn spawn(config: DetectorConfig, http: reqwest::Client, stop: CancellationToken) -> watch::Receiver<Option<Observation>> {
    let (sender, receiver) = watch::channel(None);
    tokio::spawn(async move {
        let page = config.live_page();
        tracing::info!(page = %page, every = ?config.poll, "watching the channel's /live page");
        let mut backoff = config.poll;
        loop {
            match look(&http, &page).await {
                Ok(observation) => {
                    backoff = config.poll;
                    sender.send_if_modified(|last| {
                        let changed = last.as_ref() != Some(&observation);
                        *last = Some(observation);
                        changed
                    });
                }
                Err(refusal) => {
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    tracing::warn!(wait = ?backoff, "polling the /live page: {refusal}");
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
    fn the_live_page_is_under_the_channels_path() {
        let config = |base: &str| DetectorConfig {
            base: Url::parse(base).unwrap_or_else(|e| panic!("{e}")),
            channel: YoutubeChannel::Handle("SriNithyananda".into()),
            poll: Duration::from_secs(15),
        };
        assert_eq!(config("https://www.youtube.com").live_page().as_str(), "https://www.youtube.com/@SriNithyananda/live");
        assert_eq!(config("http://127.0.0.1:9/yt/").live_page().as_str(), "http://127.0.0.1:9/yt/@SriNithyananda/live");
    }

    #[test]
    fn jitter_never_makes_a_poll_later_than_its_interval() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(15)).as_secs_f64();
            assert!((12.0..=15.0).contains(&wait), "{wait}");
        }
    }
}
