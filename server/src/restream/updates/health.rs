//! From Restream's messages to a destination's health, purely (no sockets, no clock of its
//! own: every function is given the time). [`Heard`] is what one account's listener has
//! learnt from its sockets; [`Judge`] turns it, with what Fanout sends, into the dashboard's
//! [`ReceivedHealth`] and flag, and into events — once per change, never per message.
//!
//! Where the docs are silent:
//! - how often `updateIncoming` repeats while a stream goes on. They say a new connection gets
//!   "all updates since about 1 minute ago", enough "to reconstruct the whole state", so an
//!   incoming stream not reported for [`INCOMING_FRESH`] counts as gone; and a reconnected
//!   socket starts from nothing (the replay rebuilds it).
//! - what ends a channel's `updateStatuses`: a `deleteOutgoing` makes the channel offline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use app::model::{AccountId, RestreamChannel};
use app::received::{ChannelHealth, ChannelState, HealthFlag, IncomingStream, ReceivedHealth};

use super::messages::{ChatAction, OutgoingStatus, Update};

/// An incoming stream Restream has not reported for this long is taken as gone.
pub const INCOMING_FRESH: Duration = Duration::from_secs(90);

/// How long Fanout must have been sending, unseen by Restream, before the destination is
/// flagged "sent but not received"; and how long a channel must stay offline during a live
/// before that is an event.
pub const SETTLE: Duration = Duration::from_secs(15);

/// What one account's listener has heard from Restream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heard {
    /// Whether the streaming-updates socket is open now, and since when.
    pub connected_since: Option<Instant>,
    /// How many times the socket was opened.
    pub connects: u32,
    /// The incoming stream, and when Restream last reported it.
    pub incoming: Option<(IncomingStream, Instant)>,
    /// Each channel Restream reported on.
    pub channels: BTreeMap<i64, Channel>,
    /// Chat connections in error because the platform's credentials expired: connection
    /// identifier → (connection uuid, Restream channel id).
    pub expired: BTreeMap<String, (String, i64)>,
}

/// One channel, as Restream reported it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Channel {
    /// Restream's platform id.
    pub platform_id: i64,
    /// The last `updateOutgoing` status; `None` after a `deleteOutgoing`, or before any.
    pub outgoing: Option<OutgoingStatus>,
    /// Whether Restream's stream to it was deleted since it was last updated.
    pub ended: bool,
    /// `updateStatuses`' `online`, when it came.
    pub online: Option<bool>,
    /// `updateStatuses`' `viewers`.
    pub viewers: Option<u64>,
}

impl Channel {
    /// Where the channel is.
    pub fn state(&self) -> ChannelState {
        match (self.ended, self.outgoing, self.online) {
            (true, _, _) => ChannelState::Offline,
            (_, Some(OutgoingStatus::Disconnected), _) => ChannelState::Error,
            (_, _, Some(true)) => ChannelState::Online,
            (_, _, Some(false)) => ChannelState::Offline,
            (_, Some(_), None) => ChannelState::Connecting,
            (_, None, None) => ChannelState::Unknown,
        }
    }
}

/// A measurement Restream sends as a JSON number, as a count.
fn count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 { value.round().min(u64::MAX as f64) as u64 } else { 0 }
}

impl Heard {
    /// The streaming-updates socket opened at `at`: what was known is dropped, Restream's
    /// replay of the last minute rebuilds it.
    pub fn opened(&mut self, at: Instant) {
        self.connected_since = Some(at);
        self.connects = self.connects.saturating_add(1);
        self.incoming = None;
        self.channels.clear();
    }

    /// The streaming-updates socket closed.
    pub fn closed(&mut self) {
        self.connected_since = None;
    }

    /// Takes in one streaming update, heard at `at`.
    pub fn update(&mut self, update: Update, at: Instant) {
        match update {
            Update::UpdateIncoming { streaming, .. } => {
                let codec = streaming.codec.unwrap_or(super::messages::Codecs { audio: None, video: None });
                let stream = IncomingStream {
                    bitrate_bps: count(streaming.bitrate.total),
                    fps: streaming.fps.filter(|f| f.is_finite()),
                    keyframe_interval: streaming.keyframe_interval.filter(|k| k.is_finite()),
                    video_codec: codec.video,
                    audio_codec: codec.audio,
                };
                self.incoming = Some((stream, at));
            }
            Update::DeleteIncoming { .. } => self.incoming = None,
            Update::UpdateOutgoing { platform_id, channel_id, streaming, .. } => {
                let channel = self.channels.entry(channel_id).or_default();
                channel.platform_id = platform_id;
                channel.outgoing = Some(streaming.status);
                channel.ended = false;
            }
            Update::DeleteOutgoing { platform_id, channel_id, .. } => {
                // Nothing is sent to it any more: what the platform said of that stream is over.
                let channel = self.channels.entry(channel_id).or_default();
                *channel = Channel { platform_id, ended: true, ..Channel::default() };
            }
            Update::UpdateStatuses { platform_id, channel_id, online, viewers, .. } => {
                let channel = self.channels.entry(channel_id).or_default();
                channel.platform_id = platform_id;
                channel.online = Some(online);
                channel.viewers = viewers.map(count);
            }
            Update::Other => {}
        }
    }

    /// Takes in one chat action: keeps the connections whose platform credentials expired,
    /// keyed as the docs say (by `connectionIdentifier`, removed by `connectionUuid`).
    pub fn chat(&mut self, action: ChatAction) {
        match action {
            ChatAction::ConnectionInfo { payload } => match (payload.expired(), payload.target.website_channel_id) {
                (true, Some(channel)) => {
                    self.expired.insert(payload.connection_identifier, (payload.connection_uuid, channel));
                }
                _ => {
                    self.expired.remove(&payload.connection_identifier);
                }
            },
            ChatAction::ConnectionClosed { payload } => self.expired.retain(|_, (uuid, _)| *uuid != payload.connection_uuid),
            ChatAction::Heartbeat | ChatAction::Other => {}
        }
    }

    /// Whether Restream reports receiving the live at `now`.
    pub fn receiving(&self, now: Instant) -> bool {
        self.connected_since.is_some()
            && self.incoming.as_ref().is_some_and(|(_, seen)| now.saturating_duration_since(*seen) < INCOMING_FRESH)
    }

    /// The dashboard's view of it, the account's enabled channels (`known`) first.
    pub fn received(&self, known: &[RestreamChannel], now: Instant) -> ReceivedHealth {
        let receiving = self.receiving(now);
        let name_of = |id: i64, platform_id: i64| match known.iter().find(|c| c.id == id) {
            Some(c) => (c.platform.clone(), c.display_name.clone()),
            None => (format!("Platform #{platform_id}"), format!("channel {id}")),
        };
        let mut channels: Vec<ChannelHealth> = known
            .iter()
            .map(|c| {
                let heard = self.channels.get(&c.id);
                ChannelHealth {
                    id: c.id,
                    platform: c.platform.clone(),
                    name: c.display_name.clone(),
                    state: heard.map_or(ChannelState::Unknown, Channel::state),
                    viewers: heard.and_then(|h| h.viewers),
                }
            })
            .collect();
        for (id, heard) in self.channels.iter().filter(|(id, _)| !known.iter().any(|c| c.id == **id)) {
            let (platform, name) = name_of(*id, heard.platform_id);
            channels.push(ChannelHealth { id: *id, platform, name, state: heard.state(), viewers: heard.viewers });
        }
        let reconnect: BTreeSet<String> =
            self.expired.values().map(|(_, channel)| name_of(*channel, 0).0).filter(|p| !p.starts_with("Platform #")).collect();
        ReceivedHealth {
            listening: self.connected_since.is_some(),
            receiving,
            incoming: self.incoming.as_ref().filter(|_| receiving).map(|(stream, _)| stream.clone()),
            last_seen_secs: self.incoming.as_ref().map(|(_, seen)| now.saturating_duration_since(*seen).as_secs()),
            channels,
            reconnect: reconnect.into_iter().collect(),
        }
    }
}

/// What the judge remembers of one account between looks.
#[derive(Debug, Default)]
struct Memory {
    /// Since when Fanout has been sending while Restream, listened to, reports nothing.
    unseen_since: Option<Instant>,
    flagged: bool,
    /// Per channel: its state, since when, and whether its being down was told.
    channels: HashMap<i64, (ChannelState, Instant, bool)>,
    /// Platforms told to reconnect.
    told_reconnect: BTreeSet<String>,
}

/// One account's destination, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Restream's side, for the row.
    pub received: ReceivedHealth,
    /// What is wrong, judged from both sides.
    pub flag: Option<HealthFlag>,
    /// What changed, in words, to record as events (about this account).
    pub events: Vec<String>,
}

/// Judges every account's destination from both sides, remembering what it already told.
#[derive(Debug, Default)]
pub struct Judge {
    accounts: HashMap<AccountId, Memory>,
}

impl Judge {
    /// Judges `account` (named `name`; its enabled channels `known`) at `now`: `streaming`,
    /// whether Fanout is sending it media now (its connection to the Restream ingest streaming,
    /// bytes flowing); `heard`, what its listener heard (`None`: no listener).
    pub fn judge(
        &mut self,
        account: &AccountId,
        name: &str,
        known: &[RestreamChannel],
        streaming: bool,
        heard: Option<&Heard>,
        now: Instant,
    ) -> Verdict {
        let memory = self.accounts.entry(account.clone()).or_default();
        let received = heard.map(|h| h.received(known, now)).unwrap_or_default();
        let mut events = Vec::new();

        let unseen = streaming && received.listening && !received.receiving;
        memory.unseen_since = if unseen { Some(memory.unseen_since.unwrap_or(now)) } else { None };
        let flagged = memory.unseen_since.is_some_and(|since| now.saturating_duration_since(since) >= SETTLE);
        if flagged && !memory.flagged {
            events.push(format!("{name}: Fanout sends the live, but Restream has not received it for {} s", SETTLE.as_secs()));
        } else if memory.flagged && received.receiving {
            events.push(format!("{name}: Restream receives the live again"));
        }
        memory.flagged = flagged || (memory.flagged && !received.receiving && streaming);

        memory.channels.retain(|id, _| received.channels.iter().any(|c| c.id == *id));
        for channel in received.channels.iter().filter(|_| received.listening) {
            let entry = memory.channels.entry(channel.id).or_insert((channel.state, now, false));
            if entry.0 != channel.state {
                *entry = (channel.state, now, entry.2);
            }
            let down = matches!(channel.state, ChannelState::Offline | ChannelState::Error);
            let settled = now.saturating_duration_since(entry.1) >= SETTLE;
            let what = format!("{name}: {} channel “{}”", channel.platform, channel.name);
            if down && settled && streaming && !entry.2 {
                let how = if channel.state == ChannelState::Error { "cannot be reached by Restream" } else { "is offline" };
                events.push(format!("{what} {how} during the live (Restream reports)"));
                entry.2 = true;
            } else if channel.state == ChannelState::Online && entry.2 {
                events.push(format!("{what} is online again"));
                entry.2 = false;
            }
        }

        let reconnect: BTreeSet<String> = received.reconnect.iter().cloned().collect();
        for platform in reconnect.difference(&memory.told_reconnect) {
            events.push(format!(
                "{name}: Restream's connection to their {platform} expired: they must reconnect their {platform} in Restream"
            ));
        }
        memory.told_reconnect = reconnect;

        Verdict { flag: memory.flagged.then_some(HealthFlag::SentNotReceived), received, events }
    }

    /// Forgets the accounts not in `keep` (they left the live).
    pub fn retain(&mut self, keep: impl Fn(&AccountId) -> bool) {
        self.accounts.retain(|account, _| keep(account));
    }
}

#[cfg(test)]
mod tests;
