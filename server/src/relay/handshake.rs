//! The RTMP handshake over any byte stream, for both ends of the relay: the ingest listener
//! (server side) and each destination (client side). `rml_rtmp` does the protocol; this only
//! moves its bytes.

use rml_rtmp::handshake::{Handshake, HandshakeError, HandshakeProcessResult, PeerType};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why a handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeFailed {
    /// The network failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer spoke something that is not RTMP.
    #[error("RTMP handshake failed: {0:?}")]
    Protocol(HandshakeError),
    /// The peer closed the connection before the handshake completed.
    #[error("the peer closed the connection during the handshake")]
    Closed,
}

/// Runs the handshake as `peer` and returns the bytes the other side sent after it (the start
/// of the RTMP session).
pub async fn handshake<S>(stream: &mut S, peer: PeerType) -> Result<Vec<u8>, HandshakeFailed>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let client = peer == PeerType::Client;
    let mut handshake = Handshake::new(peer);
    // A client speaks first; a server answers C0+C1 with S0+S1+S2 in one go (what nginx-rtmp's
    // client expects: a server that sends S0+S1 before reading C1 stalls it now and then).
    if client {
        stream.write_all(&handshake.generate_outbound_p0_and_p1().map_err(HandshakeFailed::Protocol)?).await?;
    }
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err(HandshakeFailed::Closed);
        }
        match handshake.process_bytes(&buffer[..read]).map_err(HandshakeFailed::Protocol)? {
            HandshakeProcessResult::InProgress { response_bytes } => stream.write_all(&response_bytes).await?,
            HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                stream.write_all(&response_bytes).await?;
                return Ok(remaining_bytes);
            }
        }
    }
}
