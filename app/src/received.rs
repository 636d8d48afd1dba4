//! What Restream.io says it receives — the other half of a destination's truth. Fanout knows
//! what it sends; Restream's streaming-updates WebSocket says what arrived there (the incoming
//! stream, its bitrate) and what became of it on each social channel behind the account (online,
//! offline, viewers). The engine fills these in (`server::restream::updates`); the dashboard's
//! rows, its totals and the volunteer's manage page show them.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// Restream's side of one account's destination, while a live runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceivedHealth {
    /// Whether Fanout is connected to Restream's streaming updates for this account (until it
    /// is, nothing below is known).
    pub listening: bool,
    /// Whether Restream reports receiving the live.
    pub receiving: bool,
    /// The stream Restream receives, as it measures it.
    pub incoming: Option<IncomingStream>,
    /// Seconds since Restream last reported the incoming stream.
    pub last_seen_secs: Option<u64>,
    /// Each social channel behind the account.
    pub channels: Vec<ChannelHealth>,
    /// Platforms whose connection expired in Restream: the volunteer must reconnect them there.
    pub reconnect: Vec<String>,
}

/// The stream arriving at Restream (`updateIncoming`'s `streaming`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncomingStream {
    /// Total bitrate, bits per second.
    pub bitrate_bps: u64,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Seconds between keyframes.
    pub keyframe_interval: Option<f64>,
    /// Video codec, as Restream names it.
    pub video_codec: Option<String>,
    /// Audio codec, as Restream names it.
    pub audio_codec: Option<String>,
}

/// One social channel behind an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHealth {
    /// Restream's channel id.
    pub id: i64,
    /// The platform's name, e.g. "YouTube".
    pub platform: String,
    /// The channel's name on its platform.
    pub name: String,
    /// Where it is.
    pub state: ChannelState,
    /// Viewers now, when the platform tells Restream.
    pub viewers: Option<u64>,
}

/// Where a social channel is, as Restream reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ChannelState {
    /// The platform shows the live.
    Online,
    /// Restream is sending to it (or about to) and the platform does not show it live yet.
    Connecting,
    /// The platform does not show the live.
    Offline,
    /// Restream cannot send to the platform.
    Error,
    /// Restream has said nothing of it yet.
    Unknown,
}

impl ChannelState {
    /// Its text form.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What is wrong with a destination, judged from both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HealthFlag {
    /// Fanout has been sending for a while, and Restream does not report receiving it.
    SentNotReceived,
}

impl HealthFlag {
    /// In words, for the dashboard.
    pub fn describe(self) -> &'static str {
        match self {
            Self::SentNotReceived => "sent but not received",
        }
    }
}

impl ReceivedHealth {
    /// The volunteer's own line: "Restream is receiving the live · YouTube online · Twitch
    /// offline".
    pub fn line(&self) -> String {
        let head = match (self.listening, self.receiving) {
            (false, _) => "Restream's report is not in yet",
            (true, true) => "Restream is receiving the live",
            (true, false) => "Restream is not receiving the live",
        };
        std::iter::once(head.to_string())
            .chain(self.channels.iter().map(|c| format!("{} {}", c.platform, c.state.as_str())))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// What the volunteer must do in Restream, one sentence per platform.
    pub fn reconnect_advice(&self) -> Vec<String> {
        self.reconnect.iter().map(|platform| format!("Reconnect your {platform} in Restream")).collect()
    }

    /// How many of its channels are online.
    pub fn channels_online(&self) -> usize {
        self.channels.iter().filter(|c| c.state == ChannelState::Online).count()
    }

    /// Viewers on its channels, where the platforms report them.
    pub fn viewers(&self) -> Option<u64> {
        self.channels.iter().filter_map(|c| c.viewers).reduce(u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(platform: &str, state: ChannelState, viewers: Option<u64>) -> ChannelHealth {
        ChannelHealth { id: 1, platform: platform.into(), name: format!("on {platform}"), state, viewers }
    }

    #[test]
    fn the_volunteers_line_names_each_channel_and_what_restream_receives() {
        let health = ReceivedHealth {
            listening: true,
            receiving: true,
            channels: vec![channel("YouTube", ChannelState::Online, Some(12)), channel("Twitch", ChannelState::Offline, None)],
            ..ReceivedHealth::default()
        };
        assert_eq!(health.line(), "Restream is receiving the live · YouTube online · Twitch offline");
        assert_eq!((health.channels_online(), health.viewers()), (1, Some(12)));
        let waiting = ReceivedHealth::default();
        assert_eq!(waiting.line(), "Restream's report is not in yet");
        assert_eq!(waiting.viewers(), None, "no platform said: unknown, not zero");
        let not = ReceivedHealth { listening: true, reconnect: vec!["Twitch".into()], ..ReceivedHealth::default() };
        assert_eq!(not.line(), "Restream is not receiving the live");
        assert_eq!(not.reconnect_advice(), ["Reconnect your Twitch in Restream"]);
    }

    #[test]
    fn words_round_trip() {
        for state in ChannelState::VARIANTS {
            assert_eq!(state.to_string().parse::<ChannelState>().ok(), Some(*state));
            assert_eq!(serde_json::to_string(state).unwrap_or_default(), format!("\"{state}\""));
        }
        assert_eq!(HealthFlag::SentNotReceived.to_string(), "sent_not_received");
        assert_eq!(HealthFlag::SentNotReceived.describe(), "sent but not received");
    }
}
