//! The states shared with the browser: where a destination is, why one is held out of a live,
//! whose it is, where the ingest is, and the transcode profiles — each with the stable
//! `snake_case` text form the pages, the store and the API use.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// Where a destination of the live is, as the dashboard shows it: the relay's own states and
/// the reasons one is held out of the live, in the order the dashboard counts them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DestinationState {
    /// Media is being written.
    Streaming,
    /// Connecting (first time).
    #[default]
    Connecting,
    /// Lost; waiting before the next attempt.
    Retrying,
    /// The volunteer (or an admin) paused it.
    Paused,
    /// Restream refused its tokens: the volunteer must connect again.
    NeedsReconnect,
    /// It could not be prepared; tried again soon.
    Failed,
    /// Removed from the live.
    Stopped,
}

impl DestinationState {
    /// Whether Fanout is (or is trying to be) sending to it.
    pub fn is_sending(self) -> bool {
        matches!(self, Self::Streaming | Self::Connecting | Self::Retrying)
    }

    /// Its text form.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a destination of the live is not being sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Held {
    /// The volunteer (or an admin) paused it.
    Paused,
    /// Restream refused its tokens: the volunteer must connect again.
    NeedsReconnect,
    /// It could not be prepared (see its last error); tried again soon.
    Failed,
}

impl From<Held> for DestinationState {
    fn from(held: Held) -> Self {
        match held {
            Held::Paused => Self::Paused,
            Held::NeedsReconnect => Self::NeedsReconnect,
            Held::Failed => Self::Failed,
        }
    }
}

/// Whose a destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, Display, EnumString, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DestinationKind {
    /// A volunteer's Restream.io account.
    #[default]
    Restream,
    /// A plain RTMP(S) target the admin added.
    Direct,
}

/// Where the ingest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IngestState {
    /// Starting ffmpeg.
    Starting,
    /// ffmpeg runs.
    Running,
    /// ffmpeg exited; waiting before starting it again.
    Restarting,
    /// The source's stream ended (not a fault); started again only if the engine asks.
    Ended,
    /// Stopped on request.
    Stopped,
}

/// What the ingest does to the media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, Display, EnumString, VariantArray)]
pub enum TranscodeProfile {
    /// Copy: remux only, no re-encoding (the default).
    #[default]
    #[serde(rename = "copy")]
    #[strum(serialize = "copy")]
    Copy,
    /// 720p, 2.5 Mbit/s.
    #[serde(rename = "720p")]
    #[strum(serialize = "720p")]
    P720,
    /// 480p, 1.2 Mbit/s.
    #[serde(rename = "480p")]
    #[strum(serialize = "480p")]
    P480,
}

impl TranscodeProfile {
    /// The video bitrate of the profile, kbit/s (`None` for copy: whatever the source has).
    pub fn video_kbps(self) -> Option<u32> {
        match self {
            Self::Copy => None,
            Self::P720 => Some(2500),
            Self::P480 => Some(1200),
        }
    }

    /// The frame height it scales to (`None` for copy).
    pub fn height(self) -> Option<u32> {
        match self {
            Self::Copy => None,
            Self::P720 => Some(720),
            Self::P480 => Some(480),
        }
    }
}
