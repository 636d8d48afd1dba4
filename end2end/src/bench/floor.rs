//! The floor contender (`fanout-floor`): what fanning out costs when nothing but the kernel's
//! work is left. It connects to every destination as the relay does (RTMP handshake, `connect`,
//! `publish`, through Fanout's own client code — setup, outside the measured window), chunks the
//! whole source once before it starts, groups the chunks into the relay's 100 ms batches, and on
//! SIGUSR1 sends batch after batch at real time: one write of the same shared bytes per
//! destination per batch, from one task per destination, with no ring, no keyframe logic, no
//! timestamps rewritten and no reading of what the sinks say beyond draining it. Fanout's CPU
//! over the floor's is what its RTMP logic costs.

use std::path::PathBuf;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rml_rtmp::messages::RtmpMessage;
use server::relay::RtmpTarget;
use server::relay::connection::connect;
use server::relay::media::{MediaChunker, SHARED_STREAM_ID};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

use super::source::{Tag, TagKind, due_within, read_tags};
use crate::WorldError;

/// The relay's batch: what is due within this long goes out in one write.
pub const BATCH: Duration = Duration::from_millis(100);
/// Destinations connected at once while setting up.
const CONNECTING_AT_ONCE: usize = 64;

/// What the floor is told.
#[derive(Debug, Clone)]
pub struct FloorArgs {
    /// The FLV source file (the bench's cached encoding).
    pub source: PathBuf,
    /// Seconds of it to send.
    pub seconds: u64,
    /// The destinations' URLs, one per line.
    pub to_file: PathBuf,
}

fn error(what: &str, detail: impl std::fmt::Display) -> WorldError {
    WorldError::Io { what: what.to_string(), source: std::io::Error::other(detail.to_string()) }
}

/// The source's tags due within `seconds`, chunked once (the shared stream id) and grouped into
/// [`BATCH`]-long batches: batch `i` holds what is due in `[i·100, (i+1)·100)` ms and goes out at
/// the end of its window, as the relay's would.
pub fn batches(tags: &[Tag], seconds: u64) -> Result<Vec<Bytes>, WorldError> {
    let mut chunker = MediaChunker::new(SHARED_STREAM_ID).map_err(|e| error("prepare the floor's chunks", e))?;
    let window = u32::try_from(BATCH.as_millis()).unwrap_or(100);
    let mut batches: Vec<BytesMut> = Vec::new();
    for (due, tag) in due_within(tags, seconds) {
        let message = match tag.kind {
            TagKind::Video => RtmpMessage::VideoData { data: tag.body.clone() },
            TagKind::Audio => RtmpMessage::AudioData { data: tag.body.clone() },
        };
        let chunks = chunker.chunk(message, due).map_err(|e| error("chunk a tag", e))?;
        let index = usize::try_from(due / window).unwrap_or(usize::MAX);
        if index >= batches.len() {
            batches.resize_with(index.saturating_add(1), BytesMut::new);
        }
        if let Some(batch) = batches.get_mut(index) {
            batch.extend_from_slice(&chunks);
        }
    }
    Ok(batches.into_iter().map(BytesMut::freeze).collect())
}

/// Runs the floor: connects to every destination, waits for SIGUSR1, sends, and returns once the
/// last batch is written everywhere.
pub async fn run(args: &FloorArgs) -> Result<(), WorldError> {
    let bytes = std::fs::read(&args.source).map_err(|source| WorldError::Io { what: format!("read {}", args.source.display()), source })?;
    let tags = read_tags(&bytes).map_err(|e| error("read the source", e))?;
    let batches = batches(&tags, args.seconds)?;
    let list = std::fs::read_to_string(&args.to_file)
        .map_err(|source| WorldError::Io { what: format!("read {}", args.to_file.display()), source })?;
    let urls: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut go = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .map_err(|source| WorldError::Io { what: "wait for SIGUSR1".into(), source })?;

    let (sender, _) = broadcast::channel::<Bytes>(batches.len().clamp(1, 1024));
    let mut writers = Vec::with_capacity(urls.len());
    for group in urls.chunks(CONNECTING_AT_ONCE) {
        let connecting = group.iter().map(|url| async move {
            let target = RtmpTarget::parse(url).map_err(|e| error("parse a destination", e))?;
            let publisher = connect(&target, Duration::from_secs(20)).await.map_err(|e| error("connect to a destination", e))?;
            if publisher.stream_id != SHARED_STREAM_ID {
                return Err(error("publish to a destination", format!("it gave stream id {}", publisher.stream_id)));
            }
            Ok::<_, WorldError>(publisher)
        });
        for publisher in futures::future::join_all(connecting).await {
            let publisher = publisher?;
            let mut batches = sender.subscribe();
            writers.push(tokio::spawn(async move {
                let server::relay::connection::Publisher { mut reader, mut writer, .. } = publisher;
                let drain = tokio::spawn(async move {
                    let mut buffer = vec![0u8; 4096];
                    while matches!(reader.read(&mut buffer).await, Ok(n) if n > 0) {}
                });
                while let Ok(batch) = batches.recv().await {
                    if writer.write_all(&batch).await.is_err() {
                        break;
                    }
                }
                let _ = writer.shutdown().await;
                drain.abort();
            }));
        }
    }

    go.recv().await;
    let start = tokio::time::Instant::now();
    for (index, batch) in batches.into_iter().enumerate() {
        let end = BATCH.saturating_mul(u32::try_from(index.saturating_add(1)).unwrap_or(u32::MAX));
        tokio::time::sleep_until(start + end).await;
        if !batch.is_empty() {
            let _ = sender.send(batch);
        }
    }
    drop(sender);
    for writer in writers {
        let _ = writer.await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: TagKind, timestamp: u32, size: usize) -> Tag {
        Tag { kind, timestamp, body: Bytes::from(vec![0x17; size]) }
    }

    #[test]
    fn the_source_is_chunked_once_into_batches_of_what_is_due_in_each_100_ms() {
        let tags =
            [tag(TagKind::Video, 1000, 5000), tag(TagKind::Audio, 1021, 10), tag(TagKind::Video, 1099, 20), tag(TagKind::Video, 1350, 20)];
        let all = batches(&tags, 10).unwrap_or_else(|e| panic!("{e}"));
        // Due from the first tag on: 0, 21, 99 in the first window, 350 in the fourth.
        assert_eq!(all.len(), 4);
        assert!(all[0].len() > 5000 + 10 + 20, "three messages, with their chunk headers");
        assert!(all[1].is_empty() && all[2].is_empty());
        assert!(all[3].len() > 20);
        let cut = batches(&tags, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cut.len(), 1, "only what is due at 0 s");
    }
}
