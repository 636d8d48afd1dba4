//! What the stand-in's WebSockets report and what tests steer them with: the ingest as the
//! world's nginx sink shows it (a stream key being published to, its bytes growing, is
//! "incoming"), users not reported as received, channels offline, chat connections expired, and
//! every socket accepted. Shared by the sockets (`updates`) and the world's memory (`state`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::StandInUser;

/// A stream whose bytes have not grown for this long is not incoming any more.
pub(super) const STILL_AFTER: Duration = Duration::from_secs(3);

/// One stream the ingest receives, as the sink's stat page shows it.
#[derive(Debug, Clone)]
pub(super) struct Ingested {
    bytes: u64,
    bps: u64,
    grew_at: Instant,
    seen_at: Instant,
    publishing: bool,
}

/// A socket the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketSeen {
    /// Whose token opened it.
    pub user_id: i64,
    /// `streaming` or `chat`.
    pub feed: String,
    /// The access token it was opened with.
    pub token: String,
}

/// What the tests steer, and what the sockets saw.
#[derive(Debug, Default)]
pub(super) struct Sockets {
    /// Users whose incoming stream is not reported, whatever the ingest receives.
    pub(super) not_received: HashSet<i64>,
    /// Channels reported offline.
    pub(super) offline: HashSet<i64>,
    /// Channels whose chat connection is in error: `restream_channel_connection_expired`.
    pub(super) expired: HashSet<i64>,
    /// The ingest, by stream key.
    pub(super) ingest: HashMap<String, Ingested>,
    /// Every socket accepted, in order.
    pub(super) accepted: Vec<SocketSeen>,
    /// Handshakes refused.
    pub(super) refused: usize,
    /// Sockets open now.
    pub(super) open: usize,
    /// Moves on when every socket is to be dropped.
    pub(super) generation: u64,
}

impl Sockets {
    /// Whether `user`'s incoming stream is reported (when the ingest receives it).
    pub(super) fn set_received(&mut self, user: i64, received: bool) {
        if received {
            self.not_received.remove(&user);
        } else {
            self.not_received.insert(user);
        }
    }

    /// Whether `channel` is reported online.
    pub(super) fn set_online(&mut self, channel: i64, online: bool) {
        if online {
            self.offline.remove(&channel);
        } else {
            self.offline.insert(channel);
        }
    }

    /// Whether `channel`'s chat connection is in error, its credentials expired.
    pub(super) fn set_expired(&mut self, channel: i64, expired: bool) {
        if expired {
            self.expired.insert(channel);
        } else {
            self.expired.remove(&channel);
        }
    }

    /// Takes in the sink's stat page, read at `at`.
    pub(super) fn ingested(&mut self, streams: Vec<crate::nginx::SinkStream>, at: Instant) {
        for stream in streams {
            let entry = self.ingest.entry(stream.name).or_insert(Ingested {
                bytes: stream.bytes_in,
                bps: 0,
                grew_at: at,
                seen_at: at,
                publishing: stream.publishing,
            });
            if stream.bytes_in > entry.bytes {
                let secs = at.saturating_duration_since(entry.seen_at).as_secs_f64().max(0.1);
                entry.bps = ((stream.bytes_in - entry.bytes) as f64 * 8.0 / secs) as u64;
                entry.grew_at = at;
            }
            (entry.bytes, entry.seen_at, entry.publishing) = (stream.bytes_in, at, stream.publishing);
        }
    }

    /// The stream Restream receives from `user` now, if any: (bits per second).
    pub(super) fn incoming(&self, user: &StandInUser, now: Instant) -> Option<u64> {
        if self.not_received.contains(&user.id) {
            return None;
        }
        let ingested = self.ingest.get(&user.stream_key)?;
        (ingested.publishing && now.saturating_duration_since(ingested.grew_at) < STILL_AFTER).then_some(ingested.bps)
    }
}
