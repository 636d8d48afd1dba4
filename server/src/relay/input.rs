//! The relay's input side, whatever carries the live in: the ingest's FLV on a pipe
//! ([`super::pipe`]) or an RTMP publisher ([`super::listener`]). One publisher at a time holds
//! the input ([`Input::claim`] gives a [`Feed`], or nothing while another holds it); what it
//! sends is turned into shared media, gathered into batches of [`BATCH_WINDOW`] and published
//! to the hub. Timestamps are rebased so they keep growing from one publisher to the next:
//! destinations see one continuous stream across ingest restarts.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rml_rtmp::sessions::StreamMetadata;

use super::batch::{BATCH_WINDOW, Batch};
use super::hub::SharedHub;
use super::media::{Media, MediaChunker, MediaKind, SHARED_STREAM_ID, SerializeError};
use super::status::{BitrateMeter, InputStatus};

/// Keeps outgoing timestamps growing across publishers.
#[derive(Debug, Default)]
pub(super) struct Rebaser {
    offset: Option<i64>,
    last_out: u32,
}

impl Rebaser {
    /// A new publisher starts: its first timestamp will follow the last one sent.
    fn new_publisher(&mut self) {
        self.offset = None;
    }

    fn rebase(&mut self, timestamp: u32) -> u32 {
        let offset = *self.offset.get_or_insert_with(|| {
            let next = if self.last_out == 0 { 0 } else { i64::from(self.last_out) + 40 };
            next - i64::from(timestamp)
        });
        let out = (i64::from(timestamp) + offset).clamp(0, i64::from(u32::MAX)) as u32;
        self.last_out = self.last_out.max(out);
        out
    }
}

#[derive(Debug, Default)]
struct Slot {
    rebaser: Rebaser,
    held: bool,
}

/// The input: the hub it feeds, and who holds it.
#[derive(Debug)]
pub struct Input {
    hub: SharedHub,
    slot: Mutex<Slot>,
}

impl Input {
    /// The input of `hub`.
    pub fn new(hub: SharedHub) -> Arc<Self> {
        Arc::new(Self { hub, slot: Mutex::default() })
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The input for one publisher, until the [`Feed`] is dropped; `None` while another holds it.
    pub fn claim(self: &Arc<Self>) -> Option<Feed> {
        let mut slot = self.slot();
        if slot.held {
            return None;
        }
        let chunker = MediaChunker::new(SHARED_STREAM_ID).ok()?;
        slot.held = true;
        slot.rebaser.new_publisher();
        drop(slot);
        self.hub.update_input(|input| input.publishing = true);
        Some(Feed { input: Arc::clone(self), chunker, pending: Vec::new(), since: None, meter: BitrateMeter::new(Duration::from_secs(2)) })
    }

    /// Whether a publisher holds it now.
    pub fn is_held(&self) -> bool {
        self.slot().held
    }
}

/// One publisher's hold on the input. Dropping it flushes nothing more and frees the input.
pub struct Feed {
    input: Arc<Input>,
    chunker: MediaChunker,
    pending: Vec<Media>,
    since: Option<Instant>,
    meter: BitrateMeter,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Feed({} pending)", self.pending.len())
    }
}

impl Feed {
    /// Counts `bytes` received from the publisher (for the input's bitrate).
    pub fn received(&mut self, bytes: usize) {
        let now = Instant::now();
        let meter = &mut self.meter;
        self.input.hub.update_input(|input| {
            input.bytes_received = input.bytes_received.saturating_add(bytes as u64);
            if let Some(bps) = meter.add(bytes, now) {
                input.bitrate_bps = bps;
            }
        });
    }

    /// One audio or video message (an FLV tag body) at the publisher's `timestamp`.
    pub fn media(&mut self, kind: MediaKind, body: Bytes, timestamp: u32) -> Result<(), SerializeError> {
        let timestamp = self.input.slot().rebaser.rebase(timestamp);
        let media = self.chunker.media(kind, body, timestamp)?;
        self.since.get_or_insert_with(Instant::now);
        self.pending.push(media);
        Ok(())
    }

    /// The stream's metadata (`onMetaData`).
    pub fn metadata(&mut self, metadata: StreamMetadata) {
        self.input.hub.set_metadata(metadata);
    }

    /// When the batch being gathered must go out, if one is.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + BATCH_WINDOW)
    }

    /// Sends the batch if its window has closed.
    pub fn flush_if_due(&mut self) {
        if self.deadline().is_some_and(|deadline| Instant::now() >= deadline) {
            self.flush();
        }
    }

    /// Sends the batch gathered so far.
    pub fn flush(&mut self) {
        self.since = None;
        if self.pending.is_empty() {
            return;
        }
        let media = std::mem::take(&mut self.pending);
        let count = media.len() as u64;
        self.input.hub.update_input(|input| input.messages = input.messages.saturating_add(count));
        self.input.hub.publish(Batch::new(media));
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.flush();
        self.input.slot().held = false;
        self.input.hub.update_input(|input: &mut InputStatus| {
            input.publishing = false;
            input.bitrate_bps = 0;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::hub::Hub;

    #[test]
    fn timestamps_keep_growing_when_the_ingest_restarts() {
        let mut rebaser = Rebaser::default();
        assert_eq!((rebaser.rebase(0), rebaser.rebase(33), rebaser.rebase(10_000)), (0, 33, 10_000));
        rebaser.new_publisher();
        let restarted = rebaser.rebase(0);
        assert_eq!(restarted, 10_040, "the second publisher continues after the first");
        assert_eq!(rebaser.rebase(33), 10_073);
        rebaser.new_publisher();
        assert_eq!(rebaser.rebase(5_000), 10_113, "whatever the new publisher starts at");
    }

    #[test]
    fn one_publisher_holds_the_input_at_a_time() {
        let hub = Arc::new(Hub::new(16));
        let input = Input::new(Arc::clone(&hub));
        let first = input.claim();
        assert!(first.is_some() && input.is_held());
        assert!(input.claim().is_none(), "a second publisher is refused while the first holds it");
        assert!(hub.watch_input().borrow().publishing);
        drop(first);
        assert!(!input.is_held() && !hub.watch_input().borrow().publishing);
        let mut again = input.claim().unwrap_or_else(|| panic!("free again"));
        let mut ring = hub.subscribe();
        again.media(MediaKind::Video, Bytes::from_static(&[0x17, 1, 0, 0, 0]), 500).unwrap_or_else(|e| panic!("{e}"));
        again.flush();
        let batch = ring.try_recv().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((batch.media().len(), hub.watch_input().borrow().messages), (1, 1));
    }
}
