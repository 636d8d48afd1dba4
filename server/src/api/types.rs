//! What the API answers and takes: its own thin types (each deriving `utoipa::ToSchema`, so the
//! OpenAPI document is made from them), filled from the shared `app` types.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's stable code and its message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case (e.g. `invalid_token`, `rate_limited`, `invalid_field`).
    pub code: String,
    /// What to do about it, in words.
    pub message: String,
}

/// The live now, and what the source and ingest show.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveNow {
    /// The watched channel, when configured.
    pub watching: Option<String>,
    /// The title the channel shows live now, restreamed or not.
    pub on_air: Option<String>,
    /// The live being restreamed, if any.
    pub live: Option<LiveView>,
    /// Whether media reaches the relay.
    pub input_publishing: bool,
    /// The input's bitrate, bits per second.
    pub input_bps: u64,
    /// Destinations being sent to.
    pub sending: usize,
}

/// The live being restreamed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveView {
    /// Its title.
    pub title: String,
    /// Its YouTube address.
    pub url: String,
    /// `detected`, `preparing`, `streaming`, `grace`, `ended`…
    pub phase: String,
    /// For how long it has been in that phase, in seconds.
    pub phase_secs: u64,
}

/// One destination of the live.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DestinationView {
    /// An account's id, or `direct-<id>`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `account` or `direct`.
    pub kind: String,
    /// Its state (`streaming`, `connecting`, `failed`, `paused`…).
    pub state: String,
    /// What is sent to it, bits per second.
    pub bitrate_bps: u64,
    /// Bytes sent so far.
    pub bytes_sent: u64,
    /// Reconnections so far.
    pub reconnects: u32,
    /// Its last error, if any.
    pub last_error: Option<String>,
}

/// A volunteer's account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// Its id.
    pub id: String,
    /// The volunteer's name.
    pub name: String,
    /// `active`, `paused`, `needs_reconnect`, `disconnected`.
    pub status: String,
    /// When they first connected (RFC 3339, UTC).
    pub connected_since: String,
}

/// What an action did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Done {
    /// What was done, in words (as the dashboard says it).
    pub message: String,
}

/// A past (or current) live.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveRecord {
    /// The YouTube video id.
    pub video_id: String,
    /// Its title.
    pub title: String,
    /// Its YouTube address.
    pub url: String,
    /// `detected` … `ended`.
    pub state: String,
    /// When Fanout noticed it (RFC 3339, UTC).
    pub detected_at: String,
    /// How long it was restreamed, in seconds (so far, while it goes on).
    pub duration_secs: Option<u64>,
    /// The most destinations streaming at once.
    pub peak_destinations: u32,
    /// Destination failures.
    pub failures: u32,
}

/// The most recent lives, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LivesPage {
    /// The lives.
    pub lives: Vec<LiveRecord>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<String>,
}

/// Which lives to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LivesQuery {
    /// Only lives older than this (the previous page's `next_before`).
    pub before: Option<String>,
    /// At most this many (1–100, 20 when absent).
    pub limit: Option<u32>,
}

/// One entry of the event log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventRecord {
    /// Its id; larger is newer.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Its kind (e.g. `admin_action`).
    pub kind: String,
    /// The account it is about, if any.
    pub account_id: Option<String>,
    /// What happened.
    pub message: String,
}

/// A page of the event log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// The events.
    pub events: Vec<EventRecord>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<i64>,
}

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Only events older than this id.
    pub before: Option<i64>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only events about this account.
    pub account: Option<String>,
    /// At most this many (1–100, 25 when absent).
    pub limit: Option<u32>,
}

/// A direct RTMP(S) destination (its key is never shown).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DirectView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub label: String,
    /// `rtmp[s]://host[:port]/application`, without the key.
    pub server: String,
    /// Whether lives are streamed to it.
    pub enabled: bool,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
}

/// What to change on a direct destination (absent fields stay as they are; an empty or absent
/// key keeps the saved one).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DirectPatch {
    /// A new name.
    pub label: Option<String>,
    /// A new server URL (`rtmp[s]://host[:port]/application`).
    pub url: Option<String>,
    /// A new stream key.
    pub key: Option<String>,
    /// Whether a live streams to it.
    pub enabled: Option<bool>,
}

/// A direct destination to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDirect {
    /// Its name.
    pub label: String,
    /// The server URL (`rtmp[s]://host[:port]/application`), or the whole URL with the key at its end.
    pub url: String,
    /// The stream key (may be empty when it ends the URL).
    #[serde(default)]
    pub key: String,
}
