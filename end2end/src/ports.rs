//! Free loopback ports for the world's servers.

use crate::WorldError;

/// A port that was free a moment ago (bound, read, released). Good enough for the test world's
/// own processes; servers of ours bind port 0 directly instead.
pub fn free_port() -> Result<u16, WorldError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| WorldError::Io { what: "find a free port".into(), source })?;
    listener.local_addr().map(|a| a.port()).map_err(|source| WorldError::Io { what: "read a port".into(), source })
}

/// Waits until something accepts connections on loopback `port`, for up to 15 s.
pub async fn wait_for_port(port: u16, process: &crate::process::Process, what: &str) -> Result<(), WorldError> {
    for _ in 0..150 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(WorldError::NotReady { program: what.into(), seconds: 15, log: process.log_tail() })
}
