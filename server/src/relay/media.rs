//! Media messages as the relay moves them: one audio or video message of the live, with what
//! the relay needs to know about it (keyframe, sequence header) and its RTMP chunks serialized
//! once, to be written as they are to every destination.

use bytes::Bytes;
use rml_rtmp::chunk_io::ChunkSerializer;
use rml_rtmp::messages::{MessagePayload, RtmpMessage};
use rml_rtmp::sessions::StreamMetadata;
use rml_rtmp::time::RtmpTimestamp;

/// The chunk size every relay connection announces (and the shared chunks are cut to).
pub const CHUNK_SIZE: u32 = 4096;
/// The message stream id the shared chunks carry: what RTMP servers assign to a connection's
/// first stream. A destination given another id gets its own chunks.
pub const SHARED_STREAM_ID: u32 = 1;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An FLV audio tag body.
    Audio,
    /// An FLV video tag body.
    Video,
}

/// One media message of the live.
#[derive(Debug, Clone)]
pub struct Media {
    /// Audio or video.
    pub kind: MediaKind,
    /// Its RTMP timestamp (milliseconds).
    pub timestamp: u32,
    /// The FLV tag body.
    pub payload: Bytes,
    /// A video keyframe: a destination may start here.
    pub keyframe: bool,
    /// An AVC or AAC sequence header (decoder configuration), not a frame.
    pub sequence_header: bool,
    /// The message as RTMP chunks for [`SHARED_STREAM_ID`], its first chunk with a full header
    /// so it stands alone whatever was sent before it.
    pub chunks: Bytes,
}

impl Media {
    /// Reads what the relay needs from an FLV tag body.
    pub fn inspect(kind: MediaKind, payload: &[u8]) -> (bool, bool) {
        match kind {
            // Frame type in the high nibble (1 = keyframe); AVC packet type 0 = sequence header.
            MediaKind::Video => {
                let keyframe = payload.first().is_some_and(|b| b >> 4 == 1);
                let avc = payload.first().is_some_and(|b| b & 0x0f == 7);
                (keyframe, avc && payload.get(1) == Some(&0))
            }
            // Sound format in the high nibble (10 = AAC); AAC packet type 0 = sequence header.
            MediaKind::Audio => {
                let aac = payload.first().is_some_and(|b| b >> 4 == 10);
                (false, aac && payload.get(1) == Some(&0))
            }
        }
    }

    /// The RTMP message for this media.
    pub fn rtmp_message(&self) -> RtmpMessage {
        match self.kind {
            MediaKind::Audio => RtmpMessage::AudioData { data: self.payload.clone() },
            MediaKind::Video => RtmpMessage::VideoData { data: self.payload.clone() },
        }
    }
}

/// Why a message could not be serialized (never for media the relay received: it is bounded).
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize a media message: {0}")]
pub struct SerializeError(String);

/// Serializes media messages into stand-alone chunks: each message's first chunk carries a full
/// (type 0) header and its continuations are type 3, so the bytes are valid on any connection
/// that announced [`CHUNK_SIZE`], whatever that connection sent before.
pub struct MediaChunker {
    serializer: ChunkSerializer,
    stream_id: u32,
}

impl std::fmt::Debug for MediaChunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaChunker").field("stream_id", &self.stream_id).finish_non_exhaustive()
    }
}

impl MediaChunker {
    /// A chunker for message stream `stream_id`.
    pub fn new(stream_id: u32) -> Result<Self, SerializeError> {
        let mut serializer = ChunkSerializer::new();
        // The packet announcing the size is for a peer; this serializer has none.
        serializer.set_max_chunk_size(CHUNK_SIZE, RtmpTimestamp::new(0)).map_err(|e| SerializeError(format!("{e:?}")))?;
        Ok(Self { serializer, stream_id })
    }

    /// The chunks of one message.
    pub fn chunk(&mut self, message: RtmpMessage, timestamp: u32) -> Result<Bytes, SerializeError> {
        let payload = MessagePayload::from_rtmp_message(message, RtmpTimestamp::new(timestamp), self.stream_id)
            .map_err(|e| SerializeError(format!("{e:?}")))?;
        // "Droppable" makes the serializer start the next message with a full header.
        let packet = self.serializer.serialize(&payload, false, true).map_err(|e| SerializeError(format!("{e:?}")))?;
        Ok(Bytes::from(packet.bytes))
    }

    /// A [`Media`] for an FLV tag body received at `timestamp`.
    pub fn media(&mut self, kind: MediaKind, payload: Bytes, timestamp: u32) -> Result<Media, SerializeError> {
        let (keyframe, sequence_header) = Media::inspect(kind, &payload);
        let message = match kind {
            MediaKind::Audio => RtmpMessage::AudioData { data: payload.clone() },
            MediaKind::Video => RtmpMessage::VideoData { data: payload.clone() },
        };
        let chunks = self.chunk(message, timestamp)?;
        Ok(Media { kind, timestamp, payload, keyframe, sequence_header, chunks })
    }
}

/// What a destination needs before its first frame: the stream's metadata and the decoder
/// configurations (AVC and AAC sequence headers), as last received from the ingest.
#[derive(Debug, Clone, Default)]
pub struct StreamHeaders {
    /// `onMetaData`.
    pub metadata: Option<StreamMetadata>,
    /// The AVC sequence header.
    pub video: Option<Media>,
    /// The AAC sequence header.
    pub audio: Option<Media>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rml_rtmp::chunk_io::ChunkDeserializer;

    #[test]
    fn flv_tags_are_read_for_keyframes_and_sequence_headers() {
        assert_eq!(Media::inspect(MediaKind::Video, &[0x17, 0x00, 0, 0, 0]), (true, true), "AVC sequence header");
        assert_eq!(Media::inspect(MediaKind::Video, &[0x17, 0x01, 0, 0, 0]), (true, false), "AVC keyframe");
        assert_eq!(Media::inspect(MediaKind::Video, &[0x27, 0x01, 0, 0, 0]), (false, false), "inter frame");
        assert_eq!(Media::inspect(MediaKind::Audio, &[0xaf, 0x00, 0x12, 0x10]), (false, true), "AAC sequence header");
        assert_eq!(Media::inspect(MediaKind::Audio, &[0xaf, 0x01, 0x21]), (false, false), "AAC frame");
        assert_eq!(Media::inspect(MediaKind::Video, &[]), (false, false), "empty is nothing");
    }

    #[test]
    fn shared_chunks_decode_alone_even_after_other_messages_and_across_chunk_boundaries() {
        let mut chunker = MediaChunker::new(SHARED_STREAM_ID).unwrap_or_else(|e| panic!("{e}"));
        let big = Bytes::from(vec![0x27; (CHUNK_SIZE as usize) * 2 + 17]);
        let small = Bytes::from_static(&[0xaf, 0x01, 1, 2, 3]);
        let first = chunker.media(MediaKind::Video, big.clone(), 1000).unwrap_or_else(|e| panic!("{e}"));
        let second = chunker.media(MediaKind::Audio, small.clone(), 1010).unwrap_or_else(|e| panic!("{e}"));
        let third = chunker.media(MediaKind::Video, big.clone(), 1033).unwrap_or_else(|e| panic!("{e}"));

        // A receiver that joins at the third message (never saw the first two) reads it whole.
        let mut late = ChunkDeserializer::new();
        late.set_max_chunk_size(CHUNK_SIZE as usize).unwrap_or_else(|e| panic!("{e:?}"));
        let payload = late.get_next_message(&third.chunks).ok().flatten().unwrap_or_else(|| panic!("a whole message"));
        assert_eq!((payload.type_id, payload.timestamp.value, payload.data.len()), (9, 1033, big.len()));

        // A receiver that got everything reads all three in order.
        let mut all = ChunkDeserializer::new();
        all.set_max_chunk_size(CHUNK_SIZE as usize).unwrap_or_else(|e| panic!("{e:?}"));
        let mut wire = Vec::new();
        for media in [&first, &second, &third] {
            wire.extend_from_slice(&media.chunks);
        }
        let mut got = Vec::new();
        let mut input: &[u8] = &wire;
        while let Ok(Some(message)) = all.get_next_message(input) {
            got.push((message.type_id, message.timestamp.value, message.data.len()));
            input = &[];
        }
        assert_eq!(got, [(9, 1000, big.len()), (8, 1010, small.len()), (9, 1033, big.len())]);
    }
}
