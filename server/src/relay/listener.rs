//! The relay's input: an RTMP server on loopback that accepts one publisher — the ingest
//! (ffmpeg) — on `rtmp://127.0.0.1:<port>/ingest/<key>`, and turns what it publishes into
//! media for the hub. Timestamps are rebased so they keep growing when the ingest restarts:
//! destinations see one continuous stream.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use app::secrets::Secret;
use bytes::Bytes;
use rml_rtmp::handshake::PeerType;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::handshake::{HandshakeFailed, handshake};
use super::batch::{BATCH_WINDOW, Batch};
use super::hub::SharedHub;
use super::media::{Media, MediaChunker, MediaKind, SHARED_STREAM_ID};
use super::status::BitrateMeter;

/// The RTMP application the ingest publishes to.
pub const INGEST_APP: &str = "ingest";

/// Why a publisher connection ended.
#[derive(Debug, thiserror::Error)]
enum PublisherError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Handshake(#[from] HandshakeFailed),
    #[error("RTMP session: {0:?}")]
    Session(rml_rtmp::sessions::ServerSessionError),
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Serialize(#[from] super::media::SerializeError),
}

/// The batch being gathered: media received since the first of it, sent when its window closes.
#[derive(Default)]
struct Pending {
    media: Vec<Media>,
    since: Option<Instant>,
}

impl Pending {
    fn push(&mut self, media: Media) {
        self.since.get_or_insert_with(Instant::now);
        self.media.push(media);
    }

    fn deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + BATCH_WINDOW)
    }

    fn due(&self) -> bool {
        self.deadline().is_some_and(|deadline| Instant::now() >= deadline)
    }

    fn flush(&mut self, hub: &SharedHub) {
        self.since = None;
        if self.media.is_empty() {
            return;
        }
        let media = std::mem::take(&mut self.media);
        let count = media.len() as u64;
        hub.update_input(|input| input.messages += count);
        hub.publish(Batch::new(media));
    }
}

/// Keeps outgoing timestamps growing across publishers.
#[derive(Debug, Default)]
struct Rebaser {
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

/// Accepts ingest publishers (one at a time) until `stop`.
pub async fn accept(listener: TcpListener, key: Secret, hub: SharedHub, stop: CancellationToken) {
    let mut rebaser = Rebaser::default();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "the relay could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if !peer.ip().is_loopback() {
            continue;
        }
        rebaser.new_publisher();
        hub.update_input(|input| input.publishing = true);
        let result = tokio::select! {
            () = stop.cancelled() => Ok(()),
            result = serve_publisher(stream, peer, &key, &hub, &mut rebaser) => result,
        };
        hub.update_input(|input| {
            input.publishing = false;
            input.bitrate_bps = 0;
        });
        match result {
            Ok(()) => tracing::info!("the ingest stopped publishing"),
            Err(error) => tracing::warn!("the ingest connection ended: {error}"),
        }
    }
}

async fn serve_publisher(
    mut stream: TcpStream,
    peer: SocketAddr,
    key: &Secret,
    hub: &SharedHub,
    rebaser: &mut Rebaser,
) -> Result<(), PublisherError> {
    stream.set_nodelay(true)?;
    let leftover = match handshake(&mut stream, PeerType::Server).await {
        Ok(leftover) => leftover,
        Err(HandshakeFailed::Closed) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut buffer = vec![0u8; 64 * 1024];
    tracing::debug!(%peer, "ingest connected");
    let (mut session, results) = ServerSession::new(ServerSessionConfig::new()).map_err(PublisherError::Session)?;
    let mut chunker = MediaChunker::new(SHARED_STREAM_ID)?;
    let mut meter = BitrateMeter::new(Duration::from_secs(2));
    let mut batch = Pending::default();
    let mut pending = results;
    pending.extend(session.handle_input(&leftover).map_err(PublisherError::Session)?);
    loop {
        while !pending.is_empty() {
            let results = std::mem::take(&mut pending);
            for result in results {
                match result {
                    ServerSessionResult::OutboundResponse(packet) => stream.write_all(&packet.bytes).await?,
                    ServerSessionResult::RaisedEvent(event) => {
                        pending.extend(handle_event(event, &mut session, key, hub, &mut chunker, rebaser, &mut batch)?)
                    }
                    ServerSessionResult::UnhandleableMessageReceived(_) => {}
                }
            }
        }
        if batch.due() {
            batch.flush(hub);
        }
        // A batch waits for more media until its window closes, never longer.
        let read = match batch.deadline() {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
                Ok(read) => read?,
                Err(_) => {
                    batch.flush(hub);
                    continue;
                }
            },
            None => stream.read(&mut buffer).await?,
        };
        if read == 0 {
            batch.flush(hub);
            return Ok(());
        }
        hub.update_input(|input| {
            input.bytes_received += read as u64;
            if let Some(bps) = meter.add(read, Instant::now()) {
                input.bitrate_bps = bps;
            }
        });
        pending = session.handle_input(&buffer[..read]).map_err(PublisherError::Session)?;
    }
}

fn handle_event(
    event: ServerSessionEvent,
    session: &mut ServerSession,
    key: &Secret,
    hub: &SharedHub,
    chunker: &mut MediaChunker,
    rebaser: &mut Rebaser,
    batch: &mut Pending,
) -> Result<Vec<ServerSessionResult>, PublisherError> {
    let mut media = |kind, data: Bytes, timestamp: u32, chunker: &mut MediaChunker, rebaser: &mut Rebaser| {
        batch.push(chunker.media(kind, data, rebaser.rebase(timestamp))?);
        Ok::<_, PublisherError>(Vec::new())
    };
    match event {
        ServerSessionEvent::ConnectionRequested { request_id, app_name } if app_name == INGEST_APP => {
            session.accept_request(request_id).map_err(PublisherError::Session)
        }
        ServerSessionEvent::ConnectionRequested { .. } => Err(PublisherError::Refused("connection to an unknown application")),
        ServerSessionEvent::PublishStreamRequested { request_id, stream_key, .. } if stream_key == key.expose() => {
            session.accept_request(request_id).map_err(PublisherError::Session)
        }
        ServerSessionEvent::PublishStreamRequested { .. } => Err(PublisherError::Refused("publish with a wrong key")),
        ServerSessionEvent::PlayStreamRequested { .. } => Err(PublisherError::Refused("playback is not offered")),
        ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
            hub.set_metadata(metadata);
            Ok(Vec::new())
        }
        ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => media(MediaKind::Video, data, timestamp.value, chunker, rebaser),
        ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => media(MediaKind::Audio, data, timestamp.value, chunker, rebaser),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::Rebaser;

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
}
