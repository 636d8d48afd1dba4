//! The command lines of the ingest: how ffmpeg (and yt-dlp) are called for each pull mode and
//! transcode profile. Pure, so they are tested as they are.

use serde::{Deserialize, Serialize};

/// How the live is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, strum::Display, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum PullMode {
    /// yt-dlp resolves the live's stream (solving YouTube's challenges), ffmpeg pulls it: one
    /// host for both, so one egress address, and Fanout knows when the URL expires.
    YtDlp,
    /// yt-dlp pulls the live itself and pipes it into ffmpeg.
    YtDlpPipe,
    /// ffmpeg reads the manifest the `/live` page gives; no yt-dlp.
    Hls,
}

pub use app::model::TranscodeProfile;

/// ffmpeg's codec arguments for `profile`.
pub fn codec_args(profile: TranscodeProfile) -> Vec<String> {
    let (Some(height), Some(kbps)) = (profile.height(), profile.video_kbps()) else {
        return vec!["-c".into(), "copy".into()];
    };
    let list = [
        "-vf".to_string(),
        format!("scale=-2:{height}"),
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        "veryfast".into(),
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-b:v".into(),
        format!("{kbps}k"),
        "-maxrate".into(),
        format!("{kbps}k"),
        "-bufsize".into(),
        format!("{}k", kbps * 2),
        "-g".into(),
        "60".into(),
        "-keyint_min".into(),
        "60".into(),
        "-sc_threshold".into(),
        "0".into(),
        "-c:a".into(),
        "aac".into(),
        "-b:a".into(),
        "128k".into(),
        "-ar".into(),
        "44100".into(),
    ];
    list.to_vec()
}

/// ffmpeg's arguments to read `input` (a manifest URL, or `pipe:0`) — through `proxy` when
/// there is one — and write FLV to its standard output, which Fanout reads (no address, no key
/// on the command line). With `silent_audio`, a silent AAC track replaces the source's (which
/// has none): a cheap audio-only encode, the video still copied.
pub fn ffmpeg_args(input: &str, profile: TranscodeProfile, proxy: Option<&url::Url>, silent_audio: bool) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostats", "-loglevel", "warning", "-nostdin"].iter().map(|s| s.to_string()).collect();
    if input != "pipe:0" {
        // Live HLS: start at the newest segment, keep reading through network hiccups.
        args.extend(
            ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "5", "-live_start_index", "-1"]
                .iter()
                .map(|s| s.to_string()),
        );
        if let Some(proxy) = proxy {
            args.extend(["-http_proxy".to_string(), proxy.as_str().trim_end_matches('/').to_string()]);
        }
    } else {
        args.retain(|a| a != "-nostdin");
    }
    // Pace output at the media's own rate: destinations get a steady stream, not bursts.
    args.push("-re".into());
    args.extend(["-i".to_string(), input.to_string()]);
    if silent_audio {
        args.extend(
            ["-re", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-map", "0:v:0", "-map", "1:a:0", "-shortest"].map(String::from),
        );
        let mut codecs = codec_args(profile);
        if codecs == ["-c", "copy"] {
            codecs = ["-c:v", "copy", "-c:a", "aac", "-b:a", "128k"].map(String::from).to_vec();
        }
        args.extend(codecs);
    } else {
        args.extend(codec_args(profile));
    }
    args.extend(["-f".to_string(), "flv".to_string(), "pipe:1".to_string()]);
    args
}

/// What an ffmpeg stderr line says, for the status: an HTTP refusal (the manifest expired) is
/// told apart from other errors; URLs are cut out (they carry YouTube's signed parameters).
pub fn classify_stderr(line: &str) -> Option<StderrNote> {
    let lower = line.to_ascii_lowercase();
    let expired = ["403 forbidden", "404 not found", "http error 403", "http error 404", "server returned 403", "server returned 404"];
    let note = if expired.iter().any(|e| lower.contains(e)) {
        StderrNote::Expired
    } else if lower.contains("error") || lower.contains("invalid") || lower.contains("failed") || lower.contains("refused") {
        StderrNote::Error
    } else {
        return None;
    };
    Some(note)
}

/// The kind of an ffmpeg stderr line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StderrNote {
    /// The manifest or a segment was refused: resolve a fresh manifest.
    Expired,
    /// Another error.
    Error,
}

/// `line` with every URL replaced by `<url>`.
pub fn redact_urls(line: &str) -> String {
    line.split_whitespace()
        .map(|word| {
            let bare = word.trim_matches(|c| c == '\'' || c == '"');
            if bare.contains("://") { "<url>" } else { word }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_remuxes_without_reencoding_and_starts_at_the_live_edge() {
        let args = ffmpeg_args("https://manifest.example/index.m3u8", TranscodeProfile::Copy, None, false);
        let joined = args.join(" ");
        assert!(joined.contains("-live_start_index -1 -re -i https://manifest.example/index.m3u8 -c copy -f flv pipe:1"), "{joined}");
        assert!(!joined.contains("rtmp"), "the output is a pipe: no address, no key");
        assert!(!joined.contains("libx264"));
    }

    #[test]
    fn profiles_transcode_to_their_height_and_rate() {
        let joined = ffmpeg_args("pipe:0", TranscodeProfile::P480, None, false).join(" ");
        assert!(joined.contains("-re -i pipe:0 -vf scale=-2:480 -c:v libx264 -preset veryfast"), "{joined}");
        assert!(joined.contains("-b:v 1200k") && !joined.contains("-nostdin"), "{joined}");
        assert_eq!("720p".parse::<TranscodeProfile>().ok(), Some(TranscodeProfile::P720));
        assert_eq!(TranscodeProfile::P720.to_string(), "720p");
    }

    #[test]
    fn the_proxy_goes_before_the_input_and_only_for_a_network_input() {
        let proxy = url::Url::parse("http://127.0.0.1:4321").ok();
        let joined = ffmpeg_args("https://manifest.example/index.m3u8", TranscodeProfile::Copy, proxy.as_ref(), false).join(" ");
        assert!(joined.contains("-http_proxy http://127.0.0.1:4321 -re -i https://manifest.example/index.m3u8"), "{joined}");
        assert!(!ffmpeg_args("pipe:0", TranscodeProfile::Copy, proxy.as_ref(), false).join(" ").contains("http_proxy"));
    }

    #[test]
    fn stderr_tells_an_expired_manifest_from_other_errors_and_hides_urls() {
        let line = "[https @ 0x55] HTTP error 403 Forbidden for 'https://manifest.googlevideo.com/api/sig=SECRET'";
        assert_eq!(classify_stderr(line), Some(StderrNote::Expired));
        assert_eq!(classify_stderr("rtmp://127.0.0.1:1/ingest/k: Connection refused"), Some(StderrNote::Error));
        assert_eq!(classify_stderr("frame=  100 fps= 30"), None);
        let redacted = redact_urls(line);
        assert!(!redacted.contains("SECRET") && redacted.contains("<url>"), "{redacted}");
    }
}
