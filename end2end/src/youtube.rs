//! The YouTube stand-in: serves a channel's `/live` page shaped like YouTube's — the watch page
//! embedding `var ytInitialPlayerResponse = {…};` (with YouTube's `\u003c` escaping) when the
//! channel is live, scheduled or just ended, and the channel's home page (`ytInitialData` only)
//! when it is not. Tests switch what it shows.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

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
}

/// What the stand-in answers, and how often it was asked.
#[derive(Debug)]
struct Channel {
    shows: ChannelShows,
    refuse: Option<u16>,
    requests: u64,
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
        let channel = Arc::new(Mutex::new(Channel { shows: ChannelShows::NoLive, refuse: None, requests: 0 }));
        let app = axum::Router::new()
            .route("/{channel}/live", axum::routing::get(live_page))
            .route("/channel/{id}/live", axum::routing::get(live_page))
            .with_state(Arc::clone(&channel));
        let server = LoopbackServer::serve(app, "the YouTube stand-in").await?;
        Ok(Self { server, channel })
    }

    /// The base URL (`FANOUT_YOUTUBE_URL`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn channel(&self) -> std::sync::MutexGuard<'_, Channel> {
        self.channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Switches what the channel shows.
    pub fn show(&self, shows: ChannelShows) {
        self.channel().shows = shows;
    }

    /// While `Some(status)`, every page request is refused with it (e.g. 429).
    pub fn refuse(&self, status: Option<u16>) {
        self.channel().refuse = status;
    }

    /// How many page requests it has had.
    pub fn requests(&self) -> u64 {
        self.channel().requests
    }
}

async fn live_page(State(channel): State<Arc<Mutex<Channel>>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (shows, refuse) = {
        let mut channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        channel.requests += 1;
        (channel.shows.clone(), channel.refuse)
    };
    match refuse.and_then(|s| axum::http::StatusCode::from_u16(s).ok()) {
        Some(status) => status.into_response(),
        None => Html(render(&shows)).into_response(),
    }
}

/// JSON as YouTube embeds it in a script: `<`, `>` and `&` escaped.
fn embed(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn player(video_id: &str, title: &str, live: bool, manifest: Option<&str>) -> Value {
    let mut response = json!({
        "responseContext": { "serviceTrackingParams": [] },
        "playabilityStatus": { "status": "OK", "playableInEmbed": true },
        "videoDetails": {
            "videoId": video_id, "title": title, "lengthSeconds": "0", "channelId": "UCfanouttestchannel0000a",
            "shortDescription": "A live of the test channel.", "author": "Fanout Test Channel",
            "isLiveContent": true, "isLive": live,
            "thumbnail": { "thumbnails": [{ "url": format!("https://i.ytimg.com/vi/{video_id}/hqdefault_live.jpg"), "width": 480, "height": 360 }] }
        },
        "microformat": { "playerMicroformatRenderer": { "liveBroadcastDetails": {
            "isLiveNow": live, "startTimestamp": "2026-11-25T10:00:00+00:00"
        } } }
    });
    if let Some(manifest) = manifest {
        response["streamingData"] = json!({ "expiresInSeconds": "21540", "hlsManifestUrl": manifest });
    }
    if !live {
        response["microformat"]["playerMicroformatRenderer"]["liveBroadcastDetails"]["endTimestamp"] = json!("2026-11-25T12:00:00+00:00");
    }
    response
}

fn render(shows: &ChannelShows) -> String {
    let data =
        json!({ "metadata": { "channelMetadataRenderer": { "title": "Fanout Test Channel", "externalId": "UCfanouttestchannel0000a" } } });
    let head = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fanout Test Channel - YouTube</title>\
                <script nonce=\"n0nce\">var ytcfg={d:function(){return ytcfg.data_||(ytcfg.data_={})}};ytcfg.set({\"HL\":\"en\"});</script></head><body dir=\"ltr\">";
    let player = match shows {
        ChannelShows::NoLive => None,
        ChannelShows::Live { video_id, title, manifest } => Some(player(video_id, title, true, Some(manifest))),
        ChannelShows::Ended { video_id, title } => Some(player(video_id, title, false, None)),
    };
    let mut html = head.to_string();
    if let Some(player) = player {
        html.push_str(&format!(
            "<script nonce=\"n0nce\">var ytInitialPlayerResponse = {};var meta = document.createElement('meta'); meta.name = 'referrer';</script>",
            embed(&player)
        ));
    }
    html.push_str(&format!("<script nonce=\"n0nce\">var ytInitialData = {};</script></body></html>", embed(&data)));
    html
}
