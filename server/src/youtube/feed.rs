//! Keyless detection that spares the `/live` page: [`FeedLook`] reads the channel's public Atom
//! feed (`/feeds/videos.xml?channel_id=UC…`, its newest ~15 videos, lives and scheduled lives
//! among them — a small XML document) on every poll, and fetches the `/live` page (with the
//! consent cookie, through the same client: cookies, proxy) only when the feed or the clock
//! says it is worth it. It owns that rule ([`plan`], pure: the I/O is apart), what the rule
//! remembers ([`Memory`]: the channel's id, the video ids seen, the last page look) and the
//! feed's reading ([`atom`]). The page is fetched on a poll when ([`Why`], checked in order):
//!
//! 1. it has never been looked at (the first look; for a channel set by its `@handle`, the page
//!    also gives the `UC…` id the feed needs, cached from then on);
//! 2. a live is on — every poll, so its end is seen as soon as with the page alone, its title
//!    and manifest stay current, and the feed is not read meanwhile;
//! 3. the last look found something the look before did not: a second look confirms it, so
//!    what the engine takes as confirmed ([`Seen`](super::detect::Seen): two looks in a row,
//!    what ends a live) is always two real page looks, never a repeat of one;
//! 4. the page was unreadable (a bot wall, a consent page, a changed layout): every poll, as
//!    with the page alone;
//! 5. the feed could not be read (404, a 5xx, the network, not a feed, over 1 MiB) or its
//!    channel id is not known yet: the page at the normal cadence, never a silent "no live";
//! 6. the feed lists a video id not seen before (a live, or a new upload, may have started);
//! 7. a scheduled live's start (the page's `scheduledStartTime`) is 5 minutes ahead to 30
//!    minutes behind ([`FeedTiming`]);
//! 8. the page has not been looked at for 5 minutes, the backstop: a feed can lag.
//!
//! Otherwise the poll costs the feed alone, and the look repeats what the last page look found.
//! A 429 on the feed backs off like one on the page (YouTube asks this address to slow down;
//! the page is on the same host); the page's refusals back off as ever ([`Refusal`]).

pub mod atom;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use app::channels::YoutubeChannel;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use url::Url;

use self::atom::{AtomError, Feed};
use super::detect::{Look, Observation, Refusal};
use super::page::{ScheduledLive, is_channel_id};

/// The most of a feed read (fifteen entries with their descriptions are some tens of KiB).
pub const MAX_FEED: usize = 1024 * 1024;

/// How the feed look spaces its page looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedTiming {
    /// The longest the page goes unseen when nothing else calls for it.
    pub backstop: Duration,
    /// How long before a scheduled live's start the page is looked at every poll.
    pub before_start: Duration,
    /// How long after that start it still is (lives start late).
    pub after_start: Duration,
}

impl Default for FeedTiming {
    fn default() -> Self {
        Self { backstop: Duration::from_secs(300), before_start: Duration::from_secs(300), after_start: Duration::from_secs(1800) }
    }
}

/// Why the channel's feed could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// YouTube answered something else than 200.
    #[error("YouTube answered {0} for the channel's feed")]
    Status(u16),
    /// The network failed.
    #[error("could not fetch the channel's feed: {0}")]
    Network(String),
    /// The answer is larger than a feed ever is.
    #[error("the channel's feed is over {} KiB", MAX_FEED / 1024)]
    TooLarge,
    /// The answer is not a feed Fanout can read.
    #[error("cannot read the channel's feed: {0}")]
    Unreadable(#[from] AtomError),
}

/// Why the `/live` page is looked at on a poll (see the module's doc for the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It never has been.
    First,
    /// A live is on.
    LiveOn,
    /// The last look found something new: a second look confirms it.
    Unconfirmed,
    /// The last look could not read it.
    Unreadable,
    /// The feed was not read: the channel's id is not known yet.
    NoFeed,
    /// The feed could not be read.
    FeedFailed,
    /// The feed lists a video not seen before.
    NewVideo,
    /// A scheduled live starts about now.
    NearStart,
    /// It has not been looked at for the backstop's time.
    Backstop,
}

/// What the feed gave on this poll, as the rule sees it.
#[derive(Debug, Clone, Copy)]
pub enum FeedRead<'a> {
    /// It was not read (a live is on, or the channel's id is not known yet).
    Skipped,
    /// It was asked for and could not be read.
    Failed,
    /// These video ids, newest first.
    Listed(&'a [String]),
}

/// The last look at the page.
#[derive(Debug, Clone, PartialEq)]
struct PageSeen {
    at: Instant,
    observation: Observation,
}

/// What the feed look remembers between polls: all the rule decides from, besides the clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// The channel's `UC…` id: configured, or read from its `/live` page.
    channel_id: Option<String>,
    /// The videos seen (listed by the feed, or shown by the page) as of the last page look;
    /// `None` until the feed was read at a page look.
    known: Option<HashSet<String>>,
    /// The last page look.
    last: Option<PageSeen>,
    /// Whether the page look before the last one found the same.
    confirmed: bool,
    /// The feed's problem last reported (it is logged once, not every poll).
    feed_problem: Option<String>,
}

impl Memory {
    /// What is known before the first look: the channel's id when it is configured as one.
    pub fn new(channel: &YoutubeChannel) -> Self {
        let channel_id = match channel {
            YoutubeChannel::Id(id) if is_channel_id(id) => Some(id.clone()),
            _ => None,
        };
        Self { channel_id, ..Self::default() }
    }

    /// Whether the feed is read on this poll: its channel id is known and no live is on (then
    /// the page is looked at anyway, and says more).
    pub fn feed_wanted(&self) -> bool {
        self.channel_id.is_some() && !self.live_on()
    }

    fn live_on(&self) -> bool {
        self.last.as_ref().is_some_and(|last| matches!(last.observation, Observation::Live(_)))
    }

    /// After a page look at `at` that found `observation` (and named `channel_id`), with what
    /// the feed listed on the same poll, if it was read.
    pub fn after_page(&mut self, at: Instant, observation: Observation, channel_id: Option<String>, listed: Option<&[String]>) {
        self.confirmed = self.last.as_ref().is_some_and(|last| last.observation == observation);
        if self.channel_id.is_none() {
            let from_live = match &observation {
                Observation::Live(live) => Some(live.channel_id.clone()),
                _ => None,
            };
            self.channel_id = channel_id.filter(|id| is_channel_id(id)).or(from_live.filter(|id| is_channel_id(id)));
            if let Some(id) = &self.channel_id {
                tracing::info!(channel_id = %id, "the channel's id, from its /live page: its feed is read from now on");
            }
        }
        if let Some(ids) = listed {
            self.known = Some(ids.iter().cloned().collect());
        }
        if let Some(id) = video_of(&observation) {
            self.known.get_or_insert_default().insert(id.to_string());
        }
        self.last = Some(PageSeen { at, observation });
    }
}

/// The video an observation names.
fn video_of(observation: &Observation) -> Option<&str> {
    match observation {
        Observation::Live(live) => Some(&live.video_id),
        Observation::NotLive(Some(scheduled)) => Some(&scheduled.video_id),
        Observation::Ended(ended) => Some(&ended.video_id),
        Observation::NotLive(None) | Observation::Unreadable(_) => None,
    }
}

/// The rule: whether this poll looks at the `/live` page, and why — from what is remembered,
/// what the feed gave, the monotonic clock (`now`) and the wall clock (`wall`, for a scheduled
/// start). `None`: the feed was enough, the last page look stands.
pub fn plan(memory: &Memory, feed: FeedRead<'_>, now: Instant, wall: OffsetDateTime, timing: &FeedTiming) -> Option<Why> {
    let Some(last) = &memory.last else { return Some(Why::First) };
    if memory.live_on() {
        return Some(Why::LiveOn);
    }
    if !memory.confirmed {
        return Some(Why::Unconfirmed);
    }
    if matches!(last.observation, Observation::Unreadable(_)) {
        return Some(Why::Unreadable);
    }
    match feed {
        FeedRead::Skipped => return Some(Why::NoFeed),
        FeedRead::Failed => return Some(Why::FeedFailed),
        FeedRead::Listed(ids) if ids.iter().any(|id| !memory.known.as_ref().is_some_and(|known| known.contains(id))) => {
            return Some(Why::NewVideo);
        }
        FeedRead::Listed(_) => {}
    }
    if let Observation::NotLive(Some(ScheduledLive { scheduled_start: Some(start), .. })) = &last.observation {
        // How far ahead the start is (negative once past); date differences never overflow.
        let ahead = *start - wall;
        let before = time::Duration::try_from(timing.before_start).unwrap_or(time::Duration::MAX);
        let after = time::Duration::try_from(timing.after_start).unwrap_or(time::Duration::MAX);
        if ahead <= before && ahead >= -after {
            return Some(Why::NearStart);
        }
    }
    (now.saturating_duration_since(last.at) >= timing.backstop).then_some(Why::Backstop)
}

/// The feed of the channel `channel_id` under YouTube's `base`.
pub fn feed_url(base: &Url, channel_id: &str) -> Url {
    let mut url = base.clone();
    let path = format!("{}/feeds/videos.xml", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut().clear().append_pair("channel_id", channel_id);
    url
}

/// Fetches and reads the feed once: bounded to [`MAX_FEED`], decoded lossily.
pub async fn fetch_feed(http: &reqwest::Client, url: &Url) -> Result<Feed, FeedError> {
    let response = http.get(url.clone()).send().await.map_err(|e| FeedError::Network(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FeedError::Status(status.as_u16()));
    }
    let body = super::client::bounded_body(response, MAX_FEED).await.map_err(|error| match error {
        super::client::BodyError::Network(error) => FeedError::Network(error),
        super::client::BodyError::TooLarge(_) => FeedError::TooLarge,
    })?;
    Ok(atom::parse_feed(&String::from_utf8_lossy(&body))?)
}

/// Looking at the channel through its feed, and its `/live` page when [`plan`] says so.
pub struct FeedLook {
    http: reqwest::Client,
    base: Url,
    timing: FeedTiming,
    memory: Mutex<Memory>,
}

impl std::fmt::Debug for FeedLook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its feed, and its /live page for a new video, while a live is on, around a scheduled start and every {} s",
            self.timing.backstop.as_secs()
        )
    }
}

impl FeedLook {
    /// A feed look at `channel` on YouTube at `base`, with the pages' client.
    pub fn new(http: reqwest::Client, base: Url, channel: &YoutubeChannel) -> Self {
        Self { http, base, timing: FeedTiming::default(), memory: Mutex::new(Memory::new(channel)) }
    }

    /// The same with other timing (tests scale time down).
    pub fn with_timing(self, timing: FeedTiming) -> Self {
        Self { timing, ..self }
    }

    /// One look: the feed, then the `/live` page at `page` if the rule asks for it.
    pub async fn look_now(&self, page: &Url) -> Result<Observation, Refusal> {
        let mut memory = self.memory.lock().await;
        let feed = match memory.channel_id.clone().filter(|_| memory.feed_wanted()) {
            Some(id) => Some(self.read_feed(&mut memory, &id).await?),
            None => None,
        };
        let listed = feed.as_ref().and_then(|feed| feed.as_ref().ok());
        let read = match (&feed, listed) {
            (_, Some(ids)) => FeedRead::Listed(ids),
            (Some(_), None) => FeedRead::Failed,
            (None, _) => FeedRead::Skipped,
        };
        let now = Instant::now();
        let why = plan(&memory, read, now, OffsetDateTime::now_utc(), &self.timing);
        if let (None, Some(last)) = (why, memory.last.as_ref()) {
            return Ok(last.observation.clone());
        }
        tracing::debug!(?why, "looking at the /live page");
        let (observation, channel_id) = super::detect::read(&self.http, page).await?;
        let listed = listed.cloned();
        memory.after_page(now, observation.clone(), channel_id, listed.as_deref());
        Ok(observation)
    }

    /// The feed's video ids, or why it could not be used; a 429 is a refusal (backed off).
    async fn read_feed(&self, memory: &mut Memory, channel_id: &str) -> Result<Result<Vec<String>, FeedError>, Refusal> {
        match fetch_feed(&self.http, &feed_url(&self.base, channel_id)).await {
            Ok(feed) => {
                if memory.feed_problem.take().is_some() {
                    tracing::info!("the channel's feed reads again");
                }
                Ok(Ok(feed.video_ids()))
            }
            Err(FeedError::Status(429)) => Err(Refusal::Status(429)),
            Err(error) => {
                let problem = error.to_string();
                if memory.feed_problem.as_ref() != Some(&problem) {
                    tracing::warn!("{problem}: the /live page is looked at every poll meanwhile");
                    memory.feed_problem = Some(problem);
                }
                Ok(Err(error))
            }
        }
    }
}

#[async_trait::async_trait]
impl Look for FeedLook {
    async fn look(&self, page: &Url) -> Result<Observation, Refusal> {
        self.look_now(page).await
    }
}

#[cfg(test)]
mod tests;
