//! An axum router served on a free loopback port for as long as its handle lives: what every
//! stand-in and helper server of the test world stands on. Dropping the handle stops serving.

use std::net::SocketAddr;

use axum::Router;
use tokio::task::JoinHandle;

use crate::WorldError;

/// A router being served on 127.0.0.1.
#[derive(Debug)]
pub struct LoopbackServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl LoopbackServer {
    /// Serves `router` on a free loopback port; `what` names it in errors and in its last words.
    pub async fn serve(router: Router, what: &str) -> Result<Self, WorldError> {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|source| WorldError::Io { what: format!("bind {what}"), source })?;
        let address = listener.local_addr().map_err(|source| WorldError::Io { what: format!("read the address of {what}"), source })?;
        let what = what.to_string();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("{what} stopped: {error}");
            }
        });
        Ok(Self { address, task })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
