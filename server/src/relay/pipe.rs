//! The ingest's FLV on a pipe into the relay: ffmpeg writes `-f flv pipe:1`, this reads it
//! into the input (a [`Feed`]). No network, no URL, no stream key: nothing for another local
//! user to connect to or to read in a process list.

use std::collections::HashMap;

use rml_amf0::Amf0Value;
use rml_rtmp::sessions::StreamMetadata;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::flv::{FlvError, FlvReader, TagKind};
use super::input::{Feed, FeedError};
use super::media::MediaKind;

/// Why reading the pipe stopped (the end of the stream is not an error).
#[derive(Debug, thiserror::Error)]
pub enum PipeError {
    /// Reading failed.
    #[error("reading the ingest's output: {0}")]
    Io(#[from] std::io::Error),
    /// What came was not FLV.
    #[error("the ingest's output: {0}")]
    Flv(#[from] FlvError),
    /// The message could not be taken: another publisher took the input over, or it could not
    /// be prepared for the destinations.
    #[error(transparent)]
    Feed(#[from] FeedError),
}

/// Reads FLV from `pipe` into `feed` until the pipe closes; batches go out on time even while
/// the pipe is quiet.
pub async fn read_flv<R: AsyncRead + Unpin>(mut pipe: R, mut feed: Feed) -> Result<(), PipeError> {
    let mut reader = FlvReader::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match feed.deadline() {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), pipe.read(&mut buffer)).await {
                Ok(read) => read?,
                Err(_) => {
                    feed.flush();
                    continue;
                }
            },
            None => pipe.read(&mut buffer).await?,
        };
        if read == 0 {
            feed.flush();
            return Ok(());
        }
        feed.received(read);
        reader.push(&buffer[..read]);
        while let Some(tag) = reader.next_tag()? {
            match tag.kind {
                TagKind::Audio => feed.media(MediaKind::Audio, tag.body, tag.timestamp)?,
                TagKind::Video => feed.media(MediaKind::Video, tag.body, tag.timestamp)?,
                TagKind::Script => {
                    if let Some(metadata) = metadata(&tag.body) {
                        feed.metadata(metadata);
                    }
                }
            }
        }
        feed.flush_if_due();
    }
}

/// The `onMetaData` of a script tag, if that is what it holds.
pub fn metadata(body: &[u8]) -> Option<StreamMetadata> {
    let mut cursor = std::io::Cursor::new(body);
    let values = rml_amf0::deserialize(&mut cursor).ok()?;
    let mut values = values.into_iter();
    match values.next() {
        Some(Amf0Value::Utf8String(name)) if name == "onMetaData" => {}
        _ => return None,
    }
    let properties: HashMap<String, Amf0Value> = values.next()?.get_object_properties()?;
    let mut metadata = StreamMetadata::new();
    metadata.apply_metadata_values(properties);
    Some(metadata)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::relay::hub::Hub;
    use crate::relay::input::Input;

    fn on_metadata() -> Vec<u8> {
        let mut properties = HashMap::new();
        properties.insert("width".to_string(), Amf0Value::Number(1280.0));
        properties.insert("height".to_string(), Amf0Value::Number(720.0));
        properties.insert("framerate".to_string(), Amf0Value::Number(30.0));
        let values = vec![Amf0Value::Utf8String("onMetaData".into()), Amf0Value::Object(properties)];
        rml_amf0::serialize(&values).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[tokio::test]
    async fn ffmpegs_flv_becomes_media_and_metadata_for_the_destinations() {
        let hub = Arc::new(Hub::new(16));
        let input = Input::new(Arc::clone(&hub));
        let mut ring = hub.subscribe();
        let meta = on_metadata();
        let stream = crate::relay::flv::tests::flv(&[
            (18, 0, &meta),
            (9, 0, &[0x17, 0, 0, 0, 0, 1]),
            (9, 0, &[0x17, 1, 0, 0, 0, 2]),
            (8, 21, &[0xaf, 1, 3]),
        ]);
        let feed = input.claim().unwrap_or_else(|| panic!("free"));
        read_flv(stream.as_slice(), feed).await.unwrap_or_else(|e| panic!("{e}"));
        let batch = ring.recv().await.unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<(MediaKind, bool, bool)> = batch.media().iter().map(|m| (m.kind, m.keyframe, m.sequence_header)).collect();
        assert_eq!(kinds, [(MediaKind::Video, true, true), (MediaKind::Video, true, false), (MediaKind::Audio, false, false)]);
        let headers = hub.headers();
        assert_eq!(headers.metadata.as_ref().and_then(|m| m.video_width), Some(1280));
        assert!(headers.video.is_some(), "the AVC sequence header is kept for late joiners");
        let status = hub.watch_input().borrow().clone();
        assert_eq!((status.publishing, status.messages, status.bytes_received), (false, 3, stream.len() as u64));
        assert!(!input.is_held(), "the pipe's end frees the input");
    }

    #[tokio::test]
    async fn garbage_on_the_pipe_ends_the_read_with_an_error() {
        let hub = Arc::new(Hub::new(16));
        let input = Input::new(hub);
        let feed = input.claim().unwrap_or_else(|| panic!("free"));
        let result = read_flv(&b"Error opening input: 403 Forbidden\n"[..], feed).await;
        assert!(matches!(result, Err(PipeError::Flv(FlvError::NotFlv))), "{result:?}");
    }

    #[test]
    fn a_script_tag_that_is_not_metadata_is_ignored() {
        assert!(metadata(b"").is_none());
        assert!(metadata(&[0x02, 0x00, 0x03, b'a', b'b', b'c']).is_none());
        assert!(metadata(&on_metadata()).is_some());
    }
}
