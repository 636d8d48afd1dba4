//! The messages of Restream's two WebSockets, shaped as developers.restream.io documents them
//! (TypeScript interfaces; "new actions and fields may be added over time"): the streaming
//! updates (`updateIncoming`, `deleteIncoming`, `updateOutgoing`, `deleteOutgoing`,
//! `updateStatuses`) and, from the chat API, the connections (`connection_info`,
//! `connection_closed`, `heartbeat`). Only what Fanout uses is read; everything else, and any
//! action not listed, is let through as [`Update::Other`] / [`ChatAction::Other`], so a new
//! field or action never breaks the listener. Numbers are read as `f64` where the docs say
//! `number` of a measurement (it may come with a fraction); ids as integers.

use serde::Deserialize;

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not JSON, or a known action without the documented fields. (The message itself is not
    /// repeated: it is Restream's, and Fanout logs none of it.)
    #[error("a message from Restream is not in its documented shape (at line {line}, column {column})")]
    Shape {
        /// Where serde stopped.
        line: usize,
        /// Where serde stopped.
        column: usize,
    },
}

impl From<serde_json::Error> for MessageError {
    fn from(error: serde_json::Error) -> Self {
        Self::Shape { line: error.line(), column: error.column() }
    }
}

/// One streaming update (`IUpdates` in Restream's docs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action")]
pub enum Update {
    /// The incoming stream started or changed ("there is no separate event for creation").
    #[serde(rename = "updateIncoming", rename_all = "camelCase")]
    UpdateIncoming {
        /// Restream's user.
        user_id: i64,
        /// The streaming session.
        suid: String,
        /// Streaming parameters.
        streaming: IncomingStreaming,
    },
    /// The incoming stream finished.
    #[serde(rename = "deleteIncoming", rename_all = "camelCase")]
    DeleteIncoming {
        /// Restream's user.
        user_id: i64,
        /// The streaming session.
        suid: String,
    },
    /// The stream to one end platform started or changed.
    #[serde(rename = "updateOutgoing", rename_all = "camelCase")]
    UpdateOutgoing {
        /// Restream's user.
        user_id: i64,
        /// Restream's platform id.
        platform_id: i64,
        /// Restream's channel id.
        channel_id: i64,
        /// Streaming parameters.
        streaming: OutgoingStreaming,
    },
    /// The stream to one end platform finished.
    #[serde(rename = "deleteOutgoing", rename_all = "camelCase")]
    DeleteOutgoing {
        /// Restream's user.
        user_id: i64,
        /// Restream's platform id.
        platform_id: i64,
        /// Restream's channel id.
        channel_id: i64,
    },
    /// The stream as the end platform sees it (`IStatusesUpdated`). The docs: "this can be a bit
    /// outdated cached information for long streaming sessions"; `null` means "not available".
    #[serde(rename = "updateStatuses", rename_all = "camelCase")]
    UpdateStatuses {
        /// Restream's user.
        user_id: i64,
        /// Restream's platform id.
        platform_id: i64,
        /// Restream's channel id.
        channel_id: i64,
        /// Whether the platform shows the stream live.
        online: bool,
        /// Viewers now, when the platform says.
        #[serde(default)]
        viewers: Option<f64>,
    },
    /// An action Fanout does not read (the docs say more may be added).
    #[serde(other)]
    Other,
}

/// `updateIncoming`'s `streaming`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingStreaming {
    /// Frames per second.
    #[serde(default)]
    pub fps: Option<f64>,
    /// Seconds between keyframes.
    #[serde(default)]
    pub keyframe_interval: Option<f64>,
    /// "Bits per second".
    pub bitrate: Bitrate,
    /// Codecs.
    #[serde(default)]
    pub codec: Option<Codecs>,
}

/// Bits per second, in total and per track.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Bitrate {
    /// Audio and video.
    pub total: f64,
}

/// The incoming stream's codecs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Codecs {
    /// Audio codec.
    #[serde(default)]
    pub audio: Option<String>,
    /// Video codec.
    #[serde(default)]
    pub video: Option<String>,
}

/// `updateOutgoing`'s `streaming`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingStreaming {
    /// "Status from the point of view of Restream".
    pub status: OutgoingStatus,
    /// Bits per second.
    #[serde(default)]
    pub bitrate: Option<f64>,
}

/// Restream's stream to one platform, from Restream's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutgoingStatus {
    /// Being set up.
    Connecting,
    /// Flowing.
    Connected,
    /// Broken.
    Disconnected,
    /// A status the docs do not list.
    #[serde(other)]
    Unknown,
}

impl Update {
    /// The Restream user the update is about (`None` for actions Fanout does not read).
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Self::UpdateIncoming { user_id, .. }
            | Self::DeleteIncoming { user_id, .. }
            | Self::UpdateOutgoing { user_id, .. }
            | Self::DeleteOutgoing { user_id, .. }
            | Self::UpdateStatuses { user_id, .. } => Some(*user_id),
            Self::Other => None,
        }
    }
}

/// Reads one streaming-updates message.
pub fn parse_update(text: &str) -> Result<Update, MessageError> {
    Ok(serde_json::from_str(text)?)
}

/// One action of Restream's chat API, of those about connections (`IActionType`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action")]
pub enum ChatAction {
    /// "Sent by server approx every 45 seconds. If not received in 60 seconds — consider the
    /// connection broken and try to reconnect."
    #[serde(rename = "heartbeat")]
    Heartbeat,
    /// A connection to an event source (one per enabled channel), or its error.
    #[serde(rename = "connection_info")]
    ConnectionInfo {
        /// What it says.
        payload: ConnectionInfo,
    },
    /// A connection ended.
    #[serde(rename = "connection_closed")]
    ConnectionClosed {
        /// Which.
        payload: ConnectionClosed,
    },
    /// Chat events, replies, relays: not read.
    #[serde(other)]
    Other,
}

/// `connection_info`'s payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// The target's unique identifier (the key the docs say to keep connections by).
    pub connection_identifier: String,
    /// The connection's own id (what `connection_closed` names).
    pub connection_uuid: String,
    /// `connecting`, `connected` or `error`.
    pub status: String,
    /// "text code of error, not null only when `status` = 'error'".
    #[serde(default)]
    pub reason: Option<String>,
    /// The event source's target; `websiteChannelId` is the Restream channel (absent for Discord).
    #[serde(default)]
    pub target: ConnectionTarget,
}

/// The part of a connection's target Fanout reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTarget {
    /// "Restream `channel_id`".
    #[serde(default)]
    pub website_channel_id: Option<i64>,
}

/// `connection_closed`'s payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionClosed {
    /// The connection that ended.
    pub connection_uuid: String,
}

/// The reason Restream gives when "credentials used to connect to event source API expired.
/// User should go to Restream Dashboard and refresh them."
pub const CONNECTION_EXPIRED: &str = "restream_channel_connection_expired";

impl ConnectionInfo {
    /// Whether the volunteer must reconnect the channel in Restream.
    pub fn expired(&self) -> bool {
        self.status == "error" && self.reason.as_deref() == Some(CONNECTION_EXPIRED)
    }
}

/// Reads one chat message.
pub fn parse_chat(text: &str) -> Result<ChatAction, MessageError> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_streaming_updates_are_read() {
        let incoming = r#"{"action":"updateIncoming","userId":5101,"eventId":null,"createdAt":1700000000,"suid":"s-1",
            "streaming":{"fps":30,"keyframeInterval":2,"lossRate":0,"bitrate":{"total":1549000.5,"audio":128000,"video":1421000},
            "codec":{"audio":"aac","video":"h264"},"profileAndLevel":"High@4.0","height":720,"width":1280}}"#;
        let Ok(Update::UpdateIncoming { user_id, suid, streaming }) = parse_update(incoming) else { panic!("{incoming}") };
        assert_eq!(
            (user_id, suid.as_str(), streaming.bitrate.total, streaming.fps, streaming.keyframe_interval),
            (5101, "s-1", 1549000.5, Some(30.0), Some(2.0))
        );
        assert_eq!(streaming.codec.and_then(|c| c.video).as_deref(), Some("h264"));

        let outgoing = r#"{"action":"updateOutgoing","userId":5101,"platformId":5,"channelId":510101,"createdAt":1,
            "channelIdentifier":"UCx","eventIdentifier":"e","streaming":{"status":"DISCONNECTED","bitrate":0,"bufferedBytes":0}}"#;
        assert_eq!(
            parse_update(outgoing).ok(),
            Some(Update::UpdateOutgoing {
                user_id: 5101,
                platform_id: 5,
                channel_id: 510101,
                streaming: OutgoingStreaming { status: OutgoingStatus::Disconnected, bitrate: Some(0.0) }
            })
        );
        let statuses = r#"{"action":"updateStatuses","userId":5101,"platformId":5,"channelId":510101,"createdAt":1,"updatedAt":2,
            "channelIdentifier":"UCx","eventIdentifier":"e","channelViews":null,"followers":null,"gameTitle":null,"online":true,
            "streamViews":null,"title":"Live","viewers":12}"#;
        assert_eq!(
            parse_update(statuses).ok(),
            Some(Update::UpdateStatuses { user_id: 5101, platform_id: 5, channel_id: 510101, online: true, viewers: Some(12.0) })
        );
        let unknown_viewers = statuses.replace("\"viewers\":12", "\"viewers\":null");
        assert!(matches!(parse_update(&unknown_viewers), Ok(Update::UpdateStatuses { viewers: None, .. })));
        let ended = r#"{"action":"deleteIncoming","userId":5101,"createdAt":1,"suid":"s-1"}"#;
        assert_eq!(parse_update(ended).ok().and_then(|u| u.user_id()), Some(5101));
    }

    #[test]
    fn new_actions_and_fields_are_let_through_and_broken_ones_are_errors_that_repeat_nothing() {
        assert_eq!(parse_update(r#"{"action":"updateSomethingNew","userId":1}"#).ok(), Some(Update::Other));
        let extra = r#"{"action":"deleteOutgoing","userId":1,"platformId":1,"channelId":2,"createdAt":3,"brandNew":{"x":1}}"#;
        assert!(matches!(parse_update(extra), Ok(Update::DeleteOutgoing { channel_id: 2, .. })));
        let status = r#"{"action":"updateOutgoing","userId":1,"platformId":1,"channelId":2,"streaming":{"status":"PAUSED"}}"#;
        assert!(matches!(
            parse_update(status),
            Ok(Update::UpdateOutgoing { streaming: OutgoingStreaming { status: OutgoingStatus::Unknown, .. }, .. })
        ));
        let secret = "accessToken=do-not-repeat-me";
        let error = parse_update(&format!(r#"{{"action":"updateIncoming","userId":"{secret}"}}"#)).err().map(|e| e.to_string());
        assert!(error.as_deref().is_some_and(|e| e.contains("documented shape") && !e.contains(secret)), "{error:?}");
        assert!(parse_update("not json").is_err());
    }

    #[test]
    fn chat_connections_are_read_and_an_expired_one_is_told_apart() {
        let expired = r#"{"action":"connection_info","timestamp":1,"payload":{"connectionIdentifier":"5101-twitch-1",
            "connectionUuid":"u-1","eventSourceId":2,"reason":"restream_channel_connection_expired","status":"error",
            "target":{"owner":{"displayName":"x","id":"1"},"websiteChannelId":510102},"userId":5101}}"#;
        let Ok(ChatAction::ConnectionInfo { payload }) = parse_chat(expired) else { panic!("{expired}") };
        assert!(payload.expired());
        assert_eq!(payload.target.website_channel_id, Some(510102));
        let fine = expired.replace("\"restream_channel_connection_expired\"", "null").replace("\"error\"", "\"connected\"");
        assert!(matches!(parse_chat(&fine), Ok(ChatAction::ConnectionInfo { payload }) if !payload.expired()));
        let discord = r#"{"action":"connection_info","payload":{"connectionIdentifier":"d","connectionUuid":"u","status":"connected",
            "target":{"channel":{"id":"1","url":"x"}}}}"#;
        assert!(matches!(parse_chat(discord), Ok(ChatAction::ConnectionInfo { payload }) if payload.target.website_channel_id.is_none()));
        assert_eq!(parse_chat(r#"{"action":"heartbeat","timestamp":1}"#).ok(), Some(ChatAction::Heartbeat));
        assert_eq!(parse_chat(r#"{"action":"event","payload":{}}"#).ok(), Some(ChatAction::Other));
        let closed = r#"{"action":"connection_closed","payload":{"connectionUuid":"u-1","reason":"removed"}}"#;
        assert!(matches!(parse_chat(closed), Ok(ChatAction::ConnectionClosed { payload }) if payload.connection_uuid == "u-1"));
    }
}
