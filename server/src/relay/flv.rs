//! FLV as ffmpeg writes it to a pipe (`-f flv pipe:1`): a 9-byte file header, then tags, each
//! an 11-byte header (type, body size, timestamp with its extension byte, stream id), the body,
//! and the size of the tag just ended. Sans-I/O: bytes go in with [`FlvReader::push`], whole
//! tags come out of [`FlvReader::next_tag`]. Only the framing is read — bodies are relayed as
//! they are — so this is all the demuxing the relay needs. Bodies are bounded by the format
//! itself (24-bit size); a stream that breaks the framing is an error, never a panic.

use bytes::{Buf, Bytes, BytesMut};

/// The file header's length.
const FILE_HEADER: usize = 9;
/// A tag header's length.
const TAG_HEADER: usize = 11;
/// The trailing "previous tag size" field's length.
const TAG_TRAILER: usize = 4;

/// What a tag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// An audio tag body (type 8).
    Audio,
    /// A video tag body (type 9).
    Video,
    /// A script data object (type 18): `onMetaData`.
    Script,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    /// What it holds.
    pub kind: TagKind,
    /// Its timestamp, milliseconds.
    pub timestamp: u32,
    /// Its body.
    pub body: Bytes,
}

/// Why the stream is not FLV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    /// The first bytes are not `FLV`.
    #[error("the stream does not start with an FLV header")]
    NotFlv,
    /// The header says it is longer than it can be.
    #[error("the FLV header has an impossible length ({0})")]
    HeaderLength(u32),
    /// A tag of a type FLV does not have (the framing is lost).
    #[error("an FLV tag of unknown type {0}")]
    TagType(u8),
}

/// Reads FLV tags out of the bytes pushed in.
#[derive(Debug, Default)]
pub struct FlvReader {
    buffer: BytesMut,
    /// The file header was read (and how much of it is left to skip).
    header_done: bool,
    skip: usize,
}

impl FlvReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// How many bytes wait to be read.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next whole tag, `Ok(None)` when more bytes are needed.
    pub fn next_tag(&mut self) -> Result<Option<FlvTag>, FlvError> {
        {
            if !self.header_done {
                if self.buffer.len() < FILE_HEADER {
                    return Ok(None);
                }
                if &self.buffer[..3] != b"FLV" {
                    return Err(FlvError::NotFlv);
                }
                let length = u32::from_be_bytes([self.buffer[5], self.buffer[6], self.buffer[7], self.buffer[8]]);
                if !(FILE_HEADER as u32..=1024).contains(&length) {
                    return Err(FlvError::HeaderLength(length));
                }
                // The header, then the first "previous tag size" (always 0).
                self.skip = length as usize + TAG_TRAILER;
                self.header_done = true;
            }
            if self.skip > 0 {
                let skipped = self.skip.min(self.buffer.len());
                self.buffer.advance(skipped);
                self.skip -= skipped;
                if self.skip > 0 {
                    return Ok(None);
                }
            }
            if self.buffer.len() < TAG_HEADER {
                return Ok(None);
            }
            let header = &self.buffer[..TAG_HEADER];
            // The top bits carry the filter (encryption) flag and reserved bits.
            let kind = match header[0] & 0x1f {
                8 => TagKind::Audio,
                9 => TagKind::Video,
                18 => TagKind::Script,
                other => return Err(FlvError::TagType(other)),
            };
            let size = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            let timestamp = u32::from_be_bytes([header[7], header[4], header[5], header[6]]);
            let whole = TAG_HEADER + size + TAG_TRAILER;
            if self.buffer.len() < whole {
                self.buffer.reserve(whole - self.buffer.len());
                return Ok(None);
            }
            self.buffer.advance(TAG_HEADER);
            let body = self.buffer.split_to(size).freeze();
            self.buffer.advance(TAG_TRAILER);
            Ok(Some(FlvTag { kind, timestamp, body }))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An FLV stream of `tags` (type, timestamp, body), as ffmpeg lays it out.
    pub(crate) fn flv(tags: &[(u8, u32, &[u8])]) -> Vec<u8> {
        let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        for (kind, timestamp, body) in tags {
            let size = u32::try_from(body.len()).unwrap_or(0).to_be_bytes();
            let ts = timestamp.to_be_bytes();
            out.extend_from_slice(&[*kind, size[1], size[2], size[3], ts[1], ts[2], ts[3], ts[0], 0, 0, 0]);
            out.extend_from_slice(body);
            out.extend_from_slice(&u32::try_from(TAG_HEADER + body.len()).unwrap_or(0).to_be_bytes());
        }
        out
    }

    fn all(reader: &mut FlvReader) -> Vec<FlvTag> {
        let mut tags = Vec::new();
        while let Ok(Some(tag)) = reader.next_tag() {
            tags.push(tag);
        }
        tags
    }

    #[test]
    fn tags_come_out_whole_however_the_bytes_are_cut() {
        let stream = flv(&[(18, 0, b"meta"), (9, 0, &[0x17, 0, 1]), (8, 23, &[0xaf, 1, 9]), (9, 0x0123_4567, &[0x27, 1])]);
        for cut in [1, 2, 7, 11, 64, stream.len()] {
            let mut reader = FlvReader::new();
            let mut tags = Vec::new();
            for piece in stream.chunks(cut) {
                reader.push(piece);
                tags.extend(all(&mut reader));
            }
            let read: Vec<(TagKind, u32, Vec<u8>)> = tags.iter().map(|t| (t.kind, t.timestamp, t.body.to_vec())).collect();
            assert_eq!(
                read,
                [
                    (TagKind::Script, 0, b"meta".to_vec()),
                    (TagKind::Video, 0, vec![0x17, 0, 1]),
                    (TagKind::Audio, 23, vec![0xaf, 1, 9]),
                    (TagKind::Video, 0x0123_4567, vec![0x27, 1]),
                ],
                "cut every {cut} bytes"
            );
            assert_eq!(reader.buffered(), 0);
        }
    }

    #[test]
    fn a_stream_that_is_not_flv_is_an_error_not_a_panic() {
        let mut reader = FlvReader::new();
        reader.push(b"GET / HTTP/1.1\r\n");
        assert_eq!(reader.next_tag(), Err(FlvError::NotFlv));
        let mut reader = FlvReader::new();
        reader.push(b"FLV\x01\x05\xff\xff\xff\xff");
        assert!(matches!(reader.next_tag(), Err(FlvError::HeaderLength(_))));
        let mut broken = flv(&[(9, 0, &[0x17, 0])]);
        broken[13] = 7;
        let mut reader = FlvReader::new();
        reader.push(&broken);
        assert_eq!(reader.next_tag(), Err(FlvError::TagType(7)));
    }

    #[test]
    fn a_tag_still_arriving_waits_for_its_end() {
        let stream = flv(&[(9, 5, &[0x17; 1000])]);
        let mut reader = FlvReader::new();
        reader.push(&stream[..stream.len() - 1]);
        assert_eq!(reader.next_tag(), Ok(None));
        reader.push(&stream[stream.len() - 1..]);
        assert_eq!(reader.next_tag().ok().flatten().map(|t| t.body.len()), Some(1000));
    }
}
