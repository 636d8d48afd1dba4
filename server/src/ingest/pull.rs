//! One pull: ffmpeg reading the live (from the manifest's URL, or from a feeder's pipe) and
//! writing FLV to its standard output, which a task moves into the relay's input — as the
//! publisher that holds it, or as one standing by to take over (see [`Takeover`]). Its stderr
//! becomes status, read lossily and bounded; its URL's expiry is read so a fresh pull can be
//! started before it.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Child;
use tokio::task::JoinHandle;
use url::Url;

use super::command::{StderrNote, classify_stderr, ffmpeg_args, redact_urls};
use super::{IngestConfig, ManifestSource, PullMode, ResolveError};
use crate::child;
use crate::relay::Input;
use crate::relay::input::{FeedError, Takeover};
use crate::relay::pipe::PipeError;

/// How long a child has to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// The longest stderr line kept (the rest of it is dropped).
const MAX_LINE: usize = 4096;

/// Whether a pull holds the input or stands by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The input's only publisher (none may hold it).
    Holder,
    /// A second publisher, taking over as [`Takeover`] says.
    Standby(Takeover),
}

/// How a pull's media stopped.
#[derive(Debug, Default)]
pub(super) struct PullEnd {
    /// Another publisher took the input over.
    pub superseded: bool,
    /// Reading the media failed.
    pub media_error: Option<String>,
    /// The source refused the URL (403/404): resolve a fresh one.
    pub expired: bool,
    /// The last error ffmpeg wrote.
    pub stderr_error: Option<String>,
}

/// A running pull.
pub(super) struct Pull {
    ffmpeg: Child,
    feeder: Option<Child>,
    _keep: Option<Box<dyn std::any::Any + Send>>,
    /// The task moving its media; ends when the media does.
    pub(super) reader: JoinHandle<PullEnd>,
    /// When its URL expires, if it says.
    pub(super) expires: Option<OffsetDateTime>,
}

impl std::fmt::Debug for Pull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pull").field("ffmpeg", &self.ffmpeg.id()).field("expires", &self.expires).finish_non_exhaustive()
    }
}

/// Why a pull did not start.
#[derive(Debug)]
pub(super) enum StartFailure {
    /// The source could not be resolved (or has ended).
    Resolve(ResolveError),
    /// A program could not be started, or the input is taken.
    Start(String),
}

impl Pull {
    /// Resolves the source (`fresh`: anew) and starts ffmpeg on it, its media going into `input`
    /// as `role` says.
    pub(super) async fn start(
        config: &IngestConfig,
        source: &dyn ManifestSource,
        fresh: bool,
        input: &Arc<Input>,
        role: Role,
    ) -> Result<Self, StartFailure> {
        let (mut ffmpeg, feeder, keep, expires) = spawn(config, source, fresh).await?;
        let feed = match role {
            Role::Holder => input.claim(),
            Role::Standby(takeover) => input.standby(takeover),
        };
        let Some(feed) = feed else {
            let mut pull = Self { ffmpeg, feeder, _keep: keep, reader: tokio::spawn(async { PullEnd::default() }), expires };
            pull.stop().await;
            return Err(StartFailure::Start("another publisher holds the relay's input".into()));
        };
        let (stdout, stderr) = (ffmpeg.stdout.take(), ffmpeg.stderr.take());
        let reader = tokio::spawn(async move {
            let media = async {
                match stdout {
                    Some(stdout) => crate::relay::pipe::read_flv(stdout, feed).await.err(),
                    None => Some(PipeError::Io(std::io::Error::other("ffmpeg has no output"))),
                }
            };
            let notes = async {
                match stderr {
                    Some(stderr) => watch_stderr(BufReader::new(stderr)).await,
                    None => (false, None),
                }
            };
            let (media, (expired, stderr_error)) = tokio::join!(media, notes);
            let superseded = matches!(media, Some(PipeError::Feed(FeedError::Superseded)));
            let media_error = if superseded { None } else { media.map(|e| e.to_string()) };
            PullEnd { superseded, media_error, expired, stderr_error }
        });
        Ok(Self { ffmpeg, feeder, _keep: keep, reader, expires })
    }

    /// ffmpeg's process id.
    pub(super) fn id(&self) -> Option<u32> {
        self.ffmpeg.id()
    }

    /// Waits for ffmpeg to exit (after its media ended): whether it exited cleanly.
    pub(super) async fn exited_cleanly(&mut self) -> Result<bool, String> {
        match self.ffmpeg.wait().await {
            Ok(status) if status.success() => Ok(true),
            Ok(status) => Err(format!("ffmpeg exited: {status}")),
            Err(error) => Err(format!("ffmpeg: {error}")),
        }
    }

    /// Stops its programs, as process groups, and its reader.
    pub(super) async fn stop(&mut self) {
        if let Some(feeder) = self.feeder.as_mut() {
            child::stop_group(feeder, STOP_GRACE).await;
        }
        child::stop_group(&mut self.ffmpeg, STOP_GRACE).await;
        self.reader.abort();
    }
}

type Spawned = (Child, Option<Child>, Option<Box<dyn std::any::Any + Send>>, Option<OffsetDateTime>);

async fn spawn(config: &IngestConfig, source: &dyn ManifestSource, fresh: bool) -> Result<Spawned, StartFailure> {
    let start = |what: &str, error: std::io::Error| StartFailure::Start(format!("cannot start {what}: {error}"));
    match config.mode {
        PullMode::YtDlp | PullMode::Hls => {
            let manifest = source.manifest(fresh).await.map_err(StartFailure::Resolve)?;
            let mut command = child::command(&config.ffmpeg, &[]);
            command
                .args(ffmpeg_args(manifest.as_str(), config.profile, config.proxy.as_ref(), config.silent_audio.is_on()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let ffmpeg = command.spawn().map_err(|e| start("ffmpeg", e))?;
            Ok((ffmpeg, None, None, expires_at(&manifest)))
        }
        PullMode::YtDlpPipe => {
            let super::Feeder { mut command, keep } = source.feeder().map_err(StartFailure::Resolve)?;
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
            let mut feeder = command.spawn().map_err(|e| start("yt-dlp", e))?;
            let pipe: Stdio = feeder
                .stdout
                .take()
                .ok_or_else(|| StartFailure::Start("yt-dlp has no output".into()))?
                .try_into()
                .map_err(|e: std::io::Error| StartFailure::Start(format!("cannot pipe yt-dlp into ffmpeg: {e}")))?;
            let mut command = child::command(&config.ffmpeg, &[]);
            command
                .args(ffmpeg_args("pipe:0", config.profile, None, config.silent_audio.is_on()))
                .stdin(pipe)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let ffmpeg = command.spawn().map_err(|e| start("ffmpeg", e))?;
            Ok((ffmpeg, Some(feeder), keep, None))
        }
    }
}

/// When a stream URL expires, if it says: YouTube's manifests carry it as a path segment
/// (`…/expire/1764590400/…`), its media URLs as a query parameter (`?expire=1764590400`).
pub fn expires_at(url: &Url) -> Option<OffsetDateTime> {
    let from_query = url.query_pairs().find(|(name, _)| name == "expire").map(|(_, value)| value.into_owned());
    let from_path = || {
        let mut segments = url.path_segments()?;
        segments.by_ref().find(|s| *s == "expire")?;
        segments.next().map(String::from)
    };
    let seconds: i64 = from_query.or_else(from_path)?.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Reads ffmpeg's stderr to its end: whether the source refused the URL, and the last error.
pub(super) async fn watch_stderr<R: AsyncBufRead + Unpin>(mut reader: R) -> (bool, Option<String>) {
    let (mut expired, mut last) = (false, None);
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match (&mut reader).take(MAX_LINE as u64).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return (expired, last),
            Ok(_) => {}
        }
        if line.len() >= MAX_LINE && line.last() != Some(&b'\n') {
            // The rest of an over-long line: skip to its end.
            let mut rest = Vec::new();
            let _ = (&mut reader).take(1 << 20).read_until(b'\n', &mut rest).await;
        }
        let text = String::from_utf8_lossy(&line);
        let clean = redact_urls(text.trim_end());
        tracing::debug!(target: "fanout::ffmpeg", "{clean}");
        match classify_stderr(&text) {
            Some(StderrNote::Expired) => {
                expired = true;
                last = Some(clean);
            }
            Some(StderrNote::Error) => last = Some(clean),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stray_byte_on_stderr_does_not_end_its_reader() {
        let mut text = b"Input #0, hls\n".to_vec();
        text.extend([0xff, 0xfe, b'\n']);
        text.extend(b"[https @ 0x1] HTTP error 403 Forbidden\n");
        text.extend(vec![b'x'; MAX_LINE * 3]);
        text.extend(b"\nConnection refused\n");
        let (expired, last) = watch_stderr(&text[..]).await;
        assert!(expired, "the line after the stray byte was read");
        assert_eq!(last.as_deref(), Some("Connection refused"), "and the lines after an over-long one");
    }

    #[test]
    fn expiry_is_read_from_youtubes_path_or_query() {
        let at = |url: &str| expires_at(&Url::parse(url).unwrap_or_else(|e| panic!("{e}"))).map(OffsetDateTime::unix_timestamp);
        assert_eq!(
            at("https://manifest.googlevideo.com/api/manifest/hls_playlist/expire/1764590400/ei/abc/ip/1.2.3.4/id/x.1/playlist/index.m3u8"),
            Some(1_764_590_400)
        );
        assert_eq!(at("https://rr1.googlevideo.com/videoplayback?expire=1764590400&ei=abc"), Some(1_764_590_400));
        assert_eq!(at("http://127.0.0.1:8000/live/index.m3u8"), None);
        assert_eq!(at("https://x.example/expire/not-a-number/index.m3u8"), None);
        assert_eq!(at("https://x.example/a/expire"), None);
    }
}
