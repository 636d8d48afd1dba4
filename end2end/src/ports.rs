//! Free loopback ports for the world's servers.

use crate::WorldError;

/// A port that was free a moment ago (bound, read, released). Good enough for the test world's
/// own processes; servers of ours bind port 0 directly instead.
pub fn free_port() -> Result<u16, WorldError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| WorldError::Io { what: "find a free port".into(), source })?;
    listener.local_addr().map(|a| a.port()).map_err(|source| WorldError::Io { what: "read a port".into(), source })
}
