//! One WebSocket to Restream, opened and read under limits: TCP (TLS for `wss://`, rustls with
//! ring and the webpki roots), the handshake with the access token in the query as Restream's
//! docs show it, a cap on message and frame size, small buffers, and a deadline on every step.
//! The URL holds the token, so it is kept as a [`Secret`] and never logged, nor put in an
//! error: errors here name what failed, not where.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use app::secrets::Secret;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use url::Url;

/// The largest message (and frame) read. Restream's messages are a few hundred bytes; a
/// larger one ends the connection rather than the memory.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The read buffer of one socket: small, because hundreds are open at once and each message is
/// small (tungstenite's default is 128 KiB).
const READ_BUFFER: usize = 4 * 1024;

/// Why a socket could not be opened. No variant holds the URL or the token.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// No answer in time.
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// The address is not a WebSocket one (checked at start; kept for completeness).
    #[error("the streaming-updates address is not a ws:// or wss:// URL with a host")]
    Address,
    /// The host name did not resolve, or no address answered.
    #[error("cannot reach Restream's WebSocket: {0}")]
    Network(std::io::ErrorKind),
    /// TLS could not be set up.
    #[error("TLS with Restream's WebSocket failed: {0}")]
    Tls(String),
    /// Restream answered the handshake with an HTTP status (401: the access token is refused).
    #[error("Restream refused the WebSocket (HTTP {0})")]
    Refused(u16),
    /// The WebSocket handshake or protocol failed.
    #[error("the WebSocket handshake failed: {0}")]
    Handshake(String),
}

impl SocketError {
    /// Whether Restream refused the access token.
    pub fn token_refused(&self) -> bool {
        matches!(self, Self::Refused(401 | 403))
    }
}

/// A tungstenite error in words that hold nothing of the request (no URL, no token).
pub(super) fn describe(error: &tungstenite::Error) -> String {
    use tungstenite::Error;
    match error {
        Error::ConnectionClosed | Error::AlreadyClosed => "the connection closed".into(),
        Error::Io(io) => format!("network: {}", io.kind()),
        Error::Tls(_) => "TLS failed".into(),
        Error::Capacity(capacity) => format!("a message over the limit of {MAX_MESSAGE} bytes ({capacity})"),
        Error::Protocol(protocol) => format!("protocol: {protocol}"),
        Error::WriteBufferFull(_) => "the write buffer is full".into(),
        Error::Utf8(_) => "a text message that is not UTF-8".into(),
        Error::AttackAttempt => "the server's handshake looks like an attack".into(),
        Error::Url(_) => "not a WebSocket address".into(),
        Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
        Error::HttpFormat(_) => "a malformed HTTP answer".into(),
    }
}

/// A TCP or TLS connection.
pub(super) enum Transport {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Transport::Plain",
            Self::Tls(_) => "Transport::Tls",
        })
    }
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An open WebSocket to Restream.
pub(super) type Socket = WebSocketStream<Transport>;

/// The TLS configuration of `wss://` sockets: the public roots, HTTP/1.1 for the upgrade.
pub fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| crate::tls::client_config(&[b"http/1.1"])).clone()
}

/// The address to open: `base` with `accessToken=<token>` in its query (percent-encoded), as a
/// secret.
pub(super) fn address_with_token(base: &Url, token: &Secret) -> Secret {
    let mut url = base.clone();
    url.query_pairs_mut().append_pair("accessToken", token.expose());
    Secret::new(url.as_str())
}

/// Opens the WebSocket at `base` with `token` (TLS as `tls` says, for `wss://`), all of it within
/// `deadline`.
pub(super) async fn open(base: &Url, token: &Secret, tls: &Arc<rustls::ClientConfig>, deadline: Duration) -> Result<Socket, SocketError> {
    tokio::time::timeout(deadline, open_inner(base, token, tls)).await.map_err(|_| SocketError::Timeout(deadline.as_secs()))?
}

async fn open_inner(base: &Url, token: &Secret, tls_config: &Arc<rustls::ClientConfig>) -> Result<Socket, SocketError> {
    let tls = match base.scheme() {
        "wss" => true,
        "ws" => false,
        _ => return Err(SocketError::Address),
    };
    let host = base.host_str().ok_or(SocketError::Address)?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = base.port_or_known_default().ok_or(SocketError::Address)?;
    let mut last = std::io::ErrorKind::NotFound;
    let mut tcp = None;
    let addresses = tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| SocketError::Network(e.kind()))?;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(error) => last = error.kind(),
        }
    }
    let tcp = tcp.ok_or(SocketError::Network(last))?;
    tcp.set_nodelay(true).map_err(|e| SocketError::Network(e.kind()))?;
    let transport = if tls {
        let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| SocketError::Tls(e.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls_config))
            .connect(name, tcp)
            .await
            .map_err(|e| SocketError::Tls(e.kind().to_string()))?;
        Transport::Tls(Box::new(stream))
    } else {
        Transport::Plain(tcp)
    };
    let address = address_with_token(base, token);
    let mut request = address.expose().into_client_request().map_err(|_| SocketError::Address)?;
    request.headers_mut().insert(
        tungstenite::http::header::USER_AGENT,
        tungstenite::http::HeaderValue::from_static(concat!("fanout/", env!("CARGO_PKG_VERSION"))),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    match tokio_tungstenite::client_async_with_config(request, transport, Some(config)).await {
        Ok((socket, _response)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(SocketError::Refused(response.status().as_u16())),
        Err(error) => Err(SocketError::Handshake(describe(&error))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_query_percent_encoded_and_the_address_stays_secret() {
        let base = Url::parse("wss://streaming.api.restream.io/ws").unwrap_or_else(|e| panic!("{e}"));
        let address = address_with_token(&base, &Secret::new("tok en?&/="));
        assert_eq!(address.expose(), "wss://streaming.api.restream.io/ws?accessToken=tok+en%3F%26%2F%3D");
        assert!(!format!("{address:?}{address}").contains("tok"), "Debug and Display hide it");
    }

    #[tokio::test]
    async fn errors_name_what_failed_never_the_address() {
        // Nothing listens on port 9 of loopback (discard): the connection is refused.
        let base = Url::parse("ws://127.0.0.1:9/ws").unwrap_or_else(|e| panic!("{e}"));
        let error = open(&base, &Secret::new("sekrit-token"), &tls_config(), Duration::from_secs(5)).await.err().map(|e| e.to_string());
        assert!(error.as_deref().is_some_and(|e| !e.contains("sekrit") && !e.contains("127.0.0.1")), "{error:?}");
        let ftp = Url::parse("ftp://example.org/ws").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(open(&ftp, &Secret::new("t"), &tls_config(), Duration::from_secs(1)).await, Err(SocketError::Address)));
    }
}
