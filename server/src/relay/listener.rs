//! The relay's RTMP input: a listener that accepts a publisher on
//! `rtmp://<address>/ingest/<key>` — for `fanout relay` (and a broadcaster pushing the live) —
//! and feeds what it publishes into the [`Input`]. Every connection is served in its own task
//! under deadlines (the handshake, the publish request, and every read after it), so an idle or
//! slow peer holds nothing but its own socket; one publisher holds the input at a time, a second
//! is refused plainly; a wrong key is refused without saying whether a key exists; refused peers
//! are logged by address. The peer's bytes pass the [`RtmpGuard`] before the session reads
//! them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::secrets::Secret;
use bytes::Bytes;
use rml_rtmp::handshake::PeerType;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::guard::{GuardError, RtmpGuard, catching};
use super::handshake::{HandshakeFailed, handshake};
use super::input::{Feed, Input};
use super::media::MediaKind;

/// The RTMP application a publisher publishes to.
pub const INGEST_APP: &str = "ingest";

/// How long a connection may take to complete the RTMP handshake.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);
/// How long a connected peer may take to ask to publish.
pub const PUBLISH_DEADLINE: Duration = Duration::from_secs(10);
/// How long a publisher may send nothing before it is dropped.
pub const IDLE_DEADLINE: Duration = Duration::from_secs(10);
/// The most connections served at once (each a task, a socket and a 64 KiB buffer).
const MAX_CONNECTIONS: usize = 64;

/// Which peers may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peers {
    /// Loopback addresses only (the relay's own ingest, the benchmark).
    Loopback,
    /// Any address (a broadcaster pushing over the internet).
    Any,
}

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
    Guard(#[from] GuardError),
    #[error("{0}")]
    Refused(&'static str),
    #[error("no {0} within {1} s")]
    Deadline(&'static str, u64),
    #[error(transparent)]
    Feed(#[from] super::input::FeedError),
}

impl PublisherError {
    /// A refusal of the peer (logged as such), not a publisher's stream ending.
    fn is_refusal(&self) -> bool {
        !matches!(self, Self::Io(_) | Self::Feed(_))
    }
}

/// What accepting needs.
struct Door {
    key: Secret,
    input: Arc<Input>,
    peers: Peers,
}

/// Accepts publishers until `stop`, each connection in its own task.
pub async fn accept(listener: TcpListener, key: Secret, input: Arc<Input>, peers: Peers, stop: CancellationToken) {
    let door = Arc::new(Door { key, input, peers });
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
        if door.peers == Peers::Loopback && !peer.ip().is_loopback() {
            tracing::warn!(%peer, "refused an ingest connection from outside loopback");
            continue;
        }
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, "refused an ingest connection: too many at once");
            continue;
        };
        let (door, stop) = (Arc::clone(&door), stop.clone());
        tokio::spawn(async move {
            let result = tokio::select! {
                () = stop.cancelled() => Ok(()),
                result = serve(stream, peer, &door) => result,
            };
            match result {
                Ok(()) => tracing::info!(%peer, "the publisher stopped publishing"),
                Err(error) if error.is_refusal() => tracing::warn!(%peer, "refused an ingest connection: {error}"),
                Err(error) => tracing::warn!(%peer, "the publisher's connection ended: {error}"),
            }
            drop(slot);
        });
    }
}

/// A connection before and after it holds the input.
enum Stage {
    /// Connected; not publishing yet, until the deadline.
    Waiting(tokio::time::Instant),
    /// Publishing.
    Publishing(Box<Feed>),
}

async fn serve(mut stream: TcpStream, peer: SocketAddr, door: &Door) -> Result<(), PublisherError> {
    stream.set_nodelay(true)?;
    let leftover = match tokio::time::timeout(HANDSHAKE_DEADLINE, handshake(&mut stream, PeerType::Server)).await {
        Err(_) => return Err(PublisherError::Deadline("RTMP handshake", HANDSHAKE_DEADLINE.as_secs())),
        Ok(Err(HandshakeFailed::Closed)) => return Ok(()),
        Ok(result) => result?,
    };
    tracing::debug!(%peer, "RTMP peer connected");
    let mut guard = RtmpGuard::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut session, mut pending) = ServerSession::new(ServerSessionConfig::new()).map_err(PublisherError::Session)?;
    let mut stage = Stage::Waiting(tokio::time::Instant::now() + PUBLISH_DEADLINE);
    guard.check(&leftover)?;
    pending.extend(catching(|| session.handle_input(&leftover))?.map_err(PublisherError::Session)?);
    loop {
        while !pending.is_empty() {
            for result in std::mem::take(&mut pending) {
                match result {
                    ServerSessionResult::OutboundResponse(packet) => stream.write_all(&packet.bytes).await?,
                    ServerSessionResult::RaisedEvent(event) => pending.extend(handle_event(event, &mut session, door, &mut stage)?),
                    ServerSessionResult::UnhandleableMessageReceived(_) => {}
                }
            }
        }
        let read = match &mut stage {
            Stage::Waiting(deadline) => match tokio::time::timeout_at(*deadline, stream.read(&mut buffer)).await {
                Ok(read) => read?,
                Err(_) => return Err(PublisherError::Deadline("publish request", PUBLISH_DEADLINE.as_secs())),
            },
            Stage::Publishing(feed) => {
                feed.flush_if_due();
                // A batch waits for more media until its window closes; the peer, no longer
                // than the idle deadline.
                let idle = tokio::time::Instant::now() + IDLE_DEADLINE;
                let until = feed.deadline().map_or(idle, |batch| tokio::time::Instant::from_std(batch).min(idle));
                match tokio::time::timeout_at(until, stream.read(&mut buffer)).await {
                    Ok(read) => read?,
                    Err(_) if until < idle => {
                        feed.flush();
                        continue;
                    }
                    Err(_) => return Err(PublisherError::Deadline("media", IDLE_DEADLINE.as_secs())),
                }
            }
        };
        if read == 0 {
            return Ok(());
        }
        let bytes = &buffer[..read];
        if let Stage::Publishing(feed) = &mut stage {
            feed.received(read);
        }
        guard.check(bytes)?;
        pending = catching(|| session.handle_input(bytes))?.map_err(PublisherError::Session)?;
    }
}

fn handle_event(
    event: ServerSessionEvent,
    session: &mut ServerSession,
    door: &Door,
    stage: &mut Stage,
) -> Result<Vec<ServerSessionResult>, PublisherError> {
    let mut media = |kind, data: Bytes, timestamp: u32| match stage {
        Stage::Publishing(feed) => feed.media(kind, data, timestamp).map(|()| Vec::new()).map_err(PublisherError::from),
        Stage::Waiting(_) => Err(PublisherError::Refused("media before a publish request")),
    };
    match event {
        ServerSessionEvent::ConnectionRequested { request_id, app_name } if app_name == INGEST_APP => {
            session.accept_request(request_id).map_err(PublisherError::Session)
        }
        ServerSessionEvent::ConnectionRequested { .. } => Err(PublisherError::Refused("connection to an unknown application")),
        ServerSessionEvent::PublishStreamRequested { request_id, stream_key, .. } => {
            // Compared whole and in constant time; a wrong key and a right key while another
            // publishes are told apart only in Fanout's own log.
            if !constant_time_eq(stream_key.as_bytes(), door.key.expose().as_bytes()) {
                return Err(PublisherError::Refused("publish refused (wrong stream key)"));
            }
            if matches!(stage, Stage::Publishing(_)) {
                return Err(PublisherError::Refused("a second publish on one connection"));
            }
            let Some(feed) = door.input.claim() else {
                return Err(PublisherError::Refused("publish refused: another publisher holds the input"));
            };
            *stage = Stage::Publishing(Box::new(feed));
            session.accept_request(request_id).map_err(PublisherError::Session)
        }
        ServerSessionEvent::PlayStreamRequested { .. } => Err(PublisherError::Refused("playback is not offered")),
        ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
            if let Stage::Publishing(feed) = stage {
                feed.metadata(metadata);
            }
            Ok(Vec::new())
        }
        ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => media(MediaKind::Video, data, timestamp.value),
        ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => media(MediaKind::Audio, data, timestamp.value),
        _ => Ok(Vec::new()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
