//! The relay's centre: media from the ingest goes into one bounded ring that every destination
//! reads at its own pace (a `broadcast` channel of shared messages: one send per message, not
//! one per destination), with the latest stream headers beside it for (re)connecting
//! destinations, and the gate destinations wait at before their first connection while the
//! live's source is checked (open unless held).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::{broadcast, watch};

use super::batch::Batch;
use super::media::StreamHeaders;
use super::status::InputStatus;

/// The ring, the headers and the input status.
pub struct Hub {
    media: broadcast::Sender<Arc<Batch>>,
    headers: watch::Sender<StreamHeaders>,
    input: watch::Sender<InputStatus>,
    newest: AtomicU32,
    open: watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hub({} readers)", self.media.receiver_count())
    }
}

impl Hub {
    /// A hub whose ring holds `capacity` batches.
    pub fn new(capacity: usize) -> Self {
        let (media, _) = broadcast::channel(capacity.max(16));
        Self {
            media,
            headers: watch::Sender::new(StreamHeaders::default()),
            input: watch::Sender::new(InputStatus::default()),
            newest: AtomicU32::new(0),
            open: watch::Sender::new(true),
        }
    }

    /// Holds destinations that have not connected yet at the gate, until [`Hub::open`].
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    /// Opens the gate: held destinations connect, and later ones do not wait.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        *self.open.borrow()
    }

    /// Waits until the gate is open.
    pub async fn opened(&self) {
        let mut open = self.open.subscribe();
        // The sender lives as long as the hub, which outlives this wait.
        let _ = open.wait_for(|open| *open).await;
    }

    /// Publishes a batch to every destination (and keeps its sequence headers).
    pub fn publish(&self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        self.newest.store(batch.last_timestamp(), Ordering::Relaxed);
        for media in batch.media().iter().filter(|m| m.sequence_header) {
            self.headers.send_modify(|headers| match media.kind {
                super::media::MediaKind::Video => headers.video = Some(media.clone()),
                super::media::MediaKind::Audio => headers.audio = Some(media.clone()),
            });
        }
        // No receiver (no destination yet) is fine.
        let _ = self.media.send(Arc::new(batch));
    }

    /// Records the stream's metadata.
    pub fn set_metadata(&self, metadata: rml_rtmp::sessions::StreamMetadata) {
        self.headers.send_modify(|headers| headers.metadata = Some(metadata));
    }

    /// A new reader of the ring, starting with the next batch.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Batch>> {
        self.media.subscribe()
    }

    /// The headers as they are now.
    pub fn headers(&self) -> StreamHeaders {
        self.headers.borrow().clone()
    }

    /// Watches the stream headers (the slate waits for the source's metadata).
    pub fn watch_headers(&self) -> watch::Receiver<StreamHeaders> {
        self.headers.subscribe()
    }

    /// The timestamp of the newest message published.
    pub fn newest_timestamp(&self) -> u32 {
        self.newest.load(Ordering::Relaxed)
    }

    /// Updates the input status.
    pub fn update_input(&self, change: impl FnOnce(&mut InputStatus)) {
        self.input.send_modify(change);
    }

    /// Watches the input status.
    pub fn watch_input(&self) -> watch::Receiver<InputStatus> {
        self.input.subscribe()
    }
}

/// A hub shared by the ingest side and every destination.
pub type SharedHub = Arc<Hub>;
