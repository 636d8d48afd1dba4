//! The YouTube Data API v3 stand-in, written from Google's reference
//! (developers.google.com/youtube/v3/docs: `channels.list` with `forHandle`, `playlistItems.list`
//! on the uploads playlist, `videos.list` with `snippet,liveStreamingDetails`; the key in the
//! `X-Goog-Api-Key` header; errors in Google's `{"error": {code, message, errors: [{reason}]}}`
//! shape). It answers from what the channel shows: a live (or a refused one: the API does not
//! know about bot walls) is the newest upload with an `actualStartTime`, an ended one has an
//! `actualEndTime`. Where the docs are silent — how soon a live shows in the playlist — it shows
//! at once. Each call is counted, as Google counts quota (1 unit each).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Channel, ChannelShows};

/// The key the stand-in accepts (`FANOUT_YT_API_KEY` in tests).
pub const STAND_IN_API_KEY: &str = "AIzaStandInKeyForFanoutTests0123456789";
/// The stand-in channel's id.
pub const CHANNEL_ID: &str = "UCFanoutTestChannel000001";
/// An older upload that is no live.
const OLDER: &str = "OlderUpload";

type Shared = State<Arc<Mutex<Channel>>>;

/// Counts the call and checks its key: what the channel shows, or `None` for a wrong key.
fn admit(channel: &Arc<Mutex<Channel>>, headers: &HeaderMap) -> Option<ChannelShows> {
    let mut channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    channel.api_requests += 1;
    let keyed = headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) == Some(STAND_IN_API_KEY);
    keyed.then(|| channel.shows.clone())
}

/// Google's answer to a wrong key.
fn bad_key() -> Response {
    let message = "API key not valid. Please pass a valid API key.";
    let body =
        json!({"error": {"code": 400, "message": message, "errors": [{"message": message, "domain": "global", "reason": "badRequest"}]}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

pub(super) async fn channels(State(channel): Shared, headers: HeaderMap) -> Response {
    if admit(&channel, &headers).is_none() {
        return bad_key();
    }
    let uploads = format!("UU{}", &CHANNEL_ID[2..]);
    Json(json!({"kind": "youtube#channelListResponse",
        "items": [{"kind": "youtube#channel", "id": CHANNEL_ID, "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": uploads}}}]}))
    .into_response()
}

pub(super) async fn playlist_items(State(channel): Shared, headers: HeaderMap) -> Response {
    let Some(shows) = admit(&channel, &headers) else { return bad_key() };
    let mut ids: Vec<String> = newest(&shows).into_iter().collect();
    ids.push(OLDER.into());
    let items: Vec<Value> = ids.iter().map(|id| json!({"kind": "youtube#playlistItem", "contentDetails": {"videoId": id}})).collect();
    Json(json!({"kind": "youtube#playlistItemListResponse", "items": items})).into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct Ids {
    id: Option<String>,
}

pub(super) async fn videos(State(channel): Shared, headers: HeaderMap, Query(ids): Query<Ids>) -> Response {
    let Some(shows) = admit(&channel, &headers) else { return bad_key() };
    let wanted = ids.id.unwrap_or_default();
    let items: Vec<Value> = wanted.split(',').filter_map(|id| video(&shows, id)).collect();
    Json(json!({"kind": "youtube#videoListResponse", "items": items})).into_response()
}

/// The newest upload's id, when the channel shows a live (on, refused or ended).
fn newest(shows: &ChannelShows) -> Option<String> {
    match shows {
        ChannelShows::Live { video_id, .. }
        | ChannelShows::Refused { video_id, .. }
        | ChannelShows::Ended { video_id, .. }
        | ChannelShows::Scheduled { video_id, .. } => Some(video_id.clone()),
        ChannelShows::NoLive | ChannelShows::Consent => None,
    }
}

fn video(shows: &ChannelShows, id: &str) -> Option<Value> {
    let snippet = |title: &str, content: &str| {
        json!({"title": title, "description": format!("{title}\n\nWatch along."), "channelId": CHANNEL_ID,
               "channelTitle": "Fanout Test Channel", "liveBroadcastContent": content,
               "thumbnails": {"high": {"url": format!("https://i.ytimg.com/vi/{id}/hqdefault.jpg"), "width": 480, "height": 360}}})
    };
    let (snippet, details) = match shows {
        _ if id == OLDER => (snippet("An older video", "none"), None),
        ChannelShows::Live { video_id, title, .. } | ChannelShows::Refused { video_id, title, .. } if video_id == id => {
            (snippet(title, "live"), Some(json!({"actualStartTime": "2026-12-01T10:00:00Z", "concurrentViewers": "42"})))
        }
        ChannelShows::Ended { video_id, title } if video_id == id => {
            (snippet(title, "none"), Some(json!({"actualStartTime": "2026-12-01T10:00:00Z", "actualEndTime": "2026-12-01T11:00:00Z"})))
        }
        ChannelShows::Scheduled { video_id, title, starts_at } if video_id == id => {
            let start = time::OffsetDateTime::from_unix_timestamp(*starts_at).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let start = start.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
            (snippet(title, "upcoming"), Some(json!({"scheduledStartTime": start})))
        }
        _ => return None,
    };
    let mut item = json!({"kind": "youtube#video", "id": id, "snippet": snippet});
    if let Some(details) = details {
        item["liveStreamingDetails"] = details;
    }
    Some(item)
}
