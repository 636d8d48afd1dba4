//! What the engine says about itself, for the dashboard and `/metrics`: the watched channel,
//! the live and its phase, the input, the ingest, and every destination.

use app::model::LiveState;
use serde::Serialize;

use crate::ingest::IngestStatus;
use crate::relay::{DestinationStatus, InputStatus};

/// The engine's status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EngineStatus {
    /// The watched channel's URL, when configured.
    pub watching: Option<String>,
    /// What the latest look at the `/live` page said, in words.
    pub detection: Option<String>,
    /// The title of the live the channel shows now, restreamed or not.
    pub on_air: Option<String>,
    /// The live being restreamed.
    pub live: Option<LiveView>,
    /// The relay's input.
    pub input: InputStatus,
    /// The ingest.
    pub ingest: Option<IngestStatus>,
    /// Every destination.
    pub destinations: Vec<DestinationView>,
}

/// The live being restreamed.
#[derive(Debug, Clone, Serialize)]
pub struct LiveView {
    /// Its video id.
    pub video_id: String,
    /// Its title, whole.
    pub title: String,
    /// Its watch URL.
    pub url: String,
    /// Its thumbnail.
    pub thumbnail_url: Option<String>,
    /// Where it is.
    pub phase: LiveState,
    /// Seconds since it entered that phase.
    pub phase_secs: u64,
}

/// A destination of the live: one in the relay, or one held out of it.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationView {
    /// Its id: the account's id, or `direct-<id>` for a direct destination.
    pub id: String,
    /// The volunteer's name, or the direct destination's label.
    pub name: String,
    /// Whether it is a volunteer's Restream account or a direct destination.
    pub kind: DestinationKind,
    /// The Restream channels behind it (enabled ones).
    pub channels: Vec<String>,
    /// What became of its titles for this live, in words.
    pub titles: Option<String>,
    /// Why it is not in the relay, when it is not.
    pub held: Option<Held>,
    /// Its status in the relay (a held destination's is empty).
    pub status: DestinationStatus,
}

/// Whose a destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DestinationKind {
    /// A volunteer's Restream.io account.
    Restream,
    /// A plain RTMP(S) target the admin added.
    Direct,
}

/// Why a destination of the live is not being sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Held {
    /// The volunteer (or an admin) paused it.
    Paused,
    /// Restream refused its tokens: the volunteer must connect again.
    NeedsReconnect,
    /// It could not be prepared (see its last error); tried again within a minute.
    Failed,
}
