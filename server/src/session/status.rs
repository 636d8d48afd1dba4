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

/// A destination of the live.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationView {
    /// The account's id.
    pub account_id: String,
    /// The volunteer's name.
    pub name: String,
    /// Its status.
    pub status: DestinationStatus,
}
