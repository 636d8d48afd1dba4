//! The YouTube stand-in: a channel's `/live` page shaped like YouTube's (see [`pages`]) — live,
//! scheduled, ended, refused (a bot wall, members only), YouTube's consent interstitial, or the
//! channel's home page — the watch page yt-dlp reads, and the live's HLS behind URLs that expire
//! like YouTube's (`…/expire/<unix time>/…`, refused with 403 once past), the channel's public
//! feed ([`feed`]: every video the test has shown, newest first, optionally late) and the Data
//! API ([`data_api`]) answering from the same channel. Tests switch what it shows; each kind of
//! request is counted apart.

pub mod data_api;
pub mod feed;
pub mod pages;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::WorldError;
use crate::loopback::LoopbackServer;

/// What the channel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelShows {
    /// No live: the channel's home page.
    NoLive,
    /// Live now, with this HLS manifest.
    Live {
        /// Video id (11 characters).
        video_id: String,
        /// The live's title.
        title: String,
        /// Its HLS manifest URL.
        manifest: String,
    },
    /// The live ended.
    Ended {
        /// Video id.
        video_id: String,
        /// Title.
        title: String,
    },
    /// Live, but YouTube refuses to play it to this client (a bot check, members only…): the
    /// page names the live and gives no stream; the watch page has none either.
    Refused {
        /// Video id.
        video_id: String,
        /// Title.
        title: String,
        /// YouTube's playability status, e.g. `LOGIN_REQUIRED`.
        status: String,
        /// YouTube's reason, in its words.
        reason: String,
    },
    /// YouTube's cookie-consent interstitial instead of the channel.
    Consent,
    /// A scheduled live, not started: the page is the live's waiting room.
    Scheduled {
        /// Video id.
        video_id: String,
        /// Title.
        title: String,
        /// When it is to start, in Unix seconds (as the page gives it).
        starts_at: i64,
    },
}

impl ChannelShows {
    /// The video it shows, with its title (none for the home page and the consent page).
    fn video(&self) -> Option<(&str, &str)> {
        match self {
            Self::Live { video_id, title, .. }
            | Self::Ended { video_id, title }
            | Self::Refused { video_id, title, .. }
            | Self::Scheduled { video_id, title, .. } => Some((video_id, title)),
            Self::NoLive | Self::Consent => None,
        }
    }
}

/// What the stand-in answers, and how often it was asked.
#[derive(Debug)]
struct Channel {
    shows: ChannelShows,
    refuse: Option<u16>,
    requests: u64,
    watch_requests: u64,
    /// Calls to the Data API stand-in ([`data_api`]).
    api_requests: u64,
    /// Requests for the channel's feed ([`feed`]).
    feed_requests: u64,
    /// The videos shown so far, newest first: what the feed lists (once visible).
    listed: Vec<feed::Listed>,
    /// How long after a video is shown the feed lists it (`None`: never).
    feed_delay: Option<Duration>,
    /// While set, the feed alone answers with this status.
    feed_refuse: Option<u16>,
    /// The stand-in's own base URL (for the expiring manifest URLs it hands out).
    base: String,
    /// While set, manifests are handed out behind URLs that expire this long after.
    expire_after: Option<Duration>,
    /// Whether the `/live` page gives the manifest (YouTube gives it only to some sessions).
    page_manifest: bool,
    http: reqwest::Client,
}

impl Channel {
    /// The manifest a client is given now: the live's own, or one behind an expiring URL.
    fn manifest_for_client(&self) -> Option<String> {
        let ChannelShows::Live { manifest, .. } = &self.shows else { return None };
        let Some(after) = self.expire_after else { return Some(manifest.clone()) };
        let file = manifest.rsplit('/').next().unwrap_or("index.m3u8");
        let expires = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default() + after;
        Some(format!("{}/hls/expire/{}/{file}", self.base, expires.as_secs()))
    }
}

/// A running stand-in.
#[derive(Debug)]
pub struct YoutubeStandIn {
    server: LoopbackServer,
    channel: Arc<Mutex<Channel>>,
}

impl YoutubeStandIn {
    /// Starts serving `/@<handle>/live` (and `/channel/<id>/live`), showing no live.
    pub async fn start() -> Result<Self, WorldError> {
        let channel = Arc::new(Mutex::new(Channel {
            shows: ChannelShows::NoLive,
            refuse: None,
            requests: 0,
            watch_requests: 0,
            api_requests: 0,
            feed_requests: 0,
            listed: vec![feed::Listed::older_upload()],
            feed_delay: Some(Duration::ZERO),
            feed_refuse: None,
            base: String::new(),
            expire_after: None,
            page_manifest: true,
            http: reqwest::Client::new(),
        }));
        let app = axum::Router::new()
            .route("/{channel}/live", axum::routing::get(live_page))
            .route("/channel/{id}/live", axum::routing::get(live_page))
            .route("/watch", axum::routing::get(watch_page))
            .route("/hls/expire/{expires}/{*file}", axum::routing::get(expiring_hls))
            .route("/feeds/videos.xml", axum::routing::get(feed::videos))
            .route("/youtube/v3/channels", axum::routing::get(data_api::channels))
            .route("/youtube/v3/playlistItems", axum::routing::get(data_api::playlist_items))
            .route("/youtube/v3/videos", axum::routing::get(data_api::videos))
            .with_state(Arc::clone(&channel));
        let server = LoopbackServer::serve(app, "the YouTube stand-in").await?;
        channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner).base = server.url();
        Ok(Self { server, channel })
    }

    /// The base URL (`FANOUT_YOUTUBE_URL`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn channel(&self) -> std::sync::MutexGuard<'_, Channel> {
        self.channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Switches what the channel shows; a video not shown before joins the feed (at once, or
    /// after the feed's delay).
    pub fn show(&self, shows: ChannelShows) {
        let mut channel = self.channel();
        let delay = channel.feed_delay;
        feed::note(&mut channel.listed, &shows, delay);
        channel.shows = shows;
    }

    /// While `Some(status)`, every page request (the feed's too) is refused with it (e.g. 429).
    pub fn refuse(&self, status: Option<u16>) {
        self.channel().refuse = status;
    }

    /// How many `/live` page requests it has had.
    pub fn requests(&self) -> u64 {
        self.channel().requests
    }

    /// How many requests for the channel's feed it has had.
    pub fn feed_requests(&self) -> u64 {
        self.channel().feed_requests
    }

    /// How long after being shown a video joins the feed, from now on (`None`: never — a feed
    /// that lags past the test). At once unless set: YouTube does not say how soon.
    pub fn feed_delay(&self, delay: Option<Duration>) {
        self.channel().feed_delay = delay;
    }

    /// While `Some(status)`, the feed alone answers with it (e.g. 404, 500).
    pub fn refuse_feed(&self, status: Option<u16>) {
        self.channel().feed_refuse = status;
    }

    /// The Data API stand-in's base (`FANOUT_YT_API_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/youtube/v3", self.server.url())
    }

    /// How many Data API calls it has had (each a quota unit at Google).
    pub fn api_requests(&self) -> u64 {
        self.channel().api_requests
    }

    /// How many watch page requests (yt-dlp resolving the live) it has had.
    pub fn watch_requests(&self) -> u64 {
        self.channel().watch_requests
    }

    /// While `Some`, the live's manifest is handed out (by the page and the watch page) behind
    /// URLs that expire that long after, refused with 403 past it — as YouTube's do.
    pub fn expire_manifests(&self, after: Option<Duration>) {
        self.channel().expire_after = after;
    }

    /// Whether the `/live` page itself gives the manifest (YouTube gives it only to some
    /// sessions; yt-dlp gets it from the watch page).
    pub fn page_gives_manifest(&self, gives: bool) {
        self.channel().page_manifest = gives;
    }
}

async fn live_page(State(channel): State<Arc<Mutex<Channel>>>) -> Response {
    let (shows, refuse, manifest) = {
        let mut channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        channel.requests += 1;
        let manifest = if channel.page_manifest { channel.manifest_for_client() } else { None };
        (channel.shows.clone(), channel.refuse, manifest)
    };
    match refuse.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => status.into_response(),
        None => Html(pages::live_page(&shows, manifest.as_deref())).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Watch {
    v: Option<String>,
}

async fn watch_page(State(channel): State<Arc<Mutex<Channel>>>, Query(watch): Query<Watch>) -> Response {
    let (shows, manifest) = {
        let mut channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        channel.watch_requests += 1;
        (channel.shows.clone(), channel.manifest_for_client())
    };
    match (&shows, watch.v) {
        (ChannelShows::Live { video_id, title, .. }, Some(v)) if *video_id == v => {
            Html(pages::watch_page(title, manifest.as_deref())).into_response()
        }
        (ChannelShows::Refused { video_id, title, .. } | ChannelShows::Ended { video_id, title }, Some(v)) if *video_id == v => {
            Html(pages::watch_page(title, None)).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Html(pages::watch_page("Video unavailable", None))).into_response(),
    }
}

/// The live's HLS behind an expiring URL: the manifest's directory, served until `expires`.
async fn expiring_hls(State(channel): State<Arc<Mutex<Channel>>>, Path((expires, file)): Path<(u64, String)>) -> Response {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    if now > expires || file.contains("..") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let (upstream, http) = {
        let channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ChannelShows::Live { manifest, .. } = &channel.shows else { return StatusCode::NOT_FOUND.into_response() };
        (format!("{}/{file}", manifest.rsplit_once('/').map_or(manifest.as_str(), |(dir, _)| dir)), channel.http.clone())
    };
    match http.get(&upstream).send().await {
        Ok(response) if response.status().is_success() => {
            let kind = if file.ends_with(".m3u8") { "application/vnd.apple.mpegurl" } else { "video/mp2t" };
            match response.bytes().await {
                Ok(bytes) => ([(axum::http::header::CONTENT_TYPE, kind)], bytes).into_response(),
                Err(_) => StatusCode::BAD_GATEWAY.into_response(),
            }
        }
        Ok(response) => StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY).into_response(),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
