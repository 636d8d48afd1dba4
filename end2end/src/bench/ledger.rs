//! What the replayer sent and when: every media message's fingerprint, size and send instant,
//! so a sink's arrivals can be matched to the very message the source sent — the lag of a
//! message is its arrival minus its send, whatever the contender did to timestamps.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// One message the source sent.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// When it was handed to the socket.
    pub at: Instant,
    /// Video (else audio).
    pub video: bool,
    /// A decoder configuration (sent again on every connect by some contenders: not a frame).
    pub sequence_header: bool,
    /// The tag body's length.
    pub bytes: usize,
    /// Its fingerprint.
    pub fingerprint: u64,
}

/// A fingerprint of a tag body: its length, head and tail. Frames of the test source differ in
/// their slice data, so two video frames never share one.
pub fn fingerprint(body: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    body.len().hash(&mut hasher);
    body[..body.len().min(256)].hash(&mut hasher);
    body[body.len().saturating_sub(64)..].hash(&mut hasher);
    hasher.finish()
}

/// Whether an FLV tag body is a sequence header (AVC or AAC packet type 0).
pub fn is_sequence_header(video: bool, body: &[u8]) -> bool {
    let codec_ok = if video { body.first().is_some_and(|b| b & 0x0f == 7) } else { body.first().is_some_and(|b| b >> 4 == 10) };
    codec_ok && body.get(1) == Some(&0)
}

/// The record of one replay.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sent: Vec<Sent>,
    video_by_fingerprint: HashMap<u64, usize>,
}

impl Ledger {
    /// Records a message as sent now.
    pub fn record(&self, video: bool, body: &[u8]) {
        let sent = Sent {
            at: Instant::now(),
            video,
            sequence_header: is_sequence_header(video, body),
            bytes: body.len(),
            fingerprint: fingerprint(body),
        };
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if video && !sent.sequence_header {
            let index = inner.sent.len();
            inner.video_by_fingerprint.entry(sent.fingerprint).or_insert(index);
        }
        inner.sent.push(sent);
    }

    /// Everything sent, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).sent.clone()
    }

    /// The index (in [`Ledger::sent`]) of the video frame with this fingerprint.
    pub fn video_index(&self, fingerprint: u64) -> Option<usize> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).video_by_fingerprint.get(&fingerprint).copied()
    }
}
