//! The benchmark's publisher: replays the source's tags to a contender at real time (each tag
//! when its timestamp comes due), through Fanout's own RTMP client code, recording each send in
//! the ledger; or only keeps the ledger at that pace ([`pace`]) for a contender that plays the
//! source itself.

use std::time::{Duration, Instant};

use rml_rtmp::messages::RtmpMessage;
use server::relay::RtmpTarget;
use server::relay::connection::{Publisher, connect};
use server::relay::media::MediaChunker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ledger::Ledger;
use super::source::{Tag, TagKind, due_within};
use crate::WorldError;

fn error(what: &str, detail: impl std::fmt::Display) -> WorldError {
    WorldError::Io { what: what.to_string(), source: std::io::Error::other(detail.to_string()) }
}

/// Connects to `ingest`, retrying for up to `patience` (a contender may still be starting).
pub async fn connect_publisher(ingest: &str, patience: Duration) -> Result<Publisher, WorldError> {
    let target = RtmpTarget::parse(ingest).map_err(|e| error("parse the contender's ingest URL", e))?;
    let deadline = Instant::now() + patience;
    loop {
        match connect(&target, Duration::from_secs(10)).await {
            Ok(publisher) => return Ok(publisher),
            Err(e) if Instant::now() >= deadline => return Err(error("publish to the contender", e)),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Sends the tags due within `seconds` at real time; returns when the last one is sent.
pub async fn replay(publisher: Publisher, tags: &[Tag], seconds: u64, ledger: &Ledger) -> Result<(), WorldError> {
    let Publisher { mut reader, mut writer, stream_id, .. } = publisher;
    // What the contender says (acknowledgements, pings) is read and dropped, so it never blocks.
    let drain = tokio::spawn(async move {
        let mut buffer = vec![0u8; 16 * 1024];
        while matches!(reader.read(&mut buffer).await, Ok(n) if n > 0) {}
    });
    let mut chunker = MediaChunker::new(stream_id).map_err(|e| error("prepare the replay", e))?;
    let start = tokio::time::Instant::now();
    for (due, tag) in due_within(tags, seconds) {
        tokio::time::sleep_until(start + Duration::from_millis(u64::from(due))).await;
        let video = tag.kind == TagKind::Video;
        let message =
            if video { RtmpMessage::VideoData { data: tag.body.clone() } } else { RtmpMessage::AudioData { data: tag.body.clone() } };
        let chunks = chunker.chunk(message, due).map_err(|e| error("serialize a tag", e))?;
        ledger.record(video, &tag.body);
        writer.write_all(&chunks).await.map_err(|e| error("send to the contender", e))?;
    }
    let _ = writer.shutdown().await;
    drain.abort();
    Ok(())
}

/// Keeps the ledger as [`replay`] would, at real time, without sending anything: for a
/// contender that plays the source itself (the floor), so its sinks' lag and delivery are read
/// against the same clock.
pub async fn pace(tags: &[Tag], seconds: u64, ledger: &Ledger) {
    let start = tokio::time::Instant::now();
    for (due, tag) in due_within(tags, seconds) {
        tokio::time::sleep_until(start + Duration::from_millis(u64::from(due))).await;
        ledger.record(tag.kind == TagKind::Video, &tag.body);
    }
}
