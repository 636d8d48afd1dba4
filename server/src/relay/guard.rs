//! A guard in front of `rml_rtmp`'s sessions for bytes that come from outside — a publisher on
//! the ingest listener, a destination's server. Two things in the crate can be turned against
//! the relay by a peer, and this stops both before the session sees the bytes:
//!
//! - Its chunk deserializer keeps one partial payload for all chunk streams: a message split
//!   across chunks, interleaved with a chunk of another stream whose message is shorter than
//!   what was gathered, makes it subtract past zero and reserve an impossible buffer (a panic).
//!   The guard deframes the same bytes with its own deserializer first, inside
//!   `catch_unwind`; what would panic there is refused instead of handed on. The session's own
//!   call is caught the same way ([`catching`]).
//! - Its AMF0 reader recurses once per nested object or array, so one command of a few
//!   megabytes of nesting overflows the stack — an abort, not a panic, that takes the whole
//!   process down. The guard walks every AMF0 message (commands, data, shared objects) without
//!   recursion and refuses one nested deeper than [`MAX_AMF_DEPTH`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use rml_rtmp::chunk_io::ChunkDeserializer;

/// The deepest AMF0 nesting let through (a real `connect` or `onMetaData` has 2 or 3 levels).
pub const MAX_AMF_DEPTH: usize = 16;

/// Why bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The chunk stream is malformed (or would crash the RTMP library).
    #[error("malformed RTMP chunks")]
    Malformed,
    /// An AMF message nests deeper than [`MAX_AMF_DEPTH`].
    #[error("an RTMP command nests deeper than {MAX_AMF_DEPTH} levels")]
    TooDeep,
    /// The RTMP library panicked on the input (caught).
    #[error("the RTMP session failed on the peer's input")]
    Panicked,
}

thread_local! {
    /// How many [`catching`] calls this thread is inside (for the panic hook).
    static CATCHING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `f`, turning a panic into [`GuardError::Panicked`]. The value `f` works on must be
/// dropped after a panic (its state is unknown): callers end the connection.
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, GuardError> {
    CATCHING.with(|depth| depth.set(depth.get().saturating_add(1)));
    let result = catch_unwind(AssertUnwindSafe(f)).map_err(|_| GuardError::Panicked);
    CATCHING.with(|depth| depth.set(depth.get().saturating_sub(1)));
    result
}

/// Whether the panicking thread is inside [`catching`]: the panic is one the guard expects from
/// the library on hostile input and will turn into a refused connection (the panic hook logs it
/// as that, and the fuzz targets do not count it as a crash).
pub fn is_catching() -> bool {
    CATCHING.with(|depth| depth.get() > 0)
}

/// Deframes a peer's bytes ahead of its session and checks each message.
pub struct RtmpGuard {
    frames: ChunkDeserializer,
}

impl std::fmt::Debug for RtmpGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RtmpGuard")
    }
}

impl Default for RtmpGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl RtmpGuard {
    /// A guard for a connection that just finished its handshake.
    pub fn new() -> Self {
        Self { frames: ChunkDeserializer::new() }
    }

    /// Checks the next bytes from the peer (each byte exactly once, in order).
    pub fn check(&mut self, bytes: &[u8]) -> Result<(), GuardError> {
        let frames = &mut self.frames;
        catching(|| {
            let mut input = bytes;
            loop {
                let message = match frames.get_next_message(input) {
                    Ok(Some(message)) => message,
                    Ok(None) => return Ok(()),
                    Err(_) => return Err(GuardError::Malformed),
                };
                input = &[];
                match message.type_id {
                    // Set Chunk Size: the session applies it too; so must the guard to stay in step.
                    1 => {
                        let size = message.data.get(..4).map(|b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]));
                        let size = size.ok_or(GuardError::Malformed)?;
                        frames.set_max_chunk_size(size as usize).map_err(|_| GuardError::Malformed)?;
                    }
                    // AMF3 data / shared object / command (15..=17): a format byte, then AMF0.
                    15..=17 => check_amf0(message.data.get(1..).unwrap_or_default())?,
                    // AMF0 data / shared object / command.
                    18..=20 => check_amf0(&message.data)?,
                    _ => {}
                }
            }
        })?
    }
}

/// What the AMF0 walker is inside of.
enum Frame {
    /// An object or ECMA array: properties until the end marker.
    Object,
    /// A strict array with this many values left.
    Array(u32),
}

/// Walks AMF0 values without recursion; refuses nesting deeper than [`MAX_AMF_DEPTH`]. An
/// unknown marker or a truncated value ends the walk: the session's own reader refuses those.
pub fn check_amf0(bytes: &[u8]) -> Result<(), GuardError> {
    let mut at = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
        let slice = bytes.get(*at..at.checked_add(n)?)?;
        *at += n;
        Some(slice)
    };
    loop {
        // Inside an object: a property name first (or the end: an empty name, then 0x09).
        match stack.last_mut() {
            Some(Frame::Object) => {
                let Some(length) = take(&mut at, 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else { return Ok(()) };
                if length == 0 {
                    if take(&mut at, 1) != Some(&[0x09]) {
                        return Ok(());
                    }
                    stack.pop();
                    continue;
                }
                if take(&mut at, length).is_none() {
                    return Ok(());
                }
            }
            Some(Frame::Array(0)) => {
                stack.pop();
                continue;
            }
            Some(Frame::Array(left)) => *left -= 1,
            None if at >= bytes.len() => return Ok(()),
            None => {}
        }
        let Some(&[marker]) = take(&mut at, 1) else { return Ok(()) };
        let opened = match marker {
            0x00 => take(&mut at, 8).map(|_| None),
            0x01 => take(&mut at, 1).map(|_| None),
            0x02 => take(&mut at, 2).and_then(|b| take(&mut at, usize::from(u16::from_be_bytes([b[0], b[1]])))).map(|_| None),
            0x03 => Some(Some(Frame::Object)),
            0x05 | 0x06 => Some(None),
            0x08 => take(&mut at, 4).map(|_| Some(Frame::Object)),
            0x0a => take(&mut at, 4).map(|b| Some(Frame::Array(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))),
            _ => return Ok(()),
        };
        match opened {
            None => return Ok(()),
            Some(Some(frame)) => {
                stack.push(frame);
                if stack.len() > MAX_AMF_DEPTH {
                    return Err(GuardError::TooDeep);
                }
            }
            Some(None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rml_amf0::Amf0Value;
    use rml_rtmp::chunk_io::ChunkSerializer;
    use rml_rtmp::messages::MessagePayload;
    use rml_rtmp::time::RtmpTimestamp;

    use super::*;

    /// `connect`, 1, then `depth` strict arrays of one inside each other around a null —
    /// written by hand: building it as a value would recurse as deep as the library does.
    fn nested(depth: usize) -> Vec<u8> {
        let mut bytes = rml_amf0::serialize(&vec![Amf0Value::Utf8String("connect".into()), Amf0Value::Number(1.0)]).unwrap_or_default();
        bytes.extend(std::iter::repeat_n([0x0a, 0, 0, 0, 1], depth).flatten());
        bytes.push(0x05);
        bytes
    }

    #[test]
    fn real_commands_pass_and_deep_nesting_is_refused_without_recursion() {
        let mut object = std::collections::HashMap::new();
        object.insert("app".to_string(), Amf0Value::Utf8String("ingest".into()));
        object.insert("nested".to_string(), Amf0Value::Object(std::collections::HashMap::new()));
        let connect =
            rml_amf0::serialize(&vec![Amf0Value::Utf8String("connect".into()), Amf0Value::Number(1.0), Amf0Value::Object(object)]);
        assert_eq!(check_amf0(&connect.unwrap_or_default()), Ok(()));
        assert_eq!(check_amf0(&nested(MAX_AMF_DEPTH)), Ok(()));
        assert_eq!(check_amf0(&nested(MAX_AMF_DEPTH + 1)), Err(GuardError::TooDeep));
        // A million levels of objects in 3 MB: refused, and the walk itself cannot overflow.
        let mut deep = vec![0x03u8];
        deep.extend(std::iter::repeat_n([0x00, 0x01, b'a', 0x03], 1_000_000).flatten());
        assert_eq!(check_amf0(&deep), Err(GuardError::TooDeep));
        assert_eq!(check_amf0(&[0x02, 0xff]), Ok(()), "truncated: left to the session to refuse");
    }

    fn chunked(type_id: u8, data: Vec<u8>) -> Vec<u8> {
        let mut serializer = ChunkSerializer::new();
        let payload = MessagePayload { timestamp: RtmpTimestamp::new(0), message_stream_id: 0, type_id, data: Bytes::from(data) };
        serializer.serialize(&payload, false, false).map(|p| p.bytes).unwrap_or_default()
    }

    #[test]
    fn a_command_too_deep_is_refused_before_a_session_reads_it() {
        let mut guard = RtmpGuard::new();
        assert_eq!(guard.check(&chunked(20, nested(3))), Ok(()));
        assert_eq!(guard.check(&chunked(20, nested(100_000))), Err(GuardError::TooDeep));
    }

    #[test]
    fn interleaved_chunk_streams_that_would_panic_the_library_are_refused() {
        // Chunk stream 4 starts a 300-byte message (a first chunk of 128), then chunk stream 5
        // sends a whole 10-byte message: the library's one shared partial payload now holds
        // more than the new message's length.
        let mut bytes = vec![0x04, 0, 0, 0, 0, 0x01, 0x2c, 0x09, 1, 0, 0, 0];
        bytes.extend([0x17; 128]);
        bytes.extend([0x05, 0, 0, 0, 0, 0, 0x0a, 0x09, 1, 0, 0, 0]);
        bytes.extend([0x27; 10]);
        let mut guard = RtmpGuard::new();
        assert!(guard.check(&bytes).is_err(), "refused, not a panic");
    }

    #[test]
    fn a_panic_is_caught() {
        assert!(!is_catching());
        assert_eq!(catching(|| -> u8 { panic!("inside the library") }), Err(GuardError::Panicked));
        assert_eq!(catching(is_catching), Ok(true), "inside, the hook can tell");
        assert!(!is_catching(), "a caught panic leaves the thread outside again");
    }
}
