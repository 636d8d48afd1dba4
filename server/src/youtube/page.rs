//! Reading a channel's `/live` page: is the channel live now, and if so which video, its whole
//! title, and the HLS manifest to pull. YouTube serves a watch page embedding
//! `var ytInitialPlayerResponse = {…};` when the channel is live (or has a scheduled or ended
//! live there), and the channel's home page (`ytInitialData`, no player) when it is not.
//!
//! The player response is read as exactly one JSON value from where it starts (strings inside
//! it may hold `};`, so no pattern can tell where it ends). Every page also names the channel's
//! `UC…` id (the player's `videoDetails.channelId`, the home page's
//! `channelMetadataRenderer.externalId`), which the feed look needs for a channel configured
//! by its handle. Nothing here panics on any input.

use app::model::{SourceProblem, SourceProblemNote};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the `/live` page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LivePage {
    /// The channel is live now.
    Live(LiveNow),
    /// A live is scheduled but has not started.
    Upcoming(ScheduledLive),
    /// The page shows a live that has ended.
    Ended(EndedLive),
    /// The channel is not live.
    NoLive,
}

/// A live in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNow {
    /// The video id (11 characters).
    pub video_id: String,
    /// The title, whole.
    pub title: String,
    /// The description.
    pub description: String,
    /// The channel's id.
    pub channel_id: String,
    /// The channel's name.
    pub author: String,
    /// The HLS manifest, when the page gives one (otherwise yt-dlp resolves it).
    pub hls_manifest_url: Option<String>,
    /// The largest thumbnail.
    pub thumbnail_url: Option<String>,
    /// When the broadcast started.
    pub started_at: Option<OffsetDateTime>,
    /// YouTube's refusal to play it to this session (a bot check, members only, an age limit),
    /// when it refuses: the live is there, but its stream may not be (yt-dlp with the
    /// operator's cookies or proxy may still get it).
    pub refusal: Option<SourceProblemNote>,
}

/// A scheduled live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledLive {
    /// The video id.
    pub video_id: String,
    /// The title.
    pub title: String,
    /// When it is scheduled to start.
    pub scheduled_start: Option<OffsetDateTime>,
}

/// A live that has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedLive {
    /// The video id.
    pub video_id: String,
    /// The title.
    pub title: String,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
}

/// Why the page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// YouTube answered with its cookie-consent interstitial instead of the page.
    #[error("could not parse the /live page: YouTube showed its cookie-consent page instead")]
    ConsentWall,
    /// Neither a player nor channel data: the page's layout has changed.
    #[error("could not parse the /live page: it has neither a player response nor channel data (has YouTube's layout changed?)")]
    NoPlayerResponse,
    /// The player response is not valid JSON.
    #[error("could not parse the /live page: its player response is not valid JSON ({0})")]
    MalformedPlayerResponse(String),
    /// The player response lacks something a live page always has.
    #[error("could not parse the /live page: {0}")]
    UnexpectedShape(String),
}

impl PageError {
    /// What it is, for the dashboard's banner and the event log.
    pub fn problem(&self) -> SourceProblemNote {
        let problem = match self {
            Self::ConsentWall => SourceProblem::ConsentWall,
            _ => SourceProblem::LayoutChanged,
        };
        SourceProblemNote { problem, detail: self.to_string() }
    }
}

/// What YouTube's refusal to play means: its reason's words, else its status.
pub fn refusal(status: &str, reason: &str) -> SourceProblemNote {
    let problem = SourceProblem::from_words(reason).unwrap_or(match status {
        "LOGIN_REQUIRED" => SourceProblem::BotWall,
        "AGE_CHECK_REQUIRED" | "CONTENT_CHECK_REQUIRED" => SourceProblem::AgeRestricted,
        _ => SourceProblem::NoManifest,
    });
    SourceProblemNote { problem, detail: format!("YouTube refuses to play the live to this server ({status}): {reason}") }
}

/// The watch URL of a video.
pub fn watch_url(video_id: &str) -> String {
    format!("https://www.youtube.com/watch?v={video_id}")
}

/// Whether `id` has the shape of a YouTube video id.
pub fn is_video_id(id: &str) -> bool {
    id.len() == 11 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const ASSIGNMENTS: &[&str] = &["var ytInitialPlayerResponse = ", "ytInitialPlayerResponse = ", "window[\"ytInitialPlayerResponse\"] = "];

/// Whether byte `at` of `html` is inside a `<script>` element (not, say, in a `<title>` that
/// happens to quote the assignment).
fn in_script(html: &str, at: usize) -> bool {
    let before = &html[..at];
    match (before.rfind("<script"), before.rfind("</script")) {
        (Some(open), Some(close)) => open > close,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Where the player response's value starts: after the first assignment inside a script.
fn player_response_start(html: &str) -> Option<usize> {
    ASSIGNMENTS
        .iter()
        .flat_map(|assignment| html.match_indices(assignment).map(move |(at, _)| (at, at + assignment.len())))
        .filter(|(at, _)| in_script(html, *at))
        .min_by_key(|(at, _)| *at)
        .map(|(_, start)| start)
}

/// Whether `id` has the shape of a YouTube channel id (`UC` and 22 characters).
pub fn is_channel_id(id: &str) -> bool {
    id.len() == 24 && id.starts_with("UC") && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What one read of a `/live` page gives: what it says, and the channel's id when it names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRead {
    /// What the page says.
    pub page: LivePage,
    /// The channel's `UC…` id, as the page names it.
    pub channel_id: Option<String>,
}

/// Reads a `/live` page.
pub fn parse_live_page(html: &str) -> Result<LivePage, PageError> {
    read_live_page(html).map(|read| read.page)
}

/// Reads a `/live` page, and the channel's id it names.
pub fn read_live_page(html: &str) -> Result<PageRead, PageError> {
    let home = |html: &str| PageRead { page: LivePage::NoLive, channel_id: home_channel_id(html) };
    let Some(start) = player_response_start(html) else {
        if html.contains("consent.youtube.com") || html.contains("consent.google.com") {
            return Err(PageError::ConsentWall);
        }
        // A channel's home page carries its metadata; anything else means the layout changed.
        return if html.contains("ytInitialData") && html.contains("channelMetadataRenderer") {
            Ok(home(html))
        } else {
            Err(PageError::NoPlayerResponse)
        };
    };
    let rest = html[start..].trim_start();
    if !rest.starts_with('{') {
        // `ytInitialPlayerResponse = null` is how a page without a player says so.
        return if rest.starts_with("null") {
            Ok(home(html))
        } else {
            Err(PageError::MalformedPlayerResponse("no object after the assignment".into()))
        };
    }
    let response = serde_json::Deserializer::from_str(rest)
        .into_iter::<PlayerResponse>()
        .next()
        .ok_or_else(|| PageError::MalformedPlayerResponse("empty".into()))?
        .map_err(|e| PageError::MalformedPlayerResponse(e.to_string()))?;
    let channel_id = response.video_details.as_ref().and_then(|d| d.channel_id.clone()).filter(|id| is_channel_id(id));
    Ok(PageRead { page: interpret(response)?, channel_id })
}

/// The channel's id on its home page: `channelMetadataRenderer.externalId`, else the feed's
/// link (`feeds/videos.xml?channel_id=…`). Read as text (JSON strings escape their quotes, so the
/// key with its quotes is never inside a string) and kept only with a channel id's shape.
fn home_channel_id(html: &str) -> Option<String> {
    let after = |from: usize, marker: &str| {
        let at = html.get(from..)?.find(marker)? + from + marker.len();
        html.get(at..at + 24).filter(|id| is_channel_id(id)).map(str::to_string)
    };
    let metadata = html.find("\"channelMetadataRenderer\"");
    metadata.and_then(|at| after(at, "\"externalId\":\"")).or_else(|| after(0, "feeds/videos.xml?channel_id="))
}

fn interpret(response: PlayerResponse) -> Result<LivePage, PageError> {
    let status = response.playability_status.as_ref().and_then(|p| p.status.clone()).unwrap_or_default();
    let Some(details) = response.video_details else {
        return Err(PageError::UnexpectedShape(format!("the player response has no video details (status {status:?})")));
    };
    let video_id = details.video_id.unwrap_or_default();
    if !is_video_id(&video_id) {
        return Err(PageError::UnexpectedShape(format!("`{video_id}` is not a video id")));
    }
    let title = details.title.unwrap_or_default();
    let broadcast = response.microformat.and_then(|m| m.player_microformat_renderer).and_then(|r| r.live_broadcast_details);
    let live_now = details.is_live == Some(true) || broadcast.as_ref().and_then(|b| b.is_live_now) == Some(true);
    let time_of = |text: Option<&String>| text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());

    let refused = matches!(status.as_str(), "LOGIN_REQUIRED" | "UNPLAYABLE" | "ERROR" | "CONTENT_CHECK_REQUIRED" | "AGE_CHECK_REQUIRED");
    let refusal = refused.then(|| {
        let reason = response.playability_status.as_ref().and_then(|p| p.reason.clone()).unwrap_or_else(|| "no reason given".into());
        refusal(&status, &reason)
    });
    if live_now && status != "LIVE_STREAM_OFFLINE" {
        let thumbnail_url = details
            .thumbnail
            .map(|t| t.thumbnails)
            .unwrap_or_default()
            .into_iter()
            .max_by_key(|t| u64::from(t.width.unwrap_or(0)) * u64::from(t.height.unwrap_or(0)))
            .map(|t| t.url);
        return Ok(LivePage::Live(LiveNow {
            video_id,
            title,
            description: details.short_description.unwrap_or_default(),
            channel_id: details.channel_id.unwrap_or_default(),
            author: details.author.unwrap_or_default(),
            hls_manifest_url: response.streaming_data.and_then(|s| s.hls_manifest_url),
            thumbnail_url,
            started_at: time_of(broadcast.as_ref().and_then(|b| b.start_timestamp.as_ref())),
            refusal,
        }));
    }
    if details.is_upcoming == Some(true) || status == "LIVE_STREAM_OFFLINE" {
        let scheduled = response
            .playability_status
            .and_then(|p| p.live_streamability)
            .and_then(|l| l.live_streamability_renderer)
            .and_then(|r| r.offline_slate)
            .and_then(|s| s.live_stream_offline_slate_renderer)
            .and_then(|r| r.scheduled_start_time)
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        return Ok(LivePage::Upcoming(ScheduledLive { video_id, title, scheduled_start: scheduled }));
    }
    if details.is_live_content == Some(true) {
        let ended_at = time_of(broadcast.as_ref().and_then(|b| b.end_timestamp.as_ref()));
        return Ok(LivePage::Ended(EndedLive { video_id, title, ended_at }));
    }
    Ok(LivePage::NoLive)
}

// The parts of the player response Fanout reads; everything else is ignored.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlayerResponse {
    playability_status: Option<Playability>,
    video_details: Option<VideoDetails>,
    streaming_data: Option<StreamingData>,
    microformat: Option<Microformat>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Playability {
    status: Option<String>,
    reason: Option<String>,
    live_streamability: Option<LiveStreamability>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveStreamability {
    live_streamability_renderer: Option<LiveStreamabilityRenderer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveStreamabilityRenderer {
    offline_slate: Option<OfflineSlate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfflineSlate {
    live_stream_offline_slate_renderer: Option<OfflineSlateRenderer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfflineSlateRenderer {
    scheduled_start_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoDetails {
    video_id: Option<String>,
    title: Option<String>,
    short_description: Option<String>,
    channel_id: Option<String>,
    author: Option<String>,
    is_live: Option<bool>,
    is_upcoming: Option<bool>,
    is_live_content: Option<bool>,
    thumbnail: Option<Thumbnails>,
}

#[derive(Debug, Deserialize)]
struct Thumbnails {
    #[serde(default)]
    thumbnails: Vec<Thumbnail>,
}

#[derive(Debug, Deserialize)]
struct Thumbnail {
    url: String,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamingData {
    hls_manifest_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Microformat {
    player_microformat_renderer: Option<MicroformatRenderer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MicroformatRenderer {
    live_broadcast_details: Option<BroadcastDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BroadcastDetails {
    is_live_now: Option<bool>,
    start_timestamp: Option<String>,
    end_timestamp: Option<String>,
}

#[cfg(test)]
mod tests;
