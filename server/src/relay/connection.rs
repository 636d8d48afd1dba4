//! Opening a destination: TCP (or TLS for `rtmps://`), the RTMP handshake, `connect` to the
//! application and `publish` on the stream key — through `rml_rtmp`'s client session, which
//! stays with the connection to answer the server (acknowledgements, pings).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use rml_rtmp::handshake::PeerType;
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionError, ClientSessionEvent, ClientSessionResult, PublishRequestType,
};
use rml_rtmp::time::RtmpTimestamp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use super::handshake::{HandshakeFailed, handshake};
use super::media::CHUNK_SIZE;
use super::target::RtmpTarget;

/// Any byte stream a destination can be reached over.
pub trait Transport: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Transport for T {}

/// Why a destination could not be opened or was lost. Messages never hold the stream key.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No answer in time.
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// The network failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// The RTMP handshake failed.
    #[error("{0}")]
    Handshake(#[from] HandshakeFailed),
    /// The RTMP session failed.
    #[error("RTMP error: {0}")]
    Session(String),
    /// The server refused the connection to the application.
    #[error("the server refused the connection: {0}")]
    Rejected(String),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server stopped reading what was sent.
    #[error("the destination stopped reading (nothing could be sent for {0} s)")]
    Stalled(u64),
}

impl From<ClientSessionError> for ConnectError {
    fn from(error: ClientSessionError) -> Self {
        Self::Session(format!("{error:?}"))
    }
}

/// A destination ready for media: the halves of its connection and its session.
pub struct Publisher {
    /// Reads what the server sends.
    pub reader: ReadHalf<Box<dyn Transport>>,
    /// Writes to the server.
    pub writer: WriteHalf<Box<dyn Transport>>,
    /// The RTMP client session (answers the server; sends metadata).
    pub session: ClientSession,
    /// The message stream id the server gave the publishing stream.
    pub stream_id: u32,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").field("stream_id", &self.stream_id).finish_non_exhaustive()
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| crate::tls::client_config(&[])).clone()
}

/// The kernel send buffer of a destination connection: room for the bandwidth-delay product of
/// a 4 Mbit/s stream over a 300 ms round trip, and no more — so a destination that stops reading
/// blocks its writer within about a second instead of after megabytes of autotuned buffer.
const SEND_BUFFER: u32 = 256 * 1024;

async fn open_transport(target: &RtmpTarget) -> Result<Box<dyn Transport>, ConnectError> {
    let mut last_error = None;
    let mut tcp = None;
    for address in tokio::net::lookup_host((target.host.as_str(), target.port)).await? {
        let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        socket.set_send_buffer_size(SEND_BUFFER)?;
        match socket.connect(address).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(error) => last_error = Some(error),
        }
    }
    let tcp: TcpStream = tcp.ok_or_else(|| last_error.unwrap_or_else(|| std::io::Error::other("the host has no address")))?;
    tcp.set_nodelay(true)?;
    if !target.tls {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|e| ConnectError::Tls(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config()).connect(name, tcp).await.map_err(|e| ConnectError::Tls(e.to_string()))?;
    Ok(Box::new(tls))
}

/// Connects to `target` and starts publishing on its key, within `timeout`.
pub async fn connect(target: &RtmpTarget, timeout: Duration) -> Result<Publisher, ConnectError> {
    tokio::time::timeout(timeout, connect_inner(target)).await.map_err(|_| ConnectError::Timeout(timeout.as_secs()))?
}

async fn connect_inner(target: &RtmpTarget) -> Result<Publisher, ConnectError> {
    let mut transport = open_transport(target).await?;
    let leftover = handshake(&mut transport, PeerType::Client).await?;
    let mut buffer = vec![0u8; 16 * 1024];

    let mut config = ClientSessionConfig::new();
    config.chunk_size = CHUNK_SIZE;
    config.tc_url = Some(target.tc_url());
    let (mut session, initial) = ClientSession::new(config)?;
    let mut pending = initial;
    pending.push(session.request_connection(target.connect_app())?);
    pending.extend(session.handle_input(&leftover)?);
    loop {
        let mut published = false;
        while !pending.is_empty() {
            for result in std::mem::take(&mut pending) {
                match result {
                    ClientSessionResult::OutboundResponse(packet) => transport.write_all(&packet.bytes).await?,
                    ClientSessionResult::RaisedEvent(ClientSessionEvent::ConnectionRequestAccepted) => {
                        pending.push(session.request_publishing(target.key.expose().to_string(), PublishRequestType::Live)?);
                    }
                    ClientSessionResult::RaisedEvent(ClientSessionEvent::ConnectionRequestRejected { description }) => {
                        return Err(ConnectError::Rejected(redacted(&description, target)));
                    }
                    ClientSessionResult::RaisedEvent(ClientSessionEvent::PublishRequestAccepted) => published = true,
                    ClientSessionResult::RaisedEvent(ClientSessionEvent::UnhandleableOnStatusCode { code }) => {
                        return Err(ConnectError::Rejected(redacted(&code, target)));
                    }
                    _ => {}
                }
            }
        }
        if published {
            let stream_id = probe_stream_id(&mut session)?;
            let (reader, writer) = tokio::io::split(transport);
            return Ok(Publisher { reader, writer, session, stream_id });
        }
        let read = transport.read(&mut buffer).await?;
        if read == 0 {
            return Err(ConnectError::Closed);
        }
        pending = session.handle_input(&buffer[..read])?;
    }
}

/// The longest refusal text kept from a server.
const MAX_REFUSAL: usize = 200;

/// A server's refusal text as it may be shown and stored: the target's stream key (and any
/// application query) it may echo cut out, control characters dropped, at most
/// [`MAX_REFUSAL`] characters.
pub fn redacted(text: &str, target: &RtmpTarget) -> String {
    let mut clean: String = text.chars().filter(|c| !c.is_control()).take(MAX_REFUSAL * 2).collect();
    let mut secrets = vec![target.key.expose().to_string()];
    secrets.extend(target.app_query.as_ref().map(|q| q.expose().to_string()));
    // Also the key's parts a server might quote alone (`key?query` → `key`).
    secrets.extend(target.key.expose().split(['?', '&', '=']).filter(|part| part.len() >= 6).map(str::to_string));
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        clean = clean.replace(secret.as_str(), "***");
    }
    clean.chars().take(MAX_REFUSAL).collect()
}

/// The message stream id the server assigned, read from a packet the session serializes for it
/// (and that is never sent): a first chunk on a chunk stream has a full (type 0) header, which
/// carries the message stream id at bytes 8..12, little-endian (RTMP specification, 5.3.1.2.1).
fn probe_stream_id(session: &mut ClientSession) -> Result<u32, ConnectError> {
    let packet = match session.publish_audio_data(Bytes::from_static(&[0xaf]), RtmpTimestamp::new(0), true)? {
        ClientSessionResult::OutboundResponse(packet) => packet,
        _ => return Err(ConnectError::Session("no packet to read the stream id from".into())),
    };
    let bytes = packet.bytes;
    if bytes.len() >= 12 && bytes[0] >> 6 == 0 {
        Ok(u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]))
    } else {
        Err(ConnectError::Session("unexpected chunk header while reading the stream id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_that_echoes_the_key_is_stored_without_it() {
        let target = RtmpTarget::parse("rtmp://live.example/app/re_123_SECRETKEY?auth=TOKEN123").unwrap_or_else(|e| panic!("{e}"));
        let text = redacted("NetStream.Publish.BadName: re_123_SECRETKEY?auth=TOKEN123 refused\n(re_123_SECRETKEY)", &target);
        assert!(!text.contains("SECRETKEY") && !text.contains("TOKEN123") && !text.contains('\n'), "{text}");
        assert!(text.starts_with("NetStream.Publish.BadName: *** refused"), "{text}");
        assert_eq!(redacted(&"x".repeat(5000), &target).len(), MAX_REFUSAL);
    }
}
