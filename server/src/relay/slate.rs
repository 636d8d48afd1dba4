//! The slate: what destinations receive while no source sends, so their broadcasts stay up
//! through a stall, an ingest restart, a re-resolve or a failover. A still image (the
//! operator's, or a plain card) with a line of text and silence, encoded once per stream shape
//! by ffmpeg to match the source — its size, frame rate, roughly its bitrate (CBR, filler
//! included), H.264 and AAC at its sample rate — as one 2 s group of pictures, cached, then
//! played in a loop in real time into the relay's input ([`super::Input::slate_feed`]) with
//! timestamps continuing the outgoing timeline. The source takes the input back at its next
//! keyframe; the destinations get the new stream headers each time, and never reconnect.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rml_rtmp::sessions::StreamMetadata;
use tokio_util::sync::CancellationToken;

use super::flv::{FlvReader, TagKind};
use super::hub::SharedHub;
use super::input::{FeedError, Input};
use super::media::MediaKind;

/// How long no source may send before the slate goes on: the pull reads in real time (a frame
/// every 33 ms or so), so 600 ms of nothing is a stall, not jitter — and the destinations see
/// the slate within a second of the source's last frame.
pub const SLATE_AFTER: Duration = Duration::from_millis(600);
/// The length of the slate's loop: one group of pictures.
const LOOP: Duration = Duration::from_secs(2);
/// The largest slate accepted from ffmpeg.
const MAX_SLATE_BYTES: u64 = 16 * 1024 * 1024;
/// How long encoding may take.
const ENCODE_DEADLINE: Duration = Duration::from_secs(60);
/// The fonts tried for the slate's text (Debian's `fonts-dejavu-core`); without one, no text.
const FONTS: &[&str] = &["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"];

/// How the slate is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlateConfig {
    /// The ffmpeg program.
    pub ffmpeg: String,
    /// The operator's image (scaled and padded to the source's size), else a plain card.
    pub image: Option<PathBuf>,
    /// The line of text on it.
    pub text: String,
}

/// The shape of the source the slate must match, read from its `onMetaData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamShape {
    /// Width and height, pixels (even).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frames per second (rounded; 1..=120).
    pub fps: u32,
    /// Video bitrate, kbit/s (100..=20 000).
    pub video_kbps: u32,
    /// Audio sample rate (an AAC rate) and channels (1 or 2).
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
}

impl StreamShape {
    /// The shape `metadata` describes, with defaults for what it leaves out; `None` without a
    /// size (the slate could not match it).
    pub fn from_metadata(metadata: &StreamMetadata) -> Option<Self> {
        let even = |v: u32| (v / 2 * 2).clamp(16, 4096);
        let (width, height) = (even(metadata.video_width?), even(metadata.video_height?));
        let fps = metadata.video_frame_rate.filter(|f| f.is_finite() && *f >= 1.0).map_or(30, |f| f.round() as u32).min(120);
        let video_kbps = metadata.video_bitrate_kbps.filter(|k| *k > 0).unwrap_or(2500).clamp(100, 20_000);
        let sample_rate = metadata.audio_sample_rate.filter(|r| [22_050, 32_000, 44_100, 48_000].contains(r)).unwrap_or(44_100);
        let channels = metadata.audio_channels.map_or(2, |c| c.clamp(1, 2));
        Some(Self { width, height, fps, video_kbps, sample_rate, channels })
    }
}

/// One loop of slate: FLV tag bodies with their timestamps from 0.
#[derive(Debug)]
pub struct SlateClip {
    tags: Vec<(MediaKind, Bytes, u32)>,
}

/// Why no slate could be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SlateError {
    /// ffmpeg failed.
    #[error("ffmpeg could not make the slate: {0}")]
    Encode(String),
    /// What it wrote is not a usable slate.
    #[error("the slate ffmpeg made is unusable: {0}")]
    Unusable(String),
}

/// The ffmpeg arguments that make one loop of slate into `output` (FLV).
pub fn encode_args(config: &SlateConfig, shape: &StreamShape, output: &std::path::Path) -> Vec<String> {
    let StreamShape { width, height, fps, video_kbps, sample_rate, channels } = *shape;
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"].map(String::from).to_vec();
    match &config.image {
        Some(image) => {
            args.extend(["-loop".into(), "1".into(), "-framerate".into(), fps.to_string(), "-i".into(), image.display().to_string()])
        }
        None => args.extend(["-f".into(), "lavfi".into(), "-i".into(), format!("color=c=0x1e293b:s={width}x{height}:r={fps}")]),
    }
    let layout = if channels == 1 { "mono" } else { "stereo" };
    args.extend(["-f".into(), "lavfi".into(), "-i".into(), format!("anullsrc=r={sample_rate}:cl={layout}")]);
    let mut filter = format!(
        "scale={width}:{height}:force_original_aspect_ratio=decrease,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=0x1e293b,fps={fps},format=yuv420p"
    );
    if let Some(font) = FONTS.iter().find(|f| std::path::Path::new(f).exists()) {
        let text: String = config.text.chars().filter(|c| c.is_alphanumeric() || " .,!?'’-—".contains(*c)).take(80).collect();
        let text = text.replace('\'', "’");
        let size = (height / 12).max(12);
        filter.push_str(&format!(",drawtext=fontfile={font}:text='{text}':fontcolor=white:fontsize={size}:x=(w-tw)/2:y=(h-th)/2"));
    }
    let frames = (fps * LOOP.as_secs() as u32).to_string();
    let rate = format!("{video_kbps}k");
    args.extend(["-vf".into(), filter, "-frames:v".into(), frames.clone(), "-t".into(), LOOP.as_secs().to_string()]);
    args.extend(
        ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-profile:v", "main", "-g", &frames, "-keyint_min", &frames]
            .map(String::from),
    );
    args.extend(["-b:v", &rate, "-minrate", &rate, "-maxrate", &rate, "-bufsize", &rate].map(String::from));
    args.extend(["-x264-params".into(), "nal-hrd=cbr:force-cfr=1".into(), "-bf".into(), "0".into()]);
    args.extend(["-c:a", "aac", "-b:a", "64k"].map(String::from));
    args.extend(["-f".into(), "flv".into(), output.display().to_string()]);
    args
}

/// Makes the slate for `shape` (once per shape and config; later calls get the same clip).
pub async fn slate_for(config: &SlateConfig, shape: &StreamShape) -> Result<Arc<SlateClip>, SlateError> {
    type Cache = Mutex<HashMap<(SlateConfig, StreamShape), Arc<SlateClip>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (config.clone(), *shape);
    if let Some(clip) = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
        return Ok(Arc::clone(clip));
    }
    let clip = Arc::new(encode(config, shape).await?);
    cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, Arc::clone(&clip));
    Ok(clip)
}

async fn encode(config: &SlateConfig, shape: &StreamShape) -> Result<SlateClip, SlateError> {
    let dir = tempfile::tempdir().map_err(|e| SlateError::Encode(e.to_string()))?;
    let output = dir.path().join("slate.flv");
    let mut command = crate::child::command(&config.ffmpeg, &[]);
    command.args(encode_args(config, shape, &output));
    let run = crate::child::output(command, ENCODE_DEADLINE).await.map_err(SlateError::Encode)?;
    if !run.status.success() {
        return Err(SlateError::Encode(String::from_utf8_lossy(&run.stderr).lines().last().unwrap_or("failed").to_string()));
    }
    let size = std::fs::metadata(&output).map(|m| m.len()).map_err(|e| SlateError::Unusable(e.to_string()))?;
    if size > MAX_SLATE_BYTES {
        return Err(SlateError::Unusable(format!("{size} bytes")));
    }
    let bytes = std::fs::read(&output).map_err(|e| SlateError::Unusable(e.to_string()))?;
    clip_of(&bytes)
}

/// Reads a loop of slate from FLV bytes: its audio and video tags, from its first keyframe.
pub fn clip_of(flv: &[u8]) -> Result<SlateClip, SlateError> {
    let mut reader = FlvReader::new();
    reader.push(flv);
    let mut tags = Vec::new();
    while let Some(tag) = reader.next_tag().map_err(|e| SlateError::Unusable(e.to_string()))? {
        let kind = match tag.kind {
            TagKind::Video => MediaKind::Video,
            TagKind::Audio => MediaKind::Audio,
            TagKind::Script => continue,
        };
        tags.push((kind, tag.body, tag.timestamp));
    }
    let headers = |kind| tags.iter().any(|(k, body, _)| *k == kind && super::media::Media::inspect(kind, body).1);
    let keyframe = tags.iter().any(|(k, body, _)| *k == MediaKind::Video && super::media::Media::inspect(*k, body) == (true, false));
    if !(headers(MediaKind::Video) && headers(MediaKind::Audio) && keyframe) {
        return Err(SlateError::Unusable("no video and audio headers, or no keyframe".into()));
    }
    Ok(SlateClip { tags })
}

impl SlateClip {
    /// The clip's stream headers first, then its frames in timestamp order (each loop resends
    /// nothing but frames: the headers stay valid).
    fn frames(&self) -> impl Iterator<Item = &(MediaKind, Bytes, u32)> {
        self.tags.iter().filter(|(kind, body, _)| !super::media::Media::inspect(*kind, body).1)
    }

    fn headers(&self) -> impl Iterator<Item = &(MediaKind, Bytes, u32)> {
        self.tags.iter().filter(|(kind, body, _)| super::media::Media::inspect(*kind, body).1)
    }
}

/// What the slate's runner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlateEvent {
    /// The slate went on (no source sent for [`SLATE_AFTER`]).
    On,
    /// A source took the input back after this long.
    Off(Duration),
    /// No slate can be made for this source (the destinations get nothing through gaps).
    Unavailable(String),
}

/// Watches `input` until `stop`: once a source has published (its shape read from the hub's
/// metadata), the slate is made; whenever no source sends for [`SLATE_AFTER`], it plays until a
/// source takes the input back. What happens is sent on `events`.
pub async fn run(
    config: SlateConfig,
    input: Arc<Input>,
    hub: SharedHub,
    events: tokio::sync::mpsc::Sender<SlateEvent>,
    stop: CancellationToken,
) {
    let mut headers = hub.watch_headers();
    let shape = loop {
        if let Some(shape) = headers.borrow_and_update().metadata.as_ref().and_then(StreamShape::from_metadata) {
            break shape;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            changed = headers.changed() => if changed.is_err() { return },
        }
    };
    let clip = match slate_for(&config, &shape).await {
        Ok(clip) => clip,
        Err(error) => {
            tracing::warn!(%error, "no slate for this live");
            let _ = events.send(SlateEvent::Unavailable(error.to_string())).await;
            return;
        }
    };
    tracing::info!(?shape, "the slate is ready");
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if input.quiet_for().is_none_or(|quiet| quiet < SLATE_AFTER) {
            continue;
        }
        let Some(feed) = input.slate_feed(SLATE_AFTER) else { continue };
        tracing::info!("no source sends: the slate is on");
        let _ = events.send(SlateEvent::On).await;
        let began = Instant::now();
        tokio::select! {
            () = stop.cancelled() => return,
            () = play(&clip, feed) => {}
        }
        tracing::info!(after = ?began.elapsed(), "a source is back: the slate is off");
        let _ = events.send(SlateEvent::Off(began.elapsed())).await;
    }
}

/// Plays the clip in a loop, in real time, until a source takes the input over.
async fn play(clip: &SlateClip, mut feed: super::input::Feed) {
    for (kind, body, _) in clip.headers() {
        if feed.media(*kind, body.clone(), 0).is_err() {
            return;
        }
    }
    let start = tokio::time::Instant::now();
    let loop_ms = LOOP.as_millis() as u32;
    for round in 0u32.. {
        let offset = round.saturating_mul(loop_ms);
        for (kind, body, at) in clip.frames() {
            let timestamp = offset.saturating_add(*at);
            tokio::time::sleep_until(start + Duration::from_millis(u64::from(timestamp))).await;
            match feed.media(*kind, body.clone(), timestamp) {
                Ok(()) => feed.flush_if_due(),
                Err(FeedError::Superseded) | Err(FeedError::Serialize(_)) => return,
            }
            if !feed.is_holding() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_follows_the_source_with_sane_bounds() {
        let mut metadata = StreamMetadata::new();
        assert_eq!(StreamShape::from_metadata(&metadata), None, "no size: no slate");
        metadata.video_width = Some(1281);
        metadata.video_height = Some(720);
        metadata.video_frame_rate = Some(29.97);
        metadata.video_bitrate_kbps = Some(4500);
        metadata.audio_sample_rate = Some(48_000);
        metadata.audio_channels = Some(2);
        let shape = StreamShape::from_metadata(&metadata).unwrap_or_else(|| panic!("a shape"));
        assert_eq!((shape.width, shape.height, shape.fps, shape.video_kbps, shape.sample_rate), (1280, 720, 30, 4500, 48_000));
        metadata.video_frame_rate = Some(f32::NAN);
        metadata.video_bitrate_kbps = Some(900_000);
        metadata.audio_sample_rate = Some(12_345);
        let odd = StreamShape::from_metadata(&metadata).unwrap_or_else(|| panic!("a shape"));
        assert_eq!((odd.fps, odd.video_kbps, odd.sample_rate), (30, 20_000, 44_100), "nonsense falls back");
    }

    #[test]
    fn the_text_cannot_break_out_of_the_filter() {
        let config = SlateConfig { ffmpeg: "ffmpeg".into(), image: None, text: "Back soon': x=1,drawbox=:;[out]".into() };
        let shape = StreamShape { width: 640, height: 360, fps: 30, video_kbps: 800, sample_rate: 44_100, channels: 2 };
        let args = encode_args(&config, &shape, std::path::Path::new("/tmp/x.flv"));
        let filter = args.iter().skip_while(|a| *a != "-vf").nth(1).cloned().unwrap_or_default();
        assert!(!filter.contains("[out]") && !filter.contains("drawbox=:"), "{filter}");
        assert!(args.contains(&"nal-hrd=cbr:force-cfr=1".to_string()), "constant bitrate, like the source");
    }

    #[test]
    fn a_clip_needs_headers_and_a_keyframe() {
        assert!(clip_of(b"not flv").is_err());
        let mut flv = b"FLV\x01\x05\0\0\0\x09\0\0\0\0".to_vec();
        for (kind, body) in [(9u8, &[0x17u8, 0, 0, 0, 0, 1][..]), (8, &[0xaf, 0, 0x12, 0x10]), (9, &[0x17, 1, 0, 0, 0, 2])] {
            let len = body.len() as u32;
            flv.extend([kind, (len >> 16) as u8, (len >> 8) as u8, len as u8, 0, 0, 0, 0, 0, 0, 0]);
            flv.extend_from_slice(body);
            flv.extend((len + 11).to_be_bytes());
        }
        let clip = clip_of(&flv).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((clip.headers().count(), clip.frames().count()), (2, 1));
    }
}
