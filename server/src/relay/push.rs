//! A broadcaster's stream pushed to Fanout (`FANOUT_SOURCE=push|both`): where the push
//! listener's publisher meets the live being restreamed. The listener lives as long as the
//! engine; a live's relay input comes and goes with the live. So a [`PushPoint`] holds the
//! input of the live running now (its task attaches it and detaches it) and tells the engine
//! whether a publisher is on; a [`PushFeed`] is the publisher's side. It keeps the stream's
//! headers and metadata as they arrive, and stands by on the live's input as a source that
//! takes over at one of its keyframes once nothing else feeds the input
//! ([`Takeover::WhenStalled`]): the first source to deliver keeps the live, the other is its
//! backup, and the destinations see one continuous stream across the switch. When the live
//! changes, or the other source took the input back, the feed stands by again, its kept
//! headers first. One publisher at a time: a second is refused like a wrong key.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rml_rtmp::sessions::StreamMetadata;
use tokio::sync::watch;

use super::input::{Feed, FeedError, Input, Takeover};
use super::listener::{Publishing, Sink};
use super::media::{Media, MediaKind};

/// A publisher pushing the live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPublisher {
    /// Its address.
    pub peer: SocketAddr,
    /// When it began publishing.
    pub since: Instant,
}

/// Where pushed media goes: the running live's input, if any.
#[derive(Debug)]
pub struct PushPoint {
    input: Mutex<Option<Arc<Input>>>,
    publisher: watch::Sender<Option<PushPublisher>>,
    /// How long the input's holder may send nothing before the pushed stream takes over.
    takes_over_after: Duration,
}

impl PushPoint {
    /// A point whose pushed stream takes the input over once its holder has sent nothing for
    /// `takes_over_after` (at once when no one holds it).
    pub fn new(takes_over_after: Duration) -> Arc<Self> {
        Arc::new(Self { input: Mutex::new(None), publisher: watch::Sender::new(None), takes_over_after })
    }

    fn input(&self) -> MutexGuard<'_, Option<Arc<Input>>> {
        self.input.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live now running feeds the destinations from `input`.
    pub fn attach(&self, input: Arc<Input>) {
        *self.input() = Some(input);
    }

    /// The live whose input is `input` ended.
    pub fn detach(&self, input: &Arc<Input>) {
        let mut current = self.input();
        if current.as_ref().is_some_and(|current| Arc::ptr_eq(current, input)) {
            *current = None;
        }
    }

    /// Who is publishing (`None`: no one).
    pub fn publisher(&self) -> watch::Receiver<Option<PushPublisher>> {
        self.publisher.subscribe()
    }

    /// Whether pushed media is what the live's input sends now.
    pub fn is_feeding(&self, input: &Input) -> bool {
        self.publisher.borrow().is_some() && input.holder_is_push()
    }
}

impl Sink for Arc<PushPoint> {
    fn open(&self, peer: SocketAddr) -> Option<Box<dyn Publishing>> {
        let began = self.publisher.send_if_modified(|publisher| {
            if publisher.is_some() {
                return false;
            }
            *publisher = Some(PushPublisher { peer, since: Instant::now() });
            true
        });
        if !began {
            return None;
        }
        tracing::info!(%peer, "a broadcaster is pushing the live");
        Some(Box::new(PushFeed { point: Arc::clone(self), kept: Kept::default(), joined: None, received: 0 }))
    }
}

/// What a pushed stream must send again when it joins a live's input.
#[derive(Debug, Default)]
struct Kept {
    metadata: Option<StreamMetadata>,
    video: Option<Bytes>,
    audio: Option<Bytes>,
}

/// The publisher's side of the push point.
pub struct PushFeed {
    point: Arc<PushPoint>,
    kept: Kept,
    /// The input it stands by on (or holds), and its feed there.
    joined: Option<(Arc<Input>, Feed)>,
    /// Bytes received while not holding the input (counted to it once it does).
    received: usize,
}

impl std::fmt::Debug for PushFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushFeed").field("joined", &self.joined.as_ref().map(|(_, feed)| feed)).finish_non_exhaustive()
    }
}

impl PushFeed {
    /// The feed on the running live's input, joining it (standing by, headers first) if it is
    /// not on it yet.
    fn feed(&mut self) -> Option<&mut Feed> {
        // One lock per message and no clone while the live is the one joined (the usual case).
        let changed = {
            let current = self.point.input();
            match (&self.joined, current.as_ref()) {
                (Some((joined, _)), Some(current)) if Arc::ptr_eq(joined, current) => None,
                (_, current) => Some(current.cloned()),
            }
        };
        if let Some(current) = changed {
            self.joined = None;
            let input = current?;
            let mut feed = input.standby(Takeover::WhenStalled(self.point.takes_over_after))?;
            feed.mark_push();
            if let Some(metadata) = self.kept.metadata.clone() {
                feed.metadata(metadata);
            }
            for (kind, header) in [(MediaKind::Video, &self.kept.video), (MediaKind::Audio, &self.kept.audio)] {
                if let Some(header) = header {
                    // Kept by the standby feed, sent when it takes over: never refused.
                    let _ = feed.media(kind, header.clone(), 0);
                }
            }
            self.joined = Some((input, feed));
        }
        self.joined.as_mut().map(|(_, feed)| feed)
    }
}

impl Publishing for PushFeed {
    fn media(&mut self, kind: MediaKind, body: Bytes, timestamp: u32) -> Result<(), FeedError> {
        if Media::inspect(kind, &body).1 {
            match kind {
                MediaKind::Video => self.kept.video = Some(body.clone()),
                MediaKind::Audio => self.kept.audio = Some(body.clone()),
            }
        }
        let Some(feed) = self.feed() else { return Ok(()) };
        match feed.media(kind, body, timestamp) {
            // The other source took the input back: stand by again from the next message.
            Err(FeedError::Superseded) => {
                self.joined = None;
                Ok(())
            }
            other => other,
        }
    }

    fn metadata(&mut self, metadata: StreamMetadata) {
        self.kept.metadata = Some(metadata.clone());
        if let Some(feed) = self.feed() {
            feed.metadata(metadata);
        }
    }

    fn received(&mut self, bytes: usize) {
        self.received = self.received.saturating_add(bytes);
        if let Some((_, feed)) = self.joined.as_mut().filter(|(_, feed)| feed.is_holding()) {
            feed.received(std::mem::take(&mut self.received));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.joined.as_ref().and_then(|(_, feed)| feed.deadline())
    }

    fn flush(&mut self) {
        if let Some((_, feed)) = self.joined.as_mut() {
            feed.flush();
        }
    }
}

impl Drop for PushFeed {
    fn drop(&mut self) {
        self.joined = None;
        self.point.publisher.send_replace(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::hub::Hub;

    const AVC_HEADER: &[u8] = &[0x17, 0, 0, 0, 0, 1];
    const KEYFRAME: &[u8] = &[0x17, 1, 0, 0, 0, 2];
    const INTER: &[u8] = &[0x27, 1, 0, 0, 0, 3];

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40_000))
    }

    fn send(feed: &mut dyn Publishing, body: &'static [u8], at: u32) {
        feed.media(MediaKind::Video, Bytes::from_static(body), at).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn one_publisher_at_a_time_and_the_engine_is_told() {
        let point = PushPoint::new(Duration::from_secs(2));
        let publisher = point.publisher();
        let first = point.open(peer());
        assert!(first.is_some() && publisher.borrow().is_some());
        assert!(point.open(peer()).is_none(), "a second publisher is refused");
        drop(first);
        assert!(publisher.borrow().is_none(), "gone when it stops");
        assert!(point.open(peer()).is_some(), "and the next may publish");
    }

    #[test]
    fn a_pushed_stream_sent_before_the_live_joins_it_with_its_headers_at_a_keyframe() {
        let point = PushPoint::new(Duration::from_secs(2));
        let mut push = point.open(peer()).unwrap_or_else(|| panic!("free"));
        // Headers arrive once, before any live exists.
        send(push.as_mut(), AVC_HEADER, 0);
        send(push.as_mut(), KEYFRAME, 0);
        let hub = Arc::new(Hub::new(64));
        let input = Input::new(Arc::clone(&hub));
        let mut ring = hub.subscribe();
        point.attach(Arc::clone(&input));
        send(push.as_mut(), INTER, 40);
        assert!(!input.is_held(), "not before a keyframe");
        send(push.as_mut(), KEYFRAME, 2000);
        push.flush();
        assert!(input.is_held() && point.is_feeding(&input));
        let batch = ring.try_recv().unwrap_or_else(|e| panic!("{e}"));
        let sent: Vec<_> = batch.media().iter().map(|m| (m.keyframe, m.sequence_header)).collect();
        assert_eq!(sent, [(true, true), (true, false)], "the kept header, then the keyframe");
        point.detach(&input);
        send(push.as_mut(), INTER, 2040);
        assert!(!input.is_held(), "the live ended: its input is let go");
    }

    #[test]
    fn a_pull_that_holds_the_input_keeps_it_until_it_goes_quiet() {
        let hub = Arc::new(Hub::new(64));
        let input = Input::new(Arc::clone(&hub));
        let point = PushPoint::new(Duration::ZERO);
        point.attach(Arc::clone(&input));
        let mut pull = input.claim().unwrap_or_else(|| panic!("free"));
        pull.media(MediaKind::Video, Bytes::from_static(AVC_HEADER), 0).unwrap_or_else(|e| panic!("{e}"));
        let mut push = point.open(peer()).unwrap_or_else(|| panic!("free"));
        send(push.as_mut(), AVC_HEADER, 0);
        drop(pull);
        send(push.as_mut(), KEYFRAME, 0);
        assert!(point.is_feeding(&input), "the pull is gone: the pushed stream takes over");
        // A pull standing by takes the input back once the push goes quiet; the push stands by.
        let mut back = input.standby(Takeover::AtKeyframe).unwrap_or_else(|| panic!("a standby"));
        back.media(MediaKind::Video, Bytes::from_static(AVC_HEADER), 0).unwrap_or_else(|e| panic!("{e}"));
        back.media(MediaKind::Video, Bytes::from_static(KEYFRAME), 0).unwrap_or_else(|e| panic!("{e}"));
        assert!(!point.is_feeding(&input));
        send(push.as_mut(), INTER, 40);
        send(push.as_mut(), KEYFRAME, 80);
        assert!(point.is_feeding(&input), "standing by again, it takes over once the input is quiet (here: at once)");
    }
}
