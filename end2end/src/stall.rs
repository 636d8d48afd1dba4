//! A destination that misbehaves: it accepts the TCP connection and either never answers
//! (`Stall::Silent`) or completes the RTMP handshake and publish and then stops reading
//! (`Stall::AfterPublish`) — what a dead or hopelessly slow ingest looks like to Fanout.

use std::net::SocketAddr;

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::WorldError;

/// How the sink misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Accepts, never reads or answers.
    Silent,
    /// Accepts the publish, then never reads again.
    AfterPublish,
    /// Accepts the publish, then reads at most this many bytes per second.
    Slow(u64),
}

/// A running stalling sink.
#[derive(Debug)]
pub struct StallingSink {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for StallingSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StallingSink {
    /// Starts it on a free loopback port.
    pub async fn start(stall: Stall) -> Result<Self, WorldError> {
        let io = |source| WorldError::Io { what: "open a stalling sink".into(), source };
        let socket = tokio::net::TcpSocket::new_v4().map_err(io)?;
        // A small receive buffer: once it is full the sender is really stuck.
        socket.set_recv_buffer_size(4096).map_err(io)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).map_err(io)?;
        let listener: TcpListener = socket.listen(64).map_err(io)?;
        let address = listener.local_addr().map_err(|source| WorldError::Io { what: "read its address".into(), source })?;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                match stall {
                    Stall::Silent => held.push(stream),
                    Stall::AfterPublish => {
                        if let Some(stream) = accept_publish(stream).await {
                            held.push(stream);
                        }
                    }
                    Stall::Slow(bytes_per_second) => {
                        if let Some(stream) = accept_publish(stream).await {
                            tokio::spawn(trickle(stream, bytes_per_second));
                        }
                    }
                }
            }
        });
        Ok(Self { address, task })
    }

    /// `rtmp://127.0.0.1:<port>/live`.
    pub fn ingest_base(&self) -> String {
        format!("rtmp://{}/live", self.address)
    }
}

/// Reads `bytes_per_second` at most, in tenths of a second.
async fn trickle(mut stream: TcpStream, bytes_per_second: u64) {
    let per_tick = usize::try_from(bytes_per_second / 10).unwrap_or(usize::MAX).max(1);
    let mut buffer = vec![0u8; per_tick];
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tick.tick().await;
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Plays RTMP server until the publish is accepted, then returns the stream (never read again).
async fn accept_publish(mut stream: TcpStream) -> Option<TcpStream> {
    let mut handshake = Handshake::new(PeerType::Server);
    stream.write_all(&handshake.generate_outbound_p0_and_p1().ok()?).await.ok()?;
    let mut buffer = vec![0u8; 8192];
    let leftover = loop {
        let read = stream.read(&mut buffer).await.ok().filter(|n| *n > 0)?;
        match handshake.process_bytes(&buffer[..read]).ok()? {
            HandshakeProcessResult::InProgress { response_bytes } => stream.write_all(&response_bytes).await.ok()?,
            HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                stream.write_all(&response_bytes).await.ok()?;
                break remaining_bytes;
            }
        }
    };
    let (mut session, mut results) = ServerSession::new(ServerSessionConfig::new()).ok()?;
    results.extend(session.handle_input(&leftover).ok()?);
    loop {
        let mut published = false;
        while !results.is_empty() {
            for result in std::mem::take(&mut results) {
                match result {
                    ServerSessionResult::OutboundResponse(packet) => stream.write_all(&packet.bytes).await.ok()?,
                    ServerSessionResult::RaisedEvent(ServerSessionEvent::ConnectionRequested { request_id, .. }) => {
                        results.extend(session.accept_request(request_id).ok()?);
                    }
                    ServerSessionResult::RaisedEvent(ServerSessionEvent::PublishStreamRequested { request_id, .. }) => {
                        results.extend(session.accept_request(request_id).ok()?);
                        published = true;
                    }
                    _ => {}
                }
            }
        }
        if published {
            return Some(stream);
        }
        let read = stream.read(&mut buffer).await.ok().filter(|n| *n > 0)?;
        results = session.handle_input(&buffer[..read]).ok()?;
    }
}
