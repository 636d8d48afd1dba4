//! Detection through the YouTube Data API v3, with the operator's key (`FANOUT_YT_API_KEY`):
//! no request to www.youtube.com at all until a live is there to pull. Per look, the channel's
//! uploads playlist's newest items (`playlistItems.list`, 1 quota unit) and — only when new ids
//! appear or one of them is upcoming or live — their `liveStreamingDetails` (`videos.list`,
//! 1 unit for up to 50 ids); the uploads playlist is found once (`channels.list`). Never
//! `search.list` (100 units, and limited). The key travels in the `X-Goog-Api-Key` header,
//! never in a URL. Written from Google's reference (developers.google.com/youtube/v3/docs);
//! where it is silent — how soon a started live shows in the uploads playlist — the stand-in
//! shows it at once, and the README says to keep the page as a backstop on a real server.

use std::collections::HashMap;

use app::channels::YoutubeChannel;
use app::model::{SourceProblem, SourceProblemNote};
use app::secrets::Secret;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use url::Url;

use super::detect::{Look, Observation, Refusal};
use super::page::{EndedLive, LiveNow, ScheduledLive};

/// How many of the newest uploads are looked at.
const NEWEST: usize = 5;

/// The Data API as the channel's detector.
pub struct DataApi {
    http: reqwest::Client,
    base: Url,
    key: Secret,
    channel: YoutubeChannel,
    state: Mutex<Known>,
}

impl std::fmt::Debug for DataApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the YouTube Data API at {} for {} (key not shown)", self.base, self.channel)
    }
}

/// What earlier looks learnt.
#[derive(Debug, Default)]
struct Known {
    uploads: Option<String>,
    videos: HashMap<String, Video>,
    newest: Vec<String>,
}

impl DataApi {
    /// A detector for `channel` on the API at `base` (`https://www.googleapis.com/youtube/v3`).
    pub fn new(http: reqwest::Client, base: Url, key: Secret, channel: YoutubeChannel) -> Self {
        Self { http, base, key, channel, state: Mutex::new(Known::default()) }
    }

    /// One look: what the channel's newest uploads say.
    pub async fn look_now(&self) -> Result<Observation, Refusal> {
        let mut known = self.state.lock().await;
        let uploads = match known.uploads.clone() {
            Some(uploads) => uploads,
            None => {
                let uploads = self.uploads_playlist().await?;
                known.uploads = Some(uploads.clone());
                uploads
            }
        };
        let items: ListOf<PlaylistItem> =
            self.get("playlistItems", &[("part", "contentDetails"), ("playlistId", &uploads), ("maxResults", &NEWEST.to_string())]).await?;
        let newest: Vec<String> = items.items.into_iter().map(|i| i.content_details.video_id).collect();
        let changed = newest != known.newest;
        let watching = newest.iter().any(|id| known.videos.get(id).is_none_or(Video::may_change));
        if changed || watching {
            let ids = newest.join(",");
            let videos: ListOf<Video> = self.get("videos", &[("part", "snippet,liveStreamingDetails"), ("id", &ids)]).await?;
            for video in videos.items {
                known.videos.insert(video.id.clone(), video);
            }
        }
        known.videos.retain(|id, _| newest.contains(id));
        known.newest = newest;
        Ok(observe(known.newest.iter().filter_map(|id| known.videos.get(id))))
    }

    async fn uploads_playlist(&self) -> Result<String, Refusal> {
        let by = match &self.channel {
            // A channel's uploads playlist is its id with `UU` for `UC` (no request needed).
            YoutubeChannel::Id(id) if id.starts_with("UC") => return Ok(format!("UU{}", &id[2..])),
            YoutubeChannel::Id(id) => ("id", id.clone()),
            YoutubeChannel::Handle(handle) => ("forHandle", format!("@{handle}")),
            YoutubeChannel::User(user) => ("forUsername", user.clone()),
            YoutubeChannel::Custom(name) => {
                return Err(Refusal::Api(format!(
                    "the Data API cannot find a legacy /c/{name} channel: set FANOUT_YOUTUBE_CHANNEL to its @handle or UC… id"
                )));
            }
        };
        let channels: ListOf<Channel> = self.get("channels", &[("part", "contentDetails"), (by.0, &by.1)]).await?;
        channels
            .items
            .into_iter()
            .next()
            .map(|c| c.content_details.related_playlists.uploads)
            .ok_or_else(|| Refusal::Api(format!("the Data API knows no channel {}", self.channel)))
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, resource: &str, query: &[(&str, &str)]) -> Result<T, Refusal> {
        let mut url = self.base.clone();
        let path = format!("{}/{resource}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.query_pairs_mut().extend_pairs(query);
        let response = self
            .http
            .get(url)
            .header("X-Goog-Api-Key", self.key.expose())
            .send()
            .await
            .map_err(|e| Refusal::Network(e.without_url().to_string()))?;
        let status = response.status();
        let body = bounded_body(response).await?;
        if !status.is_success() {
            return Err(refused(status.as_u16(), &body));
        }
        serde_json::from_slice(&body).map_err(|e| Refusal::Api(format!("an answer of {resource}.list that Fanout cannot read: {e}")))
    }
}

#[async_trait::async_trait]
impl Look for DataApi {
    /// A refused key is what the channel "shows" until the operator fixes it (a banner and an
    /// event); a spent quota ([`Refusal::Quota`]), a 5xx or the network is waited out with
    /// backoff.
    async fn look(&self, _page: &Url) -> Result<Observation, Refusal> {
        match self.look_now().await {
            Err(Refusal::Api(detail)) => Ok(Observation::Unreadable(SourceProblemNote { problem: SourceProblem::DataApiRefused, detail })),
            other => other,
        }
    }
}

/// Reads an answer of the Data API as a look would: a `videos.list` answer into what it says,
/// and any answer as a failure of `status` (for the fuzz target; the look itself goes
/// through the same functions).
pub fn read_answer(status: u16, body: &[u8]) -> (Option<Observation>, Refusal) {
    let observed = serde_json::from_slice::<ListOf<Video>>(body).ok().map(|list| observe(list.items.iter()));
    let _ = serde_json::from_slice::<ListOf<PlaylistItem>>(body);
    let _ = serde_json::from_slice::<ListOf<Channel>>(body);
    (observed, refused(status, body))
}

/// The most of an answer read (five items with their descriptions are a few tens of KiB).
const MAX_ANSWER: usize = 1024 * 1024;

/// An answer's body, refused past [`MAX_ANSWER`].
async fn bounded_body(response: reqwest::Response) -> Result<Vec<u8>, Refusal> {
    super::client::bounded_body(response, MAX_ANSWER).await.map_err(|error| match error {
        super::client::BodyError::Network(error) => Refusal::Network(error),
        super::client::BodyError::TooLarge(kib) => Refusal::Api(format!("an answer of the Data API over {kib} KiB")),
    })
}

/// What a failed call says, in Google's error shape (`error.errors[].reason`, `error.message`).
fn refused(status: u16, body: &[u8]) -> Refusal {
    #[derive(Deserialize)]
    struct Failure {
        error: Detail,
    }
    #[derive(Deserialize)]
    struct Detail {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<Reason>,
    }
    #[derive(Deserialize)]
    struct Reason {
        #[serde(default)]
        reason: String,
    }
    let Ok(failure) = serde_json::from_slice::<Failure>(body) else { return Refusal::Status(status) };
    let reason = failure.error.errors.first().map(|r| r.reason.as_str()).unwrap_or_default();
    let advice = match reason {
        "quotaExceeded" | "dailyLimitExceeded" => " — the key's daily quota is spent: raise FANOUT_POLL_SECS or the quota",
        "keyInvalid" | "badRequest" if failure.error.message.to_lowercase().contains("key") => " — check FANOUT_YT_API_KEY",
        "forbidden" | "accessNotConfigured" => " — enable the YouTube Data API v3 for the key's project",
        _ => "",
    };
    let message: String = failure.error.message.chars().take(200).collect();
    let detail = format!("the YouTube Data API refused ({status} {reason}): {message}{advice}");
    if matches!(reason, "quotaExceeded" | "dailyLimitExceeded") { Refusal::Quota(detail) } else { Refusal::Api(detail) }
}

/// What the newest uploads (newest first) say: a live in progress, else the next scheduled
/// one, else the newest that ended, else nothing.
fn observe<'a>(videos: impl Iterator<Item = &'a Video> + Clone) -> Observation {
    if let Some(live) = videos.clone().find(|v| v.is_live()) {
        return Observation::Live(live.live_now());
    }
    if let Some(next) = videos.clone().find(|v| v.snippet.live_broadcast_content == "upcoming") {
        return Observation::NotLive(Some(ScheduledLive {
            video_id: next.id.clone(),
            title: next.snippet.title.clone(),
            scheduled_start: next.details().and_then(|d| d.scheduled_start_time),
        }));
    }
    match videos.clone().find(|v| v.details().is_some_and(|d| d.actual_end_time.is_some())) {
        Some(ended) => Observation::Ended(EndedLive {
            video_id: ended.id.clone(),
            title: ended.snippet.title.clone(),
            ended_at: ended.details().and_then(|d| d.actual_end_time),
        }),
        None => Observation::NotLive(None),
    }
}

#[derive(Debug, Deserialize)]
struct ListOf<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    content_details: ChannelDetails,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDetails {
    related_playlists: RelatedPlaylists,
}

#[derive(Debug, Deserialize)]
struct RelatedPlaylists {
    uploads: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistItem {
    content_details: ItemDetails,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemDetails {
    video_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Video {
    id: String,
    snippet: Snippet,
    #[serde(default)]
    live_streaming_details: Option<StreamingDetails>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    channel_title: String,
    #[serde(default)]
    live_broadcast_content: String,
    #[serde(default)]
    thumbnails: HashMap<String, Thumbnail>,
}

#[derive(Debug, Clone, Deserialize)]
struct Thumbnail {
    url: String,
    #[serde(default)]
    width: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamingDetails {
    #[serde(default, with = "time::serde::rfc3339::option")]
    actual_start_time: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    actual_end_time: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    scheduled_start_time: Option<OffsetDateTime>,
}

impl Video {
    fn details(&self) -> Option<&StreamingDetails> {
        self.live_streaming_details.as_ref()
    }

    fn is_live(&self) -> bool {
        self.details().is_some_and(|d| d.actual_start_time.is_some() && d.actual_end_time.is_none())
    }

    /// Whether a later look may find it changed (upcoming or live): it is asked about again.
    fn may_change(&self) -> bool {
        self.is_live() || self.snippet.live_broadcast_content == "upcoming"
    }

    fn live_now(&self) -> LiveNow {
        let thumbnail = self.snippet.thumbnails.values().max_by_key(|t| t.width).map(|t| t.url.clone());
        LiveNow {
            video_id: self.id.clone(),
            title: self.snippet.title.clone(),
            description: self.snippet.description.clone(),
            channel_id: self.snippet.channel_id.clone(),
            author: self.snippet.channel_title.clone(),
            hls_manifest_url: None,
            thumbnail_url: thumbnail,
            started_at: self.details().and_then(|d| d.actual_start_time),
            refusal: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(json: serde_json::Value) -> Video {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_newest_uploads_say_live_then_scheduled_then_ended() {
        // Shapes from the videos resource reference (snippet, liveStreamingDetails).
        let live = video(serde_json::json!({
            "id": "LiveVideo01",
            "snippet": {"title": "Live now", "description": "d", "channelId": "UCx", "channelTitle": "Chan",
                        "liveBroadcastContent": "live",
                        "thumbnails": {"default": {"url": "http://t/1.jpg", "width": 120}, "high": {"url": "http://t/3.jpg", "width": 480}}},
            "liveStreamingDetails": {"actualStartTime": "2026-12-01T10:00:00Z", "concurrentViewers": "12"}
        }));
        let upcoming = video(serde_json::json!({
            "id": "Upcoming001", "snippet": {"title": "Soon", "liveBroadcastContent": "upcoming"},
            "liveStreamingDetails": {"scheduledStartTime": "2026-12-02T10:00:00Z"}
        }));
        let ended = video(serde_json::json!({
            "id": "Ended000001", "snippet": {"title": "Was live", "liveBroadcastContent": "none"},
            "liveStreamingDetails": {"actualStartTime": "2026-11-30T10:00:00Z", "actualEndTime": "2026-11-30T12:00:00Z"}
        }));
        let plain = video(serde_json::json!({"id": "Upload00001", "snippet": {"title": "A video", "liveBroadcastContent": "none"}}));
        let Observation::Live(now) = observe([&plain, &live, &upcoming].into_iter()) else { panic!("live") };
        assert_eq!(
            (now.video_id.as_str(), now.thumbnail_url.as_deref(), now.author.as_str()),
            ("LiveVideo01", Some("http://t/3.jpg"), "Chan")
        );
        assert!(matches!(observe([&plain, &upcoming, &ended].into_iter()), Observation::NotLive(Some(s)) if s.video_id == "Upcoming001"));
        assert!(matches!(observe([&plain, &ended].into_iter()), Observation::Ended(e) if e.video_id == "Ended000001"));
        assert_eq!(observe([&plain].into_iter()), Observation::NotLive(None));
    }

    #[test]
    fn googles_errors_are_told_apart_and_bounded() {
        let quota = br#"{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your quota.","errors":[{"reason":"quotaExceeded"}]}}"#;
        assert!(refused(403, quota).to_string().contains("quota is spent"));
        assert!(matches!(refused(403, quota), Refusal::Quota(_)), "a spent quota is waited out");
        let key =
            br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","errors":[{"reason":"badRequest"}]}}"#;
        assert!(refused(400, key).to_string().contains("FANOUT_YT_API_KEY"));
        assert!(matches!(refused(400, key), Refusal::Api(_)), "a refused key is the operator's to fix");
        assert_eq!(refused(502, b"<html>"), Refusal::Status(502));
        let long = format!(r#"{{"error":{{"message":"{}","errors":[]}}}}"#, "x".repeat(5000));
        assert!(refused(400, long.as_bytes()).to_string().len() < 400);
    }
}
