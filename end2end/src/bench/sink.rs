//! The benchmark's sinks: one lean RTMP server on `rml_rtmp` that accepts any number of
//! publishers, one per stream key (`s0`, `s1`, …), and records for each what a real ingest
//! would see — media bytes and, per video frame, its fingerprint and arrival instant. Chosen
//! sinks read slowly (a destination on a poor link). The same sinks serve every contender.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rml_rtmp::handshake::PeerType;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::ledger::{fingerprint, is_sequence_header};
use crate::WorldError;

/// What one stream key received.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    /// When its publisher was accepted (the last time, after reconnects).
    pub published_at: Instant,
    /// When its first video keyframe (not a sequence header) arrived.
    pub first_keyframe_at: Option<Instant>,
    /// Audio and video bytes (tag bodies) received, sequence headers excluded.
    pub media_bytes: u64,
    /// Every video frame: fingerprint and arrival.
    pub video: Vec<(u64, Instant)>,
    /// How many times a publisher was accepted on it.
    pub publishes: u32,
}

type Records = Arc<Mutex<HashMap<String, SinkRecord>>>;

/// A running sink server.
#[derive(Debug)]
pub struct SinkServer {
    address: SocketAddr,
    records: Records,
    slow: Arc<Mutex<HashMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SinkServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SinkServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Result<Self, WorldError> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|source| WorldError::Io { what: "bind the bench sinks".into(), source })?;
        let address = listener.local_addr().map_err(|source| WorldError::Io { what: "read the sinks' address".into(), source })?;
        let records: Records = Arc::default();
        let slow: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let task = tokio::spawn(accept(listener, Arc::clone(&records), Arc::clone(&slow)));
        Ok(Self { address, records, slow, task })
    }

    /// The URL a contender publishes stream `key` to.
    pub fn url(&self, key: &str) -> String {
        format!("rtmp://{}/bench/{key}", self.address)
    }

    /// Makes stream `key` read at most `bytes_per_second` from its next connection on.
    pub fn make_slow(&self, key: &str, bytes_per_second: u64) {
        self.slow.lock().unwrap_or_else(PoisonError::into_inner).insert(key.to_string(), bytes_per_second);
    }

    /// Forgets every record (between contenders) and every slow key.
    pub fn reset(&self) {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.slow.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// What every stream key received so far.
    pub fn records(&self) -> HashMap<String, SinkRecord> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many stream keys have had a keyframe.
    pub fn with_keyframe(&self) -> usize {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).values().filter(|r| r.first_keyframe_at.is_some()).count()
    }

    /// How many stream keys have a publisher accepted.
    pub fn published(&self) -> usize {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

async fn accept(listener: TcpListener, records: Records, slow: Arc<Mutex<HashMap<String, u64>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let records = Arc::clone(&records);
        let slow = Arc::clone(&slow);
        tokio::spawn(async move {
            if let Err(error) = serve(stream, records, slow).await
                && std::env::var_os("FANOUT_BENCH_LOGS").is_some()
            {
                eprintln!("sink connection ended: {error}");
            }
        });
    }
}

/// Why one sink connection ended (only logged by nobody: the figures tell).
#[derive(Debug, thiserror::Error)]
enum SinkError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Handshake(#[from] server::relay::handshake::HandshakeFailed),
    #[error("RTMP: {0:?}")]
    Session(rml_rtmp::sessions::ServerSessionError),
}

async fn serve(mut stream: TcpStream, records: Records, slow: Arc<Mutex<HashMap<String, u64>>>) -> Result<(), SinkError> {
    stream.set_nodelay(true)?;
    let debug = std::env::var_os("FANOUT_BENCH_LOGS").is_some();
    let leftover = server::relay::handshake::handshake(&mut stream, PeerType::Server).await?;
    if debug {
        eprintln!("sink: handshake done, {} bytes after it", leftover.len());
    }
    let (mut session, mut pending) = ServerSession::new(ServerSessionConfig::new()).map_err(SinkError::Session)?;
    pending.extend(session.handle_input(&leftover).map_err(SinkError::Session)?);
    let mut key: Option<String> = None;
    let mut rate: Option<u64> = None;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        while !pending.is_empty() {
            for result in std::mem::take(&mut pending) {
                match result {
                    ServerSessionResult::OutboundResponse(packet) => stream.write_all(&packet.bytes).await?,
                    ServerSessionResult::RaisedEvent(event) => {
                        if debug {
                            eprintln!("sink event: {:?}", std::mem::discriminant(&event));
                        }
                        pending.extend(on_event(event, &mut session, &records, &mut key)?);
                        if rate.is_none() {
                            rate = key.as_ref().and_then(|k| slow.lock().unwrap_or_else(PoisonError::into_inner).get(k).copied());
                        }
                    }
                    ServerSessionResult::UnhandleableMessageReceived(_) => {}
                }
            }
        }
        let want = if rate.is_some() { 4096 } else { buffer.len() };
        let read = stream.read(&mut buffer[..want]).await?;
        if read == 0 {
            return Ok(());
        }
        if let Some(rate) = rate {
            tokio::time::sleep(Duration::from_secs_f64(read as f64 / rate.max(1) as f64)).await;
        }
        pending = session.handle_input(&buffer[..read]).map_err(SinkError::Session)?;
    }
}

fn on_event(
    event: ServerSessionEvent,
    session: &mut ServerSession,
    records: &Records,
    key: &mut Option<String>,
) -> Result<Vec<ServerSessionResult>, SinkError> {
    let record = |key: &Option<String>, video: bool, data: &[u8]| {
        let Some(key) = key else { return };
        if is_sequence_header(video, data) {
            return;
        }
        let now = Instant::now();
        let mut records = records.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(record) = records.get_mut(key) {
            record.media_bytes += data.len() as u64;
            if video {
                if record.first_keyframe_at.is_none() && data.first().is_some_and(|b| b >> 4 == 1) {
                    record.first_keyframe_at = Some(now);
                }
                record.video.push((fingerprint(data), now));
            }
        }
    };
    match event {
        ServerSessionEvent::ConnectionRequested { request_id, .. } => session.accept_request(request_id).map_err(SinkError::Session),
        ServerSessionEvent::PublishStreamRequested { request_id, stream_key, .. } => {
            let mut all = records.lock().unwrap_or_else(PoisonError::into_inner);
            let record = all.entry(stream_key.clone()).or_insert_with(|| SinkRecord {
                published_at: Instant::now(),
                first_keyframe_at: None,
                media_bytes: 0,
                video: Vec::new(),
                publishes: 0,
            });
            record.published_at = Instant::now();
            record.publishes += 1;
            drop(all);
            *key = Some(stream_key);
            session.accept_request(request_id).map_err(SinkError::Session)
        }
        ServerSessionEvent::AudioDataReceived { data, .. } => {
            record(key, false, &data);
            Ok(Vec::new())
        }
        ServerSessionEvent::VideoDataReceived { data, .. } => {
            record(key, true, &data);
            Ok(Vec::new())
        }
        _ => Ok(Vec::new()),
    }
}
