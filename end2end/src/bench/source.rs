//! The benchmark's source: a real H.264 + AAC stream (ffmpeg `testsrc2` + `sine`, 720p30, a
//! keyframe every 2 s, constant bitrate) encoded once into an FLV file and cached, then read
//! into memory as FLV tags for the replayer — so encoding costs nothing during a measurement.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::WorldError;

/// Audio or video, as FLV tags say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// FLV tag type 8.
    Audio,
    /// FLV tag type 9.
    Video,
}

/// One audio or video tag of the file.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Audio or video.
    pub kind: TagKind,
    /// Milliseconds from the start.
    pub timestamp: u32,
    /// The tag body (what an RTMP message carries).
    pub body: Bytes,
}

/// Encodes (once) the source at `kbps` lasting `seconds`, under `cache`, and returns its path.
pub async fn ensure(cache: &Path, kbps: u32, seconds: u64) -> Result<PathBuf, WorldError> {
    let path = cache.join(format!("source-{kbps}k-{seconds}s.flv"));
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(cache).map_err(|source| WorldError::Io { what: format!("create {}", cache.display()), source })?;
    let partial = cache.join(format!("source-{kbps}k-{seconds}s.partial.flv"));
    let video_kbps = kbps.saturating_sub(128).max(200);
    let status = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", &format!("testsrc2=size=1280x720:rate=30:duration={seconds}")])
        .args(["-f", "lavfi", "-i", &format!("sine=frequency=440:sample_rate=48000:duration={seconds}")])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0"])
        .args(["-b:v", &format!("{video_kbps}k"), "-maxrate", &format!("{video_kbps}k"), "-bufsize", &format!("{}k", video_kbps / 2)])
        .args(["-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"])
        .args(["-f", "flv"])
        .arg(&partial)
        .status()
        .await
        .map_err(|source| WorldError::Spawn { program: "ffmpeg (bench source)".into(), source })?;
    if !status.success() {
        return Err(WorldError::Io { what: "encode the bench source".into(), source: std::io::Error::other(status.to_string()) });
    }
    std::fs::rename(&partial, &path).map_err(|source| WorldError::Io { what: format!("keep {}", path.display()), source })?;
    Ok(path)
}

/// The tags due within `seconds` of the first, each with when it is due (milliseconds from the
/// first tag), in file order: what every replay of the source sends.
pub fn due_within(tags: &[Tag], seconds: u64) -> impl Iterator<Item = (u32, &Tag)> {
    let end = u32::try_from(seconds.saturating_mul(1000)).unwrap_or(u32::MAX);
    let first = tags.first().map_or(0, |t| t.timestamp);
    tags.iter().map(move |tag| (tag.timestamp.saturating_sub(first), tag)).take_while(move |(due, _)| *due <= end)
}

/// Why an FLV file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FlvError {
    /// Not an FLV file.
    #[error("not an FLV file (no FLV signature)")]
    Signature,
    /// A tag runs past the end of the file.
    #[error("the file ends inside a tag at byte {0}")]
    Truncated(usize),
}

/// The audio and video tags of an FLV file (script tags are skipped), in file order.
pub fn read_tags(bytes: &[u8]) -> Result<Vec<Tag>, FlvError> {
    if bytes.get(..3) != Some(b"FLV") {
        return Err(FlvError::Signature);
    }
    let header = bytes.get(5..9).map_or(9, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    // The header, then the first "previous tag size" (4 bytes).
    let mut at = header + 4;
    let mut tags = Vec::new();
    while at < bytes.len() {
        let head = bytes.get(at..at + 11).ok_or(FlvError::Truncated(at))?;
        let size = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
        let timestamp = u32::from_be_bytes([head[7], head[4], head[5], head[6]]);
        let body = bytes.get(at + 11..at + 11 + size).ok_or(FlvError::Truncated(at))?;
        let kind = match head[0] & 0x1f {
            8 => Some(TagKind::Audio),
            9 => Some(TagKind::Video),
            _ => None,
        };
        if let Some(kind) = kind {
            tags.push(Tag { kind, timestamp, body: Bytes::copy_from_slice(body) });
        }
        at += 11 + size + 4;
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: u8, timestamp: u32, body: &[u8]) -> Vec<u8> {
        let size = body.len() as u32;
        let mut tag = vec![kind, (size >> 16) as u8, (size >> 8) as u8, size as u8];
        tag.extend([(timestamp >> 16) as u8, (timestamp >> 8) as u8, timestamp as u8, (timestamp >> 24) as u8, 0, 0, 0]);
        tag.extend(body);
        tag.extend((11 + size).to_be_bytes());
        tag
    }

    #[test]
    fn audio_and_video_tags_are_read_and_script_tags_skipped() {
        let mut file = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        file.extend(tag(18, 0, b"meta"));
        file.extend(tag(9, 0, &[0x17, 0, 1, 2]));
        file.extend(tag(8, 23, &[0xaf, 1, 9]));
        file.extend(tag(9, 0x0100_0001, &[0x27, 1]));
        let tags = read_tags(&file).unwrap_or_else(|e| panic!("{e}"));
        let seen: Vec<_> = tags.iter().map(|t| (t.kind, t.timestamp, t.body.len())).collect();
        assert_eq!(seen, [(TagKind::Video, 0, 4), (TagKind::Audio, 23, 3), (TagKind::Video, 0x0100_0001, 2)]);
    }

    #[test]
    fn a_truncated_or_foreign_file_is_an_error() {
        assert!(matches!(read_tags(b"RIFF...."), Err(FlvError::Signature)));
        let mut file = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        let mut cut = tag(9, 0, &[0x17, 0, 1, 2]);
        cut.truncate(12);
        file.extend(cut);
        assert!(matches!(read_tags(&file), Err(FlvError::Truncated(_))));
    }
}
