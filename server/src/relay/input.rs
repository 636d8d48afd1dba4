//! The relay's input side, whatever carries the live in: the ingest's FLV on a pipe
//! ([`super::pipe`]) or an RTMP publisher ([`super::listener`]). One publisher at a time holds
//! the input ([`Input::claim`] gives a [`Feed`], or nothing while another holds it); what it
//! sends is turned into shared media, gathered into batches of [`BATCH_WINDOW`] and published
//! to the hub. Timestamps are rebased so they keep growing from one publisher to the next:
//! destinations see one continuous stream across ingest restarts.
//!
//! A second publisher can stand by ([`Input::standby`]) and take over at one of its keyframes —
//! at once (a fresh pull replacing one whose URL is about to expire: make-before-break), or only
//! once the holder has gone quiet (a backup source) — with no gap and no reconnect for the
//! destinations: they get the new publisher's stream headers, then its keyframe.
//!
//! While no source sends, the slate (`super::slate`) may hold the input ([`Input::slate_feed`]):
//! it yields to any source at the source's next keyframe — the holder it displaced, a standby,
//! or a new claim alike — so a stalled pull that resumes takes its place back without a restart.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rml_rtmp::sessions::StreamMetadata;

use super::batch::{BATCH_WINDOW, Batch};
use super::hub::SharedHub;
use super::media::{Media, MediaChunker, MediaKind, SHARED_STREAM_ID, SerializeError};
use super::status::{BitrateMeter, InputStatus};

/// Keeps outgoing timestamps growing across publishers — each stream's on its own too: a new
/// publisher's audio can start a little before its first keyframe, and what would go out
/// before the last message of its kind is dropped (a decoder refuses time going back).
#[derive(Debug, Default)]
pub(super) struct Rebaser {
    offset: Option<i64>,
    last_out: u32,
    /// The last timestamp sent of each kind, after the first (video, audio).
    last_of: [Option<u32>; 2],
}

impl Rebaser {
    /// A new publisher starts: its first timestamp will follow the last one sent.
    fn new_publisher(&mut self) {
        self.offset = None;
    }

    /// The timestamp the next publisher's first message will go out at.
    fn peek(&self) -> u32 {
        match self.offset {
            Some(_) => self.last_out,
            None if self.last_out == 0 => 0,
            None => self.last_out.saturating_add(40),
        }
    }

    /// The outgoing timestamp of a message of `kind` at `timestamp`; `None`: it would go back
    /// in time for its stream, drop it.
    fn rebase(&mut self, kind: MediaKind, timestamp: u32) -> Option<u32> {
        let offset = *self.offset.get_or_insert_with(|| {
            let next = if self.last_out == 0 { 0 } else { i64::from(self.last_out) + 40 };
            next - i64::from(timestamp)
        });
        let out = (i64::from(timestamp) + offset).clamp(0, i64::from(u32::MAX)) as u32;
        let last = &mut self.last_of[usize::from(kind == MediaKind::Audio)];
        if last.is_some_and(|last| out < last) {
            return None;
        }
        *last = Some(out);
        self.last_out = self.last_out.max(out);
        Some(out)
    }
}

/// Who holds the input: each claim gets a generation; the holder is the one whose media goes out.
#[derive(Debug, Default)]
struct Slot {
    rebaser: Rebaser,
    holder: Option<u64>,
    generations: u64,
    /// When the holder last sent media.
    last_media: Option<Instant>,
    /// Whether the holder is a pushed stream (`super::push`), not a pull.
    holder_is_push: bool,
    /// Whether the holder is the slate.
    holder_is_slate: bool,
    /// The source the slate displaced: it takes the input back at its next keyframe.
    displaced: Option<u64>,
    /// The holder's last keyframe, in its own timestamps (for the keyframe interval).
    last_keyframe: Option<u32>,
    /// Whether the holder has sent audio.
    audio_seen: bool,
}

impl Slot {
    /// Whether a standby waiting for `takeover` may take the input now.
    fn yields_to(&self, takeover: Takeover) -> bool {
        match takeover {
            Takeover::AtKeyframe => true,
            Takeover::WhenStalled(after) => {
                self.holder.is_none() || self.holder_is_slate || self.last_media.is_none_or(|last| last.elapsed() >= after)
            }
        }
    }
}

/// When a standby feed (a second publisher) takes the input over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// At its first keyframe: a fresh pull of the same live replacing the current one
    /// (make-before-break, before the current one's URL expires).
    AtKeyframe,
    /// At a keyframe once the holder has sent nothing for this long (or there is no holder): a
    /// backup source, used only while the active one is down.
    WhenStalled(Duration),
}

/// Why a feed's media was not taken.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Another publisher took the input over: this one should stop.
    #[error("another publisher took the input over")]
    Superseded,
    /// The message could not be prepared for the destinations.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
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
    /// While the slate holds it, the new publisher takes it over at its first keyframe.
    pub fn claim(self: &Arc<Self>) -> Option<Feed> {
        let mut slot = self.slot();
        if slot.holder_is_slate {
            drop(slot);
            return self.standby(Takeover::AtKeyframe);
        }
        if slot.holder.is_some() {
            return None;
        }
        let chunker = MediaChunker::new(SHARED_STREAM_ID).ok()?;
        let generation = next_generation(&mut slot);
        slot.holder = Some(generation);
        (slot.holder_is_push, slot.holder_is_slate, slot.last_keyframe, slot.audio_seen) = (false, false, None, false);
        slot.rebaser.new_publisher();
        drop(slot);
        self.hub.update_input(|input| {
            input.publishing = true;
            input.source_audio = false;
        });
        Some(Feed::new(Arc::clone(self), chunker, generation, Role::Holding))
    }

    /// The input for the slate, taken from a source that has gone quiet (which will take it back
    /// at its next keyframe); `None` when a source sends, or the slate holds it already.
    pub fn slate_feed(self: &Arc<Self>, quiet: Duration) -> Option<Feed> {
        let mut slot = self.slot();
        let sending = slot.holder.is_some() && slot.last_media.is_none_or(|last| last.elapsed() < quiet);
        if slot.holder_is_slate || sending || slot.last_media.is_none() {
            return None;
        }
        let chunker = MediaChunker::new(SHARED_STREAM_ID).ok()?;
        let generation = next_generation(&mut slot);
        slot.displaced = slot.holder;
        slot.holder = Some(generation);
        (slot.holder_is_push, slot.holder_is_slate) = (false, true);
        slot.rebaser.new_publisher();
        drop(slot);
        self.hub.update_input(|input| {
            input.publishing = true;
            input.slate = true;
        });
        Some(Feed::new(Arc::clone(self), chunker, generation, Role::Holding))
    }

    /// Whether the slate holds it now.
    pub fn is_slate(&self) -> bool {
        self.slot().holder_is_slate
    }

    /// A second publisher, standing by: what it sends is dropped (its stream headers kept) until
    /// it takes the input over as `takeover` says; from then on the one that held it gets
    /// [`FeedError::Superseded`]. Destinations see one stream: the new publisher's headers, then
    /// its keyframe, its timestamps following on.
    pub fn standby(self: &Arc<Self>, takeover: Takeover) -> Option<Feed> {
        let chunker = MediaChunker::new(SHARED_STREAM_ID).ok()?;
        let generation = next_generation(&mut self.slot());
        Some(Feed::new(Arc::clone(self), chunker, generation, Role::Standby(takeover)))
    }

    /// Whether a publisher holds it now.
    pub fn is_held(&self) -> bool {
        self.slot().holder.is_some()
    }

    /// Whether a pushed stream holds it now.
    pub fn holder_is_push(&self) -> bool {
        let slot = self.slot();
        slot.holder.is_some() && slot.holder_is_push
    }

    /// How long no source has sent media, if one ever did (`None` too while the slate holds it).
    pub fn quiet_for(&self) -> Option<Duration> {
        let slot = self.slot();
        if slot.holder_is_slate {
            return None;
        }
        slot.last_media.map(|last| last.elapsed())
    }
}

fn next_generation(slot: &mut Slot) -> u64 {
    slot.generations = slot.generations.wrapping_add(1);
    slot.generations
}

/// What a standby feed keeps for the moment it takes over: the latest stream headers.
#[derive(Debug, Default)]
struct Kept {
    metadata: Option<StreamMetadata>,
    video: Option<Bytes>,
    audio: Option<Bytes>,
}

#[derive(Debug)]
enum Role {
    Holding,
    Standby(Takeover),
}

/// One publisher's hold on the input (or its wait for it). Dropping it flushes nothing more and
/// frees the input if it holds it.
pub struct Feed {
    input: Arc<Input>,
    chunker: MediaChunker,
    generation: u64,
    role: Role,
    pending: Vec<Media>,
    since: Option<Instant>,
    meter: BitrateMeter,
    push: bool,
    /// Its latest stream headers, sent first whenever it takes the input (over or back).
    kept: Kept,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Feed({}, {} pending)", self.generation, self.pending.len())
    }
}

impl Feed {
    fn new(input: Arc<Input>, chunker: MediaChunker, generation: u64, role: Role) -> Self {
        let meter = BitrateMeter::new(Duration::from_secs(2));
        Self { input, chunker, generation, role, pending: Vec::new(), since: None, meter, push: false, kept: Kept::default() }
    }

    /// Marks this feed as a pushed stream's (what the dashboard shows as the input's origin).
    pub fn mark_push(&mut self) {
        self.push = true;
    }

    /// Whether this feed's media goes out now (it holds the input).
    pub fn is_holding(&self) -> bool {
        matches!(self.role, Role::Holding)
    }

    /// Counts `bytes` received from the publisher (for the input's bitrate).
    pub fn received(&mut self, bytes: usize) {
        if !self.is_holding() {
            return;
        }
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
    pub fn media(&mut self, kind: MediaKind, body: Bytes, timestamp: u32) -> Result<(), FeedError> {
        let (keyframe, sequence_header) = Media::inspect(kind, &body);
        if sequence_header {
            match kind {
                MediaKind::Video => self.kept.video = Some(body.clone()),
                MediaKind::Audio => self.kept.audio = Some(body.clone()),
            }
        }
        if let Role::Standby(takeover) = self.role {
            if sequence_header || !(keyframe && kind == MediaKind::Video && self.kept.video.is_some()) {
                return Ok(());
            }
            if !self.take_over(takeover) {
                return Ok(());
            }
            return self.media(kind, body, timestamp);
        }
        let timestamp = {
            let mut slot = self.input.slot();
            if slot.holder != Some(self.generation) {
                if slot.holder_is_slate && slot.displaced == Some(self.generation) {
                    // The slate stands in for this source: it takes the input back at a keyframe
                    // (and is superseded as any holder is if another source does first).
                    drop(slot);
                    self.pending.clear();
                    if !(keyframe && kind == MediaKind::Video && !sequence_header && self.kept.video.is_some()) {
                        return Ok(());
                    }
                    if !self.take_over(Takeover::AtKeyframe) {
                        return Ok(());
                    }
                    return self.media(kind, body, timestamp);
                }
                return Err(FeedError::Superseded);
            }
            slot.last_media = Some(Instant::now());
            if !slot.holder_is_slate {
                self.measure(&mut slot, kind, keyframe && !sequence_header, timestamp);
            }
            match slot.rebaser.rebase(kind, timestamp) {
                Some(timestamp) => timestamp,
                None => return Ok(()),
            }
        };
        let media = self.chunker.media(kind, body, timestamp)?;
        self.since.get_or_insert_with(Instant::now);
        self.pending.push(media);
        Ok(())
    }

    /// Measures the source: its keyframe interval, whether it sends audio.
    fn measure(&self, slot: &mut Slot, kind: MediaKind, keyframe: bool, timestamp: u32) {
        match kind {
            MediaKind::Video if keyframe => {
                let interval = slot.last_keyframe.and_then(|last| timestamp.checked_sub(last)).filter(|ms| *ms > 0);
                slot.last_keyframe = Some(timestamp);
                if let Some(ms) = interval {
                    self.input.hub.update_input(|input| input.keyframe_interval = Some(Duration::from_millis(u64::from(ms))));
                }
            }
            MediaKind::Audio if !slot.audio_seen => {
                slot.audio_seen = true;
                self.input.hub.update_input(|input| input.source_audio = true);
            }
            _ => {}
        }
    }

    /// Takes the input over if `takeover` allows it now; then sends the kept headers first.
    fn take_over(&mut self, takeover: Takeover) -> bool {
        let was_slate = {
            let mut slot = self.input.slot();
            if !slot.yields_to(takeover) {
                return false;
            }
            let was_slate = slot.holder_is_slate;
            slot.holder = Some(self.generation);
            (slot.holder_is_push, slot.holder_is_slate, slot.displaced, slot.last_keyframe) = (self.push, false, None, None);
            slot.audio_seen = false;
            slot.last_media = Some(Instant::now());
            slot.rebaser.new_publisher();
            was_slate
        };
        self.role = Role::Holding;
        tracing::info!(generation = self.generation, from_slate = was_slate, "a source took the input over");
        self.input.hub.update_input(|input| {
            input.publishing = true;
            input.slate = false;
            input.source_audio = false;
        });
        if let Some(metadata) = self.kept.metadata.clone() {
            self.input.hub.set_metadata(metadata);
        }
        // The headers go out at the keyframe's time (rebased: the first of this publisher).
        for (kind, header) in [(MediaKind::Video, self.kept.video.clone()), (MediaKind::Audio, self.kept.audio.clone())] {
            if let Some(header) = header {
                let timestamp = self.input.slot().rebaser.peek();
                if let Ok(media) = self.chunker.media(kind, header, timestamp) {
                    self.since.get_or_insert_with(Instant::now);
                    self.pending.push(media);
                }
            }
        }
        true
    }

    /// The stream's metadata (`onMetaData`).
    pub fn metadata(&mut self, metadata: StreamMetadata) {
        self.kept.metadata = Some(metadata.clone());
        if matches!(self.role, Role::Holding) && self.input.slot().holder == Some(self.generation) {
            self.input.hub.set_metadata(metadata);
        }
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
        let slate = {
            let slot = self.input.slot();
            if slot.holder != Some(self.generation) {
                return;
            }
            slot.holder_is_slate
        };
        // The slate's media is not the source's: the live's input watch counts only a source's.
        if !slate {
            let count = media.len() as u64;
            self.input.hub.update_input(|input| input.messages = input.messages.saturating_add(count));
        }
        self.input.hub.publish(Batch::new(media));
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.flush();
        let mut slot = self.input.slot();
        if slot.holder != Some(self.generation) {
            return;
        }
        slot.holder = None;
        slot.displaced = None;
        let was_slate = std::mem::take(&mut slot.holder_is_slate);
        drop(slot);
        self.input.hub.update_input(|input: &mut InputStatus| {
            input.publishing = false;
            input.bitrate_bps = 0;
            if was_slate {
                input.slate = false;
            }
        });
    }
}

#[cfg(test)]
mod tests;
