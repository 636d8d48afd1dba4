//! The stand-in's pages, shaped like YouTube's: the `/live` page (the watch page embedding
//! `var ytInitialPlayerResponse = {…};`, with YouTube's `\u003c` escaping, or the channel's
//! home page), the cookie-consent interstitial, and the watch page as yt-dlp's generic
//! extractor reads it here (an HTML5 `<video>` with the live's HLS; the YouTube extractor itself
//! cannot run offline — it needs YouTube's own player code and APIs).

use serde_json::{Value, json};

use super::ChannelShows;

/// The channel id every page of the stand-in names.
pub const CHANNEL_ID: &str = "UCfanouttestchannel0000a";

/// JSON as YouTube embeds it in a script: `<`, `>` and `&` escaped.
fn embed(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// YouTube's playability of a live: `OK`, or a refusal with its words.
struct Playability<'a> {
    status: &'a str,
    reason: Option<&'a str>,
}

const PLAYABLE: Playability<'static> = Playability { status: "OK", reason: None };

fn player(video_id: &str, title: &str, live: bool, manifest: Option<&str>, playability: &Playability<'_>) -> Value {
    let mut response = json!({
        "responseContext": { "serviceTrackingParams": [] },
        "playabilityStatus": { "status": playability.status, "playableInEmbed": true },
        "videoDetails": {
            "videoId": video_id, "title": title, "lengthSeconds": "0", "channelId": CHANNEL_ID,
            "shortDescription": "A live of the test channel.", "author": "Fanout Test Channel",
            "isLiveContent": true, "isLive": live,
            "thumbnail": { "thumbnails": [{ "url": format!("https://i.ytimg.com/vi/{video_id}/hqdefault_live.jpg"), "width": 480, "height": 360 }] }
        },
        "microformat": { "playerMicroformatRenderer": { "liveBroadcastDetails": {
            "isLiveNow": live, "startTimestamp": "2026-11-25T10:00:00+00:00"
        } } }
    });
    if let Some(reason) = playability.reason {
        response["playabilityStatus"]["reason"] = json!(reason);
    }
    if let Some(manifest) = manifest {
        response["streamingData"] = json!({ "expiresInSeconds": "21540", "hlsManifestUrl": manifest });
    }
    if !live {
        response["microformat"]["playerMicroformatRenderer"]["liveBroadcastDetails"]["endTimestamp"] = json!("2026-11-25T12:00:00+00:00");
    }
    response
}

/// A scheduled live's player: `LIVE_STREAM_OFFLINE`, upcoming, its start in the offline slate.
fn waiting_room(video_id: &str, title: &str, starts_at: i64) -> Value {
    json!({
        "playabilityStatus": { "status": "LIVE_STREAM_OFFLINE", "reason": "Premieres soon",
            "liveStreamability": { "liveStreamabilityRenderer": { "videoId": video_id, "offlineSlate": {
                "liveStreamOfflineSlateRenderer": { "scheduledStartTime": starts_at.to_string() } } } } },
        "videoDetails": {
            "videoId": video_id, "title": title, "lengthSeconds": "0", "channelId": CHANNEL_ID, "author": "Fanout Test Channel",
            "isLiveContent": true, "isUpcoming": true, "shortDescription": "A scheduled live of the test channel."
        }
    })
}

const HEAD: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fanout Test Channel - YouTube</title>\
    <script nonce=\"n0nce\">var ytcfg={d:function(){return ytcfg.data_||(ytcfg.data_={})}};ytcfg.set({\"HL\":\"en\"});</script></head><body dir=\"ltr\">";

/// The `/live` page for what the channel shows (`manifest`: the URL the page gives, if any).
pub fn live_page(shows: &ChannelShows, manifest: Option<&str>) -> String {
    let data = json!({ "metadata": { "channelMetadataRenderer": { "title": "Fanout Test Channel", "externalId": CHANNEL_ID } } });
    let player = match shows {
        ChannelShows::NoLive => None,
        ChannelShows::Consent => return consent_page(),
        ChannelShows::Live { video_id, title, .. } => Some(player(video_id, title, true, manifest, &PLAYABLE)),
        ChannelShows::Ended { video_id, title } => Some(player(video_id, title, false, None, &PLAYABLE)),
        ChannelShows::Refused { video_id, title, status, reason, .. } => {
            Some(player(video_id, title, true, None, &Playability { status, reason: Some(reason) }))
        }
        ChannelShows::Scheduled { video_id, title, starts_at } => Some(waiting_room(video_id, title, *starts_at)),
    };
    let mut html = HEAD.to_string();
    if let Some(player) = player {
        html.push_str(&format!(
            "<script nonce=\"n0nce\">var ytInitialPlayerResponse = {};var meta = document.createElement('meta'); meta.name = 'referrer';</script>",
            embed(&player)
        ));
    }
    html.push_str(&format!("<script nonce=\"n0nce\">var ytInitialData = {};</script></body></html>", embed(&data)));
    html
}

/// YouTube's cookie-consent interstitial, as a visitor without the consent cookie gets it.
fn consent_page() -> String {
    "<!DOCTYPE html><html><head><title>Before you continue to YouTube</title></head><body>\
     <form action=\"https://consent.youtube.com/save\" method=\"POST\"><button>Accept all</button></form></body></html>"
        .to_string()
}

/// The watch page yt-dlp's generic extractor reads: the live's HLS in an HTML5 video (none when
/// the live is not playable to this client).
pub fn watch_page(title: &str, manifest: Option<&str>) -> String {
    let video = manifest
        .map(|m| format!("<video controls autoplay><source src=\"{m}\" type=\"application/x-mpegURL\"></video>"))
        .unwrap_or_else(|| "<p>This video is unavailable.</p>".to_string());
    format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} - YouTube</title></head><body>{video}</body></html>")
}
