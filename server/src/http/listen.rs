//! Serving connections: hyper's HTTP/1 and HTTP/2 server under the router, with the deadlines
//! `axum::serve` does not set — a client that sends nothing, or does not finish its request
//! headers, within [`HEADER_DEADLINE`] (a slow or idle connection, a kept-alive one that asks
//! nothing more) is closed — and a bound on open connections, beyond which new ones are refused at once.
//! Every request carries its peer's address (`ConnectInfo`). On `stop`, no new connection is
//! taken and the open ones finish what they are doing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long a client may take to send a request's headers (and an idle kept-alive connection
/// may wait for its next request).
pub const HEADER_DEADLINE: Duration = Duration::from_secs(15);
/// The most connections open at once.
pub const MAX_CONNECTIONS: usize = 4096;

/// Serves `router` on `listener` until `stop`, then waits for the open connections to finish.
pub async fn serve(listener: TcpListener, router: Router, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_DEADLINE);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(Duration::from_secs(30)));
    let builder = Arc::new(builder);
    let open = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, "refused a connection: {MAX_CONNECTIONS} are open");
            continue;
        };
        let service = router.clone().map_request(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request.map(Body::new)
        });
        let (builder, stop) = (Arc::clone(&builder), stop.clone());
        open.spawn(async move {
            // hyper's header deadline counts from a request's first byte: a connection that
            // sends nothing at all is closed here.
            let mut first = [0u8; 1];
            match tokio::time::timeout(HEADER_DEADLINE, stream.peek(&mut first)).await {
                Ok(Ok(read)) if read > 0 => {}
                _ => return drop(slot),
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, "connection ended: {error}");
                    }
                }
                () = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    open.close();
    open.wait().await;
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_connection_that_never_finishes_its_headers_is_closed_and_others_are_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let router =
            Router::new().route("/", axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }));
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(listener, router, stop.clone()));

        let mut slow = tokio::net::TcpStream::connect(address).await.unwrap_or_else(|e| panic!("{e}"));
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap_or_else(|e| panic!("{e}"));
        let mut silent = tokio::net::TcpStream::connect(address).await.unwrap_or_else(|e| panic!("{e}"));
        let mut fast = tokio::net::TcpStream::connect(address).await.unwrap_or_else(|e| panic!("{e}"));
        fast.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap_or_else(|e| panic!("{e}"));
        let mut answer = String::new();
        fast.read_to_string(&mut answer).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("127.0.0.1"), "{answer}");

        let mut rest = Vec::new();
        let closed = tokio::time::timeout(HEADER_DEADLINE + Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the slow connection is closed after the header deadline");
        let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "and so is one that never sent a byte");
        stop.cancel();
        assert!(tokio::time::timeout(Duration::from_secs(5), server).await.is_ok(), "serve returns after stop");
    }
}
