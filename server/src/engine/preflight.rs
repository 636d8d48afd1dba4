//! A live's pre-flight checks of its source: once a source has fed the live for a few seconds
//! (and again after each change of source), its facts (`relay::facts`) become warnings on the
//! dashboard, each with what to do, and an event when they change; with
//! `FANOUT_ADD_SILENT_AUDIO`, a pulled source found without audio is pulled again with a silent
//! track added — and, so that no destination starts on a stream whose audio comes later, the
//! live's fan-out waits for the checks' verdict before its first connections ([`Found::settled`]).

use std::time::{Duration, Instant};

use crate::ingest::SilentAudio;
use crate::relay::InputStatus;
use crate::relay::facts;
use crate::relay::media::StreamHeaders;

/// How long a source must have sent before missing audio counts as none.
const AUDIO_WITHIN: Duration = Duration::from_secs(5);

/// What a check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Found {
    /// The warnings, when they changed.
    pub changed: Option<Vec<String>>,
    /// Pull again with a silent audio track.
    pub add_silence: bool,
    /// The source's shape is known and final: it has audio, or it has none and none will be
    /// added. (A fan-out held for the checks may start.)
    pub settled: bool,
}

/// The checks of one live.
#[derive(Debug)]
pub(super) struct Preflight {
    warnings: Vec<String>,
    sending_since: Option<Instant>,
    silence: Option<SilentAudio>,
}

impl Preflight {
    /// Checks for a live whose pull may get a silent track through `silence` (`None`: it may
    /// not — the setting is off, or no pull).
    pub(super) fn new(silence: Option<SilentAudio>) -> Self {
        Self { warnings: Vec::new(), sending_since: None, silence }
    }

    /// The warnings now.
    pub(super) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Checks the source feeding the input now (`alive`: it sends).
    pub(super) fn check(&mut self, headers: &StreamHeaders, input: &InputStatus, alive: bool, now: Instant) -> Found {
        if !alive || input.slate {
            self.sending_since = None;
            return Found::default();
        }
        let since = *self.sending_since.get_or_insert(now);
        let audio_expected = now.saturating_duration_since(since) >= AUDIO_WITHIN;
        let facts = facts::read(headers, input);
        let warnings = facts::warnings(&facts, audio_expected, None);
        let no_audio = audio_expected && facts.video_codec.is_some() && facts.audio_codec.is_none();
        let add_silence = no_audio && self.silence.as_ref().is_some_and(SilentAudio::switch_on);
        let settled = facts.audio_codec.is_some() || (audio_expected && self.silence.is_none());
        let changed = (warnings != self.warnings).then(|| warnings.clone());
        self.warnings = warnings;
        Found { changed, add_silence, settled }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::media::{MediaChunker, MediaKind, SHARED_STREAM_ID};

    #[test]
    fn a_source_without_audio_is_warned_about_after_a_while_and_given_silence_once() {
        let video = MediaChunker::new(SHARED_STREAM_ID)
            .ok()
            .and_then(|mut c| c.media(MediaKind::Video, bytes::Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 77, 0, 31]), 0).ok());
        let headers = StreamHeaders { video, ..StreamHeaders::default() };
        let input = InputStatus { publishing: true, ..InputStatus::default() };
        let silence = SilentAudio::default();
        let mut preflight = Preflight::new(Some(silence.clone()));
        let start = Instant::now();
        assert_eq!(preflight.check(&headers, &input, true, start), Found::default(), "too early to tell");
        let found = preflight.check(&headers, &input, true, start + AUDIO_WITHIN);
        assert!(found.add_silence && silence.is_on());
        assert!(found.changed.is_some_and(|w| w.len() == 1 && w[0].starts_with("No audio track")));
        let again = preflight.check(&headers, &input, true, start + AUDIO_WITHIN * 2);
        assert_eq!(again, Found::default(), "said once; silence asked once");
        assert!(preflight.check(&headers, &input, false, start + AUDIO_WITHIN * 3).changed.is_none(), "no source: nothing new");
    }

    fn header(kind: MediaKind, bytes: &'static [u8]) -> Option<crate::relay::media::Media> {
        MediaChunker::new(SHARED_STREAM_ID).ok().and_then(|mut c| c.media(kind, bytes::Bytes::from_static(bytes), 0).ok())
    }

    #[test]
    fn the_verdict_waits_for_audio_that_may_still_come_and_no_longer() {
        // The audio header counts once the source's own audio arrives (not the slate's).
        let input = InputStatus { publishing: true, source_audio: true, ..InputStatus::default() };
        let video_only = StreamHeaders { video: header(MediaKind::Video, &[0x17, 0, 0, 0, 0, 1, 77, 0, 31]), ..StreamHeaders::default() };
        let both = StreamHeaders { audio: header(MediaKind::Audio, &[0xaf, 0, 0x12, 0x10]), ..video_only.clone() };
        let start = Instant::now();

        // Audio with the video: settled at once.
        assert!(Preflight::new(Some(SilentAudio::default())).check(&both, &input, true, start).settled);
        // No audio and none to add (the setting is off): settled once audio was due.
        let mut without = Preflight::new(None);
        assert!(!without.check(&video_only, &input, true, start).settled, "audio may follow the video");
        assert!(without.check(&video_only, &input, true, start + AUDIO_WITHIN).settled);
        // No audio, and silence is added: settled only once the silent track is there.
        let mut with = Preflight::new(Some(SilentAudio::default()));
        assert!(!with.check(&video_only, &input, true, start).settled);
        let found = with.check(&video_only, &input, true, start + AUDIO_WITHIN);
        assert!(found.add_silence && !found.settled, "pulled again with silence: not yet");
        assert!(!with.check(&video_only, &input, true, start + AUDIO_WITHIN * 2).settled);
        assert!(with.check(&both, &input, true, start + AUDIO_WITHIN * 3).settled, "the silent track arrived");
        // No source: no verdict.
        assert!(!with.check(&both, &input, false, start + AUDIO_WITHIN * 4).settled);
    }
}
