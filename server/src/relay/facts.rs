//! Pre-flight facts of the source, read from the stream itself as the relay receives it — the
//! facts ffprobe would give, without a second reader of the source: its `onMetaData` (size,
//! frame rate, bitrates), its sequence headers (H.264's profile and level from the
//! AVCDecoderConfigurationRecord, AAC's sample rate and channels from the AudioSpecificConfig),
//! whether audio arrives at all, and the keyframe interval the input measured. [`warnings`]
//! turns them, purely, into what the operator should know before the destinations' platforms
//! refuse the stream — each with what to do.

use std::time::Duration;

use super::media::StreamHeaders;
use super::status::InputStatus;

/// What the source is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFacts {
    /// The video codec (`h264`, `hevc`, …), when there is video.
    pub video_codec: Option<String>,
    /// H.264 profile (`baseline`, `main`, `high`, …) and level (e.g. 4.1).
    pub profile: Option<String>,
    /// The level.
    pub level: Option<f32>,
    /// Width and height.
    pub size: Option<(u32, u32)>,
    /// Frames per second.
    pub fps: Option<f32>,
    /// The audio codec (`aac`, `mp3`, …), when audio arrives.
    pub audio_codec: Option<String>,
    /// AAC's sample rate and channels.
    pub audio: Option<(u32, u8)>,
    /// The source's keyframe interval.
    pub keyframe_interval: Option<Duration>,
    /// Its bitrate, bits per second.
    pub bitrate_bps: u64,
}

/// The AAC sampling frequencies by index (ISO 14496-3).
const AAC_RATES: [u32; 13] = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/// Reads the facts from the hub's headers and the input's status.
pub fn read(headers: &StreamHeaders, input: &InputStatus) -> SourceFacts {
    let mut facts = SourceFacts { bitrate_bps: input.bitrate_bps, keyframe_interval: input.keyframe_interval, ..SourceFacts::default() };
    if let Some(metadata) = &headers.metadata {
        facts.size = metadata.video_width.zip(metadata.video_height);
        facts.fps = metadata.video_frame_rate.filter(|f| f.is_finite() && *f > 0.0);
    }
    if let Some(video) = &headers.video {
        let body = &video.payload;
        facts.video_codec = Some(
            match body.first().map(|b| b & 0x0f) {
                Some(7) => "h264",
                Some(12) => "hevc",
                Some(2) => "h263",
                Some(4) => "vp6",
                _ => "unknown",
            }
            .to_string(),
        );
        // AVCDecoderConfigurationRecord after the 5-byte tag header: version, profile, compat, level.
        if facts.video_codec.as_deref() == Some("h264")
            && let (Some(&profile), Some(&level)) = (body.get(6), body.get(8))
        {
            facts.profile = Some(avc_profile(profile));
            facts.level = Some(f32::from(level) / 10.0);
        }
    }
    if let Some(audio) = headers.audio.as_ref().filter(|_| input.source_audio) {
        let body = &audio.payload;
        facts.audio_codec = Some(
            match body.first().map(|b| b >> 4) {
                Some(10) => "aac",
                Some(2) => "mp3",
                Some(11) => "speex",
                _ => "unknown",
            }
            .to_string(),
        );
        if facts.audio_codec.as_deref() == Some("aac")
            && let (Some(&a), Some(&b)) = (body.get(2), body.get(3))
        {
            let index = usize::from(((a & 0x07) << 1) | (b >> 7));
            let channels = (b >> 3) & 0x0f;
            facts.audio = AAC_RATES.get(index).map(|rate| (*rate, channels));
        }
    }
    facts
}

fn avc_profile(profile: u8) -> String {
    match profile {
        66 => "baseline".into(),
        77 => "main".into(),
        88 => "extended".into(),
        100 => "high".into(),
        110 => "high 10".into(),
        122 => "high 4:2:2".into(),
        244 => "high 4:4:4".into(),
        other => format!("profile {other}"),
    }
}

/// What the port must carry: its capacity and how many destinations the live goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// The port's capacity, Mbit/s.
    pub port_mbps: u32,
    /// Destinations sent to.
    pub destinations: usize,
}

/// What the operator should know about the source, each with what to do; `audio_expected`:
/// the source has sent media long enough that missing audio means none.
pub fn warnings(facts: &SourceFacts, audio_expected: bool, egress: Option<Egress>) -> Vec<String> {
    let mut warnings = Vec::new();
    match facts.video_codec.as_deref() {
        None => {}
        Some("h264") => {}
        Some(codec) => warnings.push(format!(
            "The video is {codec}, not H.264: Restream and most platforms expect H.264 — transcode (FANOUT_TRANSCODE=720p) or change the encoder"
        )),
    }
    if facts.video_codec.is_some() && facts.audio_codec.is_none() && audio_expected {
        warnings.push(
            "No audio track: YouTube ends a broadcast without audio — add silent audio (FANOUT_ADD_SILENT_AUDIO=true) or fix the source"
                .into(),
        );
    }
    if let Some(codec) = facts.audio_codec.as_deref().filter(|c| *c != "aac") {
        warnings.push(format!("The audio is {codec}, not AAC: Restream expects AAC — transcode, or set the encoder to AAC"));
    }
    if let Some(interval) = facts.keyframe_interval.filter(|i| *i > Duration::from_secs(4)) {
        warnings.push(format!(
            "Keyframes every {:.1} s: Restream and YouTube want at most 4 s (ideally 2 s) — set the encoder's keyframe interval to 2 s",
            interval.as_secs_f64()
        ));
    }
    if let Some(level) = facts.level.filter(|l| *l > 5.1) {
        warnings.push(format!("H.264 level {level:.1} is above what most platforms take (5.1 or lower)"));
    }
    if let Some(fps) = facts.fps.filter(|f| *f > 61.0) {
        warnings.push(format!("{fps:.0} frames per second: platforms take at most 60"));
    }
    if let Some(Egress { port_mbps, destinations }) = egress.filter(|e| e.destinations > 0 && facts.bitrate_bps > 0) {
        let needed = facts.bitrate_bps as f64 * destinations as f64 / 1_000_000.0;
        if needed > f64::from(port_mbps) * 0.8 {
            warnings.push(format!(
                "{destinations} destinations × {:.1} Mbit/s = {needed:.0} Mbit/s, over 80 % of the port's {port_mbps} Mbit/s — use a lower profile (480p) or fewer destinations",
                facts.bitrate_bps as f64 / 1_000_000.0
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::relay::media::{MediaChunker, MediaKind, SHARED_STREAM_ID};

    fn header(kind: MediaKind, body: &'static [u8]) -> Option<crate::relay::media::Media> {
        MediaChunker::new(SHARED_STREAM_ID).ok()?.media(kind, Bytes::from_static(body), 0).ok()
    }

    #[test]
    fn profile_level_and_audio_are_read_from_the_sequence_headers() {
        let mut metadata = rml_rtmp::sessions::StreamMetadata::new();
        (metadata.video_width, metadata.video_height, metadata.video_frame_rate) = (Some(1280), Some(720), Some(30.0));
        let headers = StreamHeaders {
            metadata: Some(metadata),
            // AVC sequence header: high profile (100), level 4.1 (41).
            video: header(MediaKind::Video, &[0x17, 0, 0, 0, 0, 1, 100, 0, 41, 0xff]),
            // AAC LC, 44.1 kHz (index 4), stereo: 0x12 0x10.
            audio: header(MediaKind::Audio, &[0xaf, 0, 0x12, 0x10]),
        };
        let input = InputStatus { source_audio: true, keyframe_interval: Some(Duration::from_secs(2)), ..InputStatus::default() };
        let facts = read(&headers, &input);
        assert_eq!((facts.video_codec.as_deref(), facts.profile.as_deref(), facts.level), (Some("h264"), Some("high"), Some(4.1)));
        assert_eq!((facts.audio_codec.as_deref(), facts.audio, facts.size), (Some("aac"), Some((44_100, 2)), Some((1280, 720))));
        assert!(warnings(&facts, true, None).is_empty(), "a good source: nothing to say");
        let silent = read(&headers, &InputStatus { source_audio: false, ..input });
        assert_eq!(silent.audio_codec, None, "a header alone, no audio arriving: no audio");
    }

    #[test]
    fn each_problem_is_a_warning_that_says_what_to_do() {
        let facts = SourceFacts {
            video_codec: Some("h264".into()),
            keyframe_interval: Some(Duration::from_secs(8)),
            bitrate_bps: 6_000_000,
            ..SourceFacts::default()
        };
        let said = warnings(&facts, true, Some(Egress { port_mbps: 100, destinations: 20 }));
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(said[0].contains("FANOUT_ADD_SILENT_AUDIO") && said[1].contains("2 s") && said[2].contains("120 Mbit/s"), "{said:?}");
        assert!(!warnings(&facts, false, None).iter().any(|w| w.contains("audio")), "too early to say there is no audio");
    }
}
