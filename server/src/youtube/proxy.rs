//! The proxy as yt-dlp and ffmpeg see it. A proxy without a password is given to them as it
//! is. One with a password would put it on their command lines (ffmpeg takes a proxy only as
//! `-http_proxy URL`), where every local user can read it; so Fanout listens on loopback and
//! forwards what its children send to the real proxy, adding the credentials itself
//! (`Proxy-Authorization: Basic`). A child then gets `http://127.0.0.1:<port>` and no secret.
//!
//! The forwarder reads each request head (bounded, under a deadline), passes `CONNECT`
//! tunnels through as they are, and asks the proxy to close plain requests after one answer
//! (so every request on a connection carries the credentials). Connections idle too long are
//! closed.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::YoutubeProxy;

/// The largest request head read from a child.
const MAX_HEAD: usize = 16 * 1024;
/// How long a child has to send its request head, and the proxy to accept the connection.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// A connection with nothing moving either way for this long is closed.
const IDLE: Duration = Duration::from_secs(120);
/// The most connections forwarded at once.
const MAX_CONNECTIONS: usize = 256;

/// The proxy for Fanout's children: the configured one, or the loopback forwarder to it.
#[derive(Debug, Clone)]
pub struct ChildProxy {
    url: Url,
}

impl ChildProxy {
    /// The URL a child is given (never with a password).
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// Gives `proxy` to the children: as it is when it has no credentials, else through a
/// forwarder on loopback that runs until `stop`.
pub async fn for_children(proxy: &YoutubeProxy, stop: CancellationToken) -> std::io::Result<ChildProxy> {
    if !proxy.has_credentials() {
        return Ok(ChildProxy { url: proxy.url().clone() });
    }
    let upstream = proxy.url().clone();
    if upstream.scheme() != "http" {
        return Err(std::io::Error::other("a proxy with credentials must be an http:// proxy"));
    }
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let authorization = authorization(&upstream);
    let target = format!("{}:{}", upstream.host_str().unwrap_or("127.0.0.1"), upstream.port_or_known_default().unwrap_or(3128));
    tokio::spawn(async move {
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let accepted = tokio::select! {
                () = stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((child, _)) = accepted else { continue };
            let Ok(slot) = std::sync::Arc::clone(&slots).try_acquire_owned() else { continue };
            let (target, authorization) = (target.clone(), authorization.clone());
            tokio::spawn(async move {
                if let Err(error) = forward(child, &target, &authorization).await {
                    tracing::debug!(%error, "a proxied connection ended");
                }
                drop(slot);
            });
        }
    });
    tracing::info!(%address, "forwarding yt-dlp's and ffmpeg's YouTube traffic to the proxy (credentials added here)");
    Ok(ChildProxy { url: Url::parse(&format!("http://{address}")).map_err(std::io::Error::other)? })
}

/// `Basic` credentials of the proxy URL (percent-decoded).
fn authorization(url: &Url) -> String {
    let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
    let pair = format!("{}:{}", decode(url.username()), decode(url.password().unwrap_or("")));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// The head to send on: the child's request line and headers, without any
/// `Proxy-Authorization` or `Connection` of its own, with the credentials — and, for a plain
/// request, `Connection: close`.
pub fn rewrite_head(head: &[u8], authorization: &str) -> Result<Vec<u8>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(_) = request.parse(head).map_err(|_| "not an HTTP request")? else {
        return Err("an incomplete request head");
    };
    let (method, path) = (request.method.ok_or("no method")?, request.path.ok_or("no target")?);
    let tunnel = method.eq_ignore_ascii_case("CONNECT");
    let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    for header in request.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        if matches!(name.as_str(), "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive") {
            continue;
        }
        out.extend_from_slice(header.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Proxy-Authorization: {authorization}\r\n").as_bytes());
    if !tunnel {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// Where a request head ends in `buffer`, if it does.
fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

async fn forward(mut child: TcpStream, target: &str, authorization: &str) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(1024);
    let end = tokio::time::timeout(HEAD_DEADLINE, async {
        let mut chunk = [0u8; 2048];
        loop {
            if let Some(end) = head_end(&buffer) {
                return Ok(end);
            }
            if buffer.len() >= MAX_HEAD {
                return Err(std::io::Error::other("request head too large"));
            }
            let read = child.read(&mut chunk).await?;
            if read == 0 {
                return Err(std::io::Error::other("closed before its request head"));
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
    })
    .await
    .map_err(|_| std::io::Error::other("no request head in time"))??;
    let head = rewrite_head(&buffer[..end], authorization).map_err(std::io::Error::other)?;
    let mut upstream = tokio::time::timeout(HEAD_DEADLINE, TcpStream::connect(target))
        .await
        .map_err(|_| std::io::Error::other("the proxy did not accept in time"))??;
    upstream.write_all(&head).await?;
    upstream.write_all(&buffer[end..]).await?;
    splice(child, upstream).await
}

/// Copies both ways until either side closes or nothing moves for [`IDLE`].
async fn splice(child: TcpStream, upstream: TcpStream) -> std::io::Result<()> {
    let (mut child_read, mut child_write) = child.into_split();
    let (mut up_read, mut up_write) = upstream.into_split();
    let up = copy_idle(&mut child_read, &mut up_write);
    let down = copy_idle(&mut up_read, &mut child_write);
    tokio::select! {
        result = up => result,
        result = down => result,
    }
}

async fn copy_idle(from: &mut tokio::net::tcp::OwnedReadHalf, to: &mut tokio::net::tcp::OwnedWriteHalf) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let read = match tokio::time::timeout(IDLE, from.read(&mut buffer)).await {
            Ok(read) => read?,
            Err(_) => return Ok(()),
        };
        if read == 0 {
            let _ = to.shutdown().await;
            return Ok(());
        }
        to.write_all(&buffer[..read]).await?;
    }
}

/// Where the forwarder listens, for tests.
pub fn address(proxy: &ChildProxy) -> Option<SocketAddr> {
    proxy.url.socket_addrs(|| None).ok()?.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_gets_the_credentials_and_loses_the_childs() {
        let auth = authorization(&Url::parse("http://ana:p%40ss@proxy.example:3128").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(auth, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("ana:p@ss")));
        let plain = rewrite_head(
            b"GET http://yt.example/watch?v=x HTTP/1.1\r\nHost: yt.example\r\nProxy-Authorization: Basic forged\r\nConnection: keep-alive\r\n\r\n",
            &auth,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let plain = String::from_utf8_lossy(&plain);
        assert!(plain.starts_with("GET http://yt.example/watch?v=x HTTP/1.1\r\nHost: yt.example\r\n"), "{plain}");
        assert!(!plain.contains("forged") && plain.contains(&auth) && plain.ends_with("Connection: close\r\n\r\n"), "{plain}");
        let tunnel = rewrite_head(b"CONNECT rr1.googlevideo.com:443 HTTP/1.1\r\nHost: rr1.googlevideo.com:443\r\n\r\n", &auth)
            .unwrap_or_else(|e| panic!("{e}"));
        let tunnel = String::from_utf8_lossy(&tunnel);
        assert!(tunnel.starts_with("CONNECT rr1.googlevideo.com:443 HTTP/1.1\r\n") && !tunnel.contains("Connection: close"), "{tunnel}");
        assert!(rewrite_head(b"\x16\x03\x01 not http\r\n\r\n", &auth).is_err());
    }
}
