//! One destination's life: connect and publish, send the stream's metadata and decoder
//! configuration, then the live from its next keyframe — batches of media chunks shared with
//! every other destination, each written as it is with one call. A destination that falls more than the allowed lag behind
//! (or out of the ring) skips to the next keyframe; the source and the others never wait for it.
//! Lost, it reconnects with backoff until removed: every few seconds at most through the first
//! minute of an outage (a sink back from a short drop is streamed to again within seconds),
//! then doubling to 30 s (a destination that stays down is not hammered), with jitter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rml_rtmp::sessions::ClientSessionResult;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::batch::Batch;
use super::connection::{self, ConnectError, Publisher};
use super::hub::SharedHub;
use super::media::{Media, MediaChunker, SHARED_STREAM_ID};
use super::status::{DestinationState, DestinationStatus};
use super::target::RtmpTarget;

/// How a destination behaves.
#[derive(Debug, Clone, Copy)]
pub struct DestinationPolicy {
    /// A write that cannot complete within this means the destination stopped reading: it is
    /// dropped and reconnected.
    pub write_timeout: Duration,
    /// Behind the newest media by more than this, it skips to the next keyframe.
    pub max_lag: Duration,
    /// How long connecting and publishing may take.
    pub connect_timeout: Duration,
    /// The first wait after a loss.
    pub first_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Through this first part of an outage, waits stay at most [`DestinationPolicy::quick_backoff`].
    pub quick_for: Duration,
    /// The longest wait early in an outage.
    pub quick_backoff: Duration,
}

impl Default for DestinationPolicy {
    fn default() -> Self {
        Self {
            write_timeout: Duration::from_secs(10),
            max_lag: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(10),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            quick_for: Duration::from_secs(60),
            quick_backoff: Duration::from_secs(2),
        }
    }
}

/// The wait before attempt `attempt` (1-based) of an outage that began `outage` ago: doubling
/// from `first`, to at most `quick_backoff` through `quick_for` and to `max_backoff` after, plus
/// up to 25 % jitter so destinations lost together do not return together.
pub fn backoff(policy: &DestinationPolicy, attempt: u32, outage: Duration) -> Duration {
    let doubled = policy.first_backoff.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let cap = if outage < policy.quick_for { policy.quick_backoff } else { policy.max_backoff };
    let base = doubled.min(cap);
    base + base.mul_f64(rand::random::<f64>() * 0.25)
}

/// Why a streaming connection ended.
enum Ended {
    /// Removed, or the relay stopped.
    Stopped,
    /// Lost; try again.
    Lost(ConnectError),
}

/// Runs the destination until `stop`.
pub async fn run(
    target: RtmpTarget,
    hub: SharedHub,
    status: watch::Sender<DestinationStatus>,
    policy: DestinationPolicy,
    stop: CancellationToken,
) {
    let mut attempt = 0u32;
    let mut outage: Option<Instant> = None;
    // A held gate (the source is being checked) delays the first connection only.
    tokio::select! {
        () = stop.cancelled() => {}
        () = hub.opened() => {}
    }
    loop {
        let connected = tokio::select! {
            () = stop.cancelled() => break,
            connected = connection::connect(&target, policy.connect_timeout) => connected,
        };
        let ended = match connected {
            Ok(publisher) => {
                attempt = 0;
                outage = None;
                stream(publisher, &hub, &status, &policy, &stop).await
            }
            Err(error) => Ended::Lost(error),
        };
        match ended {
            Ended::Stopped => break,
            Ended::Lost(error) => {
                attempt += 1;
                tracing::warn!(destination = %target, attempt, "destination lost: {error}");
                status.send_modify(|s| {
                    if s.state == DestinationState::Streaming {
                        s.reconnects += 1;
                    }
                    s.state = DestinationState::Retrying;
                    s.bitrate_bps = 0;
                    s.last_error = Some(error.to_string());
                });
                let down_for = outage.get_or_insert_with(Instant::now).elapsed();
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(backoff(&policy, attempt, down_for)) => {}
                }
            }
        }
    }
    status.send_modify(|s| {
        s.state = DestinationState::Stopped;
        s.bitrate_bps = 0;
    });
}

/// Media as this destination must write it: the shared chunks, or its own when its server
/// gave its stream another id.
struct Writer {
    own: Option<MediaChunker>,
}

impl Writer {
    fn bytes(&mut self, media: &Media) -> Result<Bytes, ConnectError> {
        match &mut self.own {
            None => Ok(media.chunks.clone()),
            Some(chunker) => chunker.chunk(media.rtmp_message(), media.timestamp).map_err(|e| ConnectError::Session(e.to_string())),
        }
    }

    /// Queues the batch's messages from `from` on: one shared buffer, or its own chunks.
    fn push_batch(&mut self, batch: &Batch, from: usize, outbox: &mut Outbox) -> Result<(), ConnectError> {
        if self.own.is_none() {
            outbox.push(batch.chunks_from(from));
            return Ok(());
        }
        for media in batch.media().iter().skip(from) {
            outbox.push(self.bytes(media)?);
        }
        Ok(())
    }
}

/// Bytes waiting to be written, in order: media chunks and the session's answers.
struct Outbox {
    queue: std::collections::VecDeque<Bytes>,
    offset: usize,
}

impl Outbox {
    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    fn push(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.queue.push_back(bytes);
        }
    }

    /// The bytes to write next.
    fn front(&self) -> &[u8] {
        self.queue.front().map_or(&[], |b| &b[self.offset..])
    }

    /// Records that `written` bytes of the front went out.
    fn advance(&mut self, written: usize) {
        self.offset += written;
        if self.queue.front().is_some_and(|b| self.offset >= b.len()) {
            self.queue.pop_front();
            self.offset = 0;
        }
    }
}

async fn stream(
    mut publisher: Publisher,
    hub: &SharedHub,
    status: &watch::Sender<DestinationStatus>,
    policy: &DestinationPolicy,
    stop: &CancellationToken,
) -> Ended {
    // Subscribe first, so nothing between the headers and the first frame is missed.
    let mut ring = hub.subscribe();
    let own = if publisher.stream_id == SHARED_STREAM_ID {
        None
    } else {
        match MediaChunker::new(publisher.stream_id) {
            Ok(chunker) => Some(chunker),
            Err(error) => return Ended::Lost(ConnectError::Session(error.to_string())),
        }
    };
    let mut writer = Writer { own };
    if let Err(error) = send_headers(&mut publisher, hub, &mut writer).await {
        return Ended::Lost(error);
    }
    // `last_error` stays: it is the last one, not a current one.
    status.send_modify(|s| s.state = DestinationState::Streaming);

    let max_lag_ms = u32::try_from(policy.max_lag.as_millis()).unwrap_or(u32::MAX);
    let mut outbox = Outbox { queue: std::collections::VecDeque::new(), offset: 0 };
    let mut last_progress = Instant::now();
    let mut window_bytes = 0u64;
    let mut window_start = Instant::now();
    let mut waiting_for_keyframe = true;
    let mut read_buffer = vec![0u8; 4096];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ended::Stopped,
            // New media only once what is queued went out: a slow destination falls behind in
            // the shared ring (and skips), never in a queue of its own.
            received = ring.recv(), if outbox.is_empty() => {
                let batch = match received {
                    Ok(batch) => batch,
                    Err(RecvError::Lagged(_)) => {
                        waiting_for_keyframe = true;
                        status.send_modify(|s| s.skips += 1);
                        continue;
                    }
                    Err(RecvError::Closed) => return Ended::Stopped,
                };
                if hub.newest_timestamp().saturating_sub(batch.first_timestamp()) > max_lag_ms && !waiting_for_keyframe {
                    waiting_for_keyframe = true;
                    status.send_modify(|s| s.skips += 1);
                }
                let from = if waiting_for_keyframe {
                    let keyframe = batch.first_keyframe();
                    // Decoder configurations before the keyframe still count (a new one may come mid-live).
                    let skipped = &batch.media()[..keyframe.unwrap_or(batch.media().len())];
                    for header in skipped.iter().filter(|m| m.sequence_header) {
                        match writer.bytes(header) {
                            Ok(bytes) => outbox.push(bytes),
                            Err(error) => return Ended::Lost(error),
                        }
                    }
                    match keyframe {
                        Some(index) => {
                            waiting_for_keyframe = false;
                            index
                        }
                        None => continue,
                    }
                } else {
                    0
                };
                if let Err(error) = writer.push_batch(&batch, from, &mut outbox) {
                    return Ended::Lost(error);
                }
                last_progress = Instant::now();
            }
            written = publisher.writer.write(outbox.front()), if !outbox.is_empty() => match written {
                Ok(0) => return Ended::Lost(ConnectError::Closed),
                Ok(n) => {
                    outbox.advance(n);
                    window_bytes += n as u64;
                    last_progress = Instant::now();
                }
                Err(error) => return Ended::Lost(error.into()),
            },
            read = publisher.reader.read(&mut read_buffer) => match read {
                Ok(0) => return Ended::Lost(ConnectError::Closed),
                Ok(n) => match publisher.session.handle_input(&read_buffer[..n]) {
                    Ok(results) => {
                        for result in results {
                            if let ClientSessionResult::OutboundResponse(packet) = result {
                                outbox.push(Bytes::from(packet.bytes));
                            }
                        }
                    }
                    Err(error) => return Ended::Lost(error.into()),
                },
                Err(error) => return Ended::Lost(error.into()),
            },
            _ = tick.tick() => {
                if !outbox.is_empty() && last_progress.elapsed() >= policy.write_timeout {
                    return Ended::Lost(ConnectError::Stalled(policy.write_timeout.as_secs()));
                }
                let elapsed = window_start.elapsed();
                if elapsed >= Duration::from_secs(2) {
                    let bps = (window_bytes as f64 * 8.0 / elapsed.as_secs_f64()) as u64;
                    let sent = std::mem::take(&mut window_bytes);
                    window_start = Instant::now();
                    status.send_modify(|s| {
                        s.bytes_sent += sent;
                        s.bitrate_bps = bps;
                    });
                }
            }
        }
    }
}

/// The metadata and the latest decoder configurations, before the first frame.
async fn send_headers(publisher: &mut Publisher, hub: &SharedHub, writer: &mut Writer) -> Result<(), ConnectError> {
    let headers = hub.headers();
    if let Some(metadata) = &headers.metadata {
        let packet = publisher.session.publish_metadata(metadata)?;
        if let ClientSessionResult::OutboundResponse(packet) = packet {
            publisher.writer.write_all(&packet.bytes).await?;
        }
    }
    for header in [&headers.video, &headers.audio].into_iter().flatten() {
        let bytes = writer.bytes(header)?;
        publisher.writer.write_all(&bytes).await?;
    }
    Ok(())
}

/// A handle the relay keeps per destination.
#[derive(Debug)]
pub struct DestinationHandle {
    /// Stops it.
    pub stop: CancellationToken,
    /// Its status.
    pub status: watch::Receiver<DestinationStatus>,
}

impl DestinationHandle {
    /// Starts a destination task.
    pub fn spawn(target: RtmpTarget, hub: SharedHub, policy: DestinationPolicy, parent: &CancellationToken) -> Self {
        let stop = parent.child_token();
        let (status, receiver) = watch::channel(DestinationStatus::new());
        tokio::spawn(run(target, Arc::clone(&hub), status, policy, stop.clone()));
        Self { stop, status: receiver }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_short_early_in_an_outage_then_doubles_to_thirty_with_jitter() {
        let policy = DestinationPolicy::default();
        let within = |attempt, outage: u64, low: f64, high: f64| {
            let wait = backoff(&policy, attempt, Duration::from_secs(outage)).as_secs_f64();
            assert!((low..=high).contains(&wait), "attempt {attempt} after {outage} s: {wait}");
        };
        within(1, 0, 1.0, 1.25);
        within(2, 1, 2.0, 2.5);
        within(3, 3, 2.0, 2.5);
        within(9, 50, 2.0, 2.5);
        within(3, 61, 4.0, 5.0);
        within(6, 90, 30.0, 37.5);
        within(40, 600, 30.0, 37.5);
    }
}
