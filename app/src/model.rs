//! The vocabulary shared by the server and the browser: the ids (`ids`), a cluster node's name
//! (`node`), what can stand between
//! Fanout and the live (`source`), account statuses,
//! live states, event kinds and the destinations' and ingest's states (`states`), each with
//! the stable `snake_case` text form the store keeps and the pages show.

mod ids;
mod node;
mod source;
mod states;

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

pub use ids::{AccountId, ApiTokenId, DestinationId, DirectId, NotADestinationId, VideoId};
pub use node::{NODE_NAME_MAX, NodeName, NotANodeName};
pub use source::{SourceProblem, SourceProblemNote};
pub use states::{DestinationKind, DestinationState, Held, IngestState, TranscodeProfile};

/// The public channel URLs a volunteer says they connected on Restream.io.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerChannels {
    /// YouTube channel URL.
    pub youtube: Option<String>,
    /// Twitch channel URL.
    pub twitch: Option<String>,
    /// X (Twitter) profile URL.
    pub x: Option<String>,
    /// Facebook page URL.
    pub facebook: Option<String>,
}

/// One of the channels a volunteer connected on Restream.io (YouTube, Twitch, …), as Restream
/// lists it. Titles are set and streams forwarded per channel by Restream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestreamChannel {
    /// Restream's channel id.
    pub id: i64,
    /// Restream's id of the platform (`streamingPlatformId`).
    pub platform_id: i64,
    /// The platform's name, e.g. "YouTube" (from Restream's platform list).
    pub platform: String,
    /// The channel's name on its platform.
    pub display_name: String,
    /// The channel's public address, when Restream gives one.
    pub url: Option<String>,
    /// Whether Restream forwards streams to it.
    pub enabled: bool,
}

/// Whether a volunteer's account takes part in the next live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AccountStatus {
    /// Connected and streamed to.
    Active,
    /// Connected, but the volunteer (or an admin) paused streaming to it.
    Paused,
    /// Restream refused its tokens; the volunteer must connect again.
    NeedsReconnect,
    /// The volunteer disconnected; its tokens are deleted.
    Disconnected,
}

/// Which e-mails a volunteer takes from Fanout: "your Restream connection needs you" (on unless
/// they opt out) and "we're live" (off unless they opt in). An unsubscribe link turns both off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MailChoices {
    /// Mail them when their account needs reconnecting.
    pub needs_you: bool,
    /// Mail them when a live starts streaming to them.
    pub live_notes: bool,
}

impl Default for MailChoices {
    fn default() -> Self {
        Self { needs_you: true, live_notes: false }
    }
}

impl MailChoices {
    /// No mail at all.
    pub const NONE: Self = Self { needs_you: false, live_notes: false };
}

/// Where a live is in its life, from detection to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LiveState {
    /// Seen live on the watched channel.
    #[default]
    Detected,
    /// Titles being set and stream keys fetched.
    Preparing,
    /// Pulled and fanned out.
    Streaming,
    /// The input was lost; waiting for it to come back before ending.
    Grace,
    /// Over; every destination closed.
    Ended,
}

/// What an entry of the event history records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    /// The server started.
    ServerStarted,
    /// The server stopped on request.
    ServerStopped,
    /// A volunteer connected a Restream account for the first time.
    AccountConnected,
    /// A volunteer connected an account that was already known.
    AccountReconnected,
    /// An account's status changed (paused, resumed, disconnected, needs reconnect).
    AccountStatusChanged,
    /// A live was detected on the watched channel.
    LiveDetected,
    /// A live changed state.
    LiveStateChanged,
    /// A second live on the channel was seen while one was being restreamed (it is ignored).
    SecondLiveIgnored,
    /// The `/live` page could not be read.
    DetectionProblem,
    /// Something stands between Fanout and the live: a bot wall, a consent page, a members-only
    /// or age-limited live, no stream for this server, yt-dlp failing (each said plainly, with
    /// what to do).
    SourceProblem,
    /// yt-dlp was updated (between lives).
    ToolUpdated,
    /// A channel's title was set for a live.
    TitleUpdated,
    /// Setting a channel's title failed (streaming goes on).
    TitleFailed,
    /// A destination was added to the live.
    DestinationJoined,
    /// A destination left the live.
    DestinationLeft,
    /// A destination could not be prepared (token, stream key).
    DestinationFailed,
    /// What Restream reports receiving disagrees with what Fanout sends, or a social channel
    /// behind an account went offline or needs reconnecting in Restream (and when it is right
    /// again) — from Restream's streaming updates, once per change.
    RestreamHealth,
    /// The live's input was lost (grace period started).
    InputLost,
    /// The live's input came back within the grace period.
    InputRestored,
    /// The slate went on (no source sends) or off (a source is back).
    Slate,
    /// The pre-flight checks of the source found something (or nothing any more).
    SourceCheck,
    /// An admin acted from the dashboard (stop, start, retry, titles, profile, direct destinations).
    AdminAction,
    /// The fan-out backend (Nimble Streamer) had a problem — a refused token, an unreachable
    /// API, rules that could not be synced or removed — or recovered from one. (Stored as
    /// `backend`; `fanout_backend`, its earlier name, still reads.)
    #[strum(to_string = "backend", serialize = "fanout_backend")]
    #[serde(rename = "backend", alias = "fanout_backend")]
    Backend,
    /// A notification (e-mail or webhook) could not be delivered after every retry; the channel
    /// is named without its secret.
    NotificationFailed,
    /// A node of a cluster took its lease, lost it (lapsed, or taken by another), or found its
    /// name held by another live node.
    NodeLease,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr + Serialize,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for word in all {
            let text = word.to_string();
            assert_eq!(text.parse::<T>().ok(), Some(*word), "{text} parses back");
            let json = serde_json::to_string(word).unwrap_or_default();
            assert_eq!(json, format!("\"{text}\""), "serde and text forms agree");
        }
    }

    #[test]
    fn every_word_round_trips_through_its_text_form() {
        round_trips(AccountStatus::VARIANTS);
        round_trips(LiveState::VARIANTS);
        round_trips(EventKind::VARIANTS);
        round_trips(DestinationState::VARIANTS);
        round_trips(Held::VARIANTS);
        round_trips(DestinationKind::VARIANTS);
        round_trips(IngestState::VARIANTS);
        round_trips(TranscodeProfile::VARIANTS);
        round_trips(SourceProblem::VARIANTS);
        assert_eq!("fanout_backend".parse::<EventKind>(), Ok(EventKind::Backend), "the earlier word still reads");
        assert_eq!(TranscodeProfile::P480.to_string(), "480p");
        assert_eq!(AccountStatus::NeedsReconnect.to_string(), "needs_reconnect");
    }

    #[test]
    fn unknown_word_is_refused() {
        assert!("dormant".parse::<AccountStatus>().is_err());
    }
}
