//! The relay's RTMP input: a listener that accepts a publisher on
//! `rtmp://<address>/ingest/<key>` (or `rtmps://`, with the operator's certificate) — for
//! `fanout relay`, and for a broadcaster pushing the live to Fanout (`super::push`) — and feeds
//! what it publishes into a [`Sink`]: the relay's [`Input`], or the push point. Every
//! connection is served in its own task under deadlines (the TLS and RTMP handshakes, the
//! publish request, and every read after it), so an idle or slow peer holds nothing but its own
//! socket; one publisher at a time, a second is refused; a wrong key and a busy key get the
//! same answer (the connection closed), so a peer never learns whether a key exists; refused
//! peers are logged by address. The peer's bytes pass the [`RtmpGuard`] before the session
//! reads them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::secrets::Secret;
use bytes::Bytes;
use rml_rtmp::handshake::PeerType;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::guard::{GuardError, RtmpGuard, catching};
use super::handshake::{HandshakeFailed, handshake};
use super::input::{Feed, FeedError, Input};
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
    #[error("TLS: {0}")]
    Tls(String),
    #[error("RTMP session: {0:?}")]
    Session(rml_rtmp::sessions::ServerSessionError),
    #[error("{0}")]
    Guard(#[from] GuardError),
    #[error("{0}")]
    Refused(&'static str),
    #[error("no {0} within {1} s")]
    Deadline(&'static str, u64),
    #[error(transparent)]
    Feed(#[from] FeedError),
}

impl PublisherError {
    /// A refusal of the peer (logged as such), not a publisher's stream ending.
    fn is_refusal(&self) -> bool {
        !matches!(self, Self::Io(_) | Self::Feed(_))
    }
}

/// Where a publisher's media goes once its publish is accepted.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// A publisher's hold (or wait) on it; `None` while another publisher has it.
    fn open(&self, peer: SocketAddr) -> Option<Box<dyn Publishing>>;
}

impl Sink for Arc<Input> {
    fn open(&self, _peer: SocketAddr) -> Option<Box<dyn Publishing>> {
        self.claim().map(|feed| Box::new(feed) as Box<dyn Publishing>)
    }
}

/// One publisher's side of a [`Sink`]: what the listener hands it, message by message.
pub trait Publishing: Send {
    /// One audio or video message at the publisher's `timestamp`.
    fn media(&mut self, kind: MediaKind, body: Bytes, timestamp: u32) -> Result<(), FeedError>;
    /// The stream's metadata.
    fn metadata(&mut self, metadata: rml_rtmp::sessions::StreamMetadata);
    /// Counts bytes received from the publisher.
    fn received(&mut self, bytes: usize);
    /// When the batch being gathered must go out, if one is.
    fn deadline(&self) -> Option<std::time::Instant>;
    /// Sends the batch gathered so far.
    fn flush(&mut self);
    /// Sends the batch if its window has closed.
    fn flush_if_due(&mut self) {
        if self.deadline().is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            self.flush();
        }
    }
}

impl Publishing for Feed {
    fn media(&mut self, kind: MediaKind, body: Bytes, timestamp: u32) -> Result<(), FeedError> {
        Feed::media(self, kind, body, timestamp)
    }
    fn metadata(&mut self, metadata: rml_rtmp::sessions::StreamMetadata) {
        Feed::metadata(self, metadata);
    }
    fn received(&mut self, bytes: usize) {
        Feed::received(self, bytes);
    }
    fn deadline(&self) -> Option<std::time::Instant> {
        Feed::deadline(self)
    }
    fn flush(&mut self) {
        Feed::flush(self);
    }
}

/// The stream key a publisher must give, as its keeper has it now.
#[derive(Debug)]
pub enum Expected {
    /// This key.
    Key(Secret),
    /// A key whose SHA-256 is this (the key itself is not kept).
    Sha256([u8; 32]),
    /// No key: every publish is refused.
    Nothing,
}

impl Expected {
    /// Whether `offered` is the key: compared whole, in constant time.
    pub fn accepts(&self, offered: &str) -> bool {
        match self {
            Self::Key(key) => constant_time_eq(offered.as_bytes(), key.expose().as_bytes()),
            Self::Sha256(hash) => {
                use sha2::Digest;
                constant_time_eq(&sha2::Sha256::digest(offered.as_bytes()), hash)
            }
            Self::Nothing => false,
        }
    }
}

/// Who knows the stream key (read once a connection, after its handshake: a key changed
/// meanwhile holds from the next connection on).
#[async_trait::async_trait]
pub trait Keys: Send + Sync + std::fmt::Debug {
    /// The key now.
    async fn expected(&self) -> Expected;
}

/// One key, fixed for the listener's life (`fanout relay`, the relay's loopback listener).
#[derive(Debug)]
pub struct FixedKey(pub Secret);

#[async_trait::async_trait]
impl Keys for FixedKey {
    async fn expected(&self) -> Expected {
        Expected::Key(self.0.clone())
    }
}

/// What accepting needs: the key's keeper, where media goes, who may connect, and the
/// certificate when connections are TLS (RTMPS).
#[derive(Debug)]
pub struct Door {
    /// Who knows the key.
    pub keys: Arc<dyn Keys>,
    /// Where media goes.
    pub sink: Arc<dyn Sink>,
    /// Who may connect.
    pub peers: Peers,
    /// TLS before RTMP, when set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Accepts publishers until `stop`, each connection in its own task.
pub async fn accept(listener: TcpListener, door: Door, stop: CancellationToken) {
    let door = Arc::new(door);
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
                result = connected(stream, peer, &door) => result,
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

/// A connection: TLS first when the door has a certificate, then RTMP.
async fn connected(stream: tokio::net::TcpStream, peer: SocketAddr, door: &Door) -> Result<(), PublisherError> {
    stream.set_nodelay(true)?;
    let Some(tls) = &door.tls else { return serve(stream, peer, door).await };
    let accepting = tokio_rustls::TlsAcceptor::from(Arc::clone(tls)).accept(stream);
    match tokio::time::timeout(HANDSHAKE_DEADLINE, accepting).await {
        Err(_) => Err(PublisherError::Deadline("TLS handshake", HANDSHAKE_DEADLINE.as_secs())),
        Ok(Err(error)) => Err(PublisherError::Tls(error.to_string())),
        Ok(Ok(stream)) => serve(stream, peer, door).await,
    }
}

/// A connection before and after it holds the input.
enum Stage {
    /// Connected; not publishing yet, until the deadline.
    Waiting(tokio::time::Instant),
    /// Publishing.
    Publishing(Box<dyn Publishing>),
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, peer: SocketAddr, door: &Door) -> Result<(), PublisherError> {
    let leftover = match tokio::time::timeout(HANDSHAKE_DEADLINE, handshake(&mut stream, PeerType::Server)).await {
        Err(_) => return Err(PublisherError::Deadline("RTMP handshake", HANDSHAKE_DEADLINE.as_secs())),
        Ok(Err(HandshakeFailed::Closed)) => return Ok(()),
        Ok(result) => result?,
    };
    tracing::debug!(%peer, "RTMP peer connected");
    let expected = door.keys.expected().await;
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
                    ServerSessionResult::RaisedEvent(event) => {
                        pending.extend(handle_event(event, &mut session, door, &expected, peer, &mut stage)?)
                    }
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
    expected: &Expected,
    peer: SocketAddr,
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
            if !expected.accepts(&stream_key) {
                return Err(PublisherError::Refused("publish refused (wrong stream key)"));
            }
            if matches!(stage, Stage::Publishing(_)) {
                return Err(PublisherError::Refused("a second publish on one connection"));
            }
            let Some(feed) = door.sink.open(peer) else {
                return Err(PublisherError::Refused("publish refused: another publisher holds the input"));
            };
            *stage = Stage::Publishing(feed);
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
