//! Running the ingest: ffmpeg (fed by yt-dlp in that mode) writes FLV to its standard output,
//! which goes straight into the relay's input — no socket, no key in any argument. Its stderr
//! becomes status (read lossily: a stray byte never ends the reader); a failed run is started
//! again with backoff, re-resolving the manifest after a 403/404; a source that ended (ffmpeg
//! exited cleanly at the end of the stream) is not a fault and waits for the engine; the engine
//! can ask for a restart with a freshly resolved stream at any time (its input stalled). Children
//! run in their own process groups and are stopped as groups.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::command::{StderrNote, classify_stderr, ffmpeg_args, redact_urls, yt_dlp_args};
use super::{IngestConfig, IngestState, IngestStatus, ManifestSource, PullMode, ResolveError};
use crate::child;
use crate::relay::Input;

/// A run that lasted this long resets the backoff.
const STABLE_RUN: Duration = Duration::from_secs(30);
/// How long a child has to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// The longest stderr line kept (the rest of it is dropped).
const MAX_LINE: usize = 4096;

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30));
    base + base.mul_f64(rand::random::<f64>() * 0.25)
}

/// How one run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// ffmpeg exited cleanly: the source's stream ended.
    SourceEnded,
    /// It failed; `expired` when the source refused the URL (resolve a fresh one).
    Failed { expired: bool },
    /// The engine asked for a restart with a fresh stream.
    Restart,
    /// Stopped.
    Stopped,
}

pub(super) async fn run(
    config: IngestConfig,
    source: Arc<dyn ManifestSource>,
    input: Arc<Input>,
    status: watch::Sender<IngestStatus>,
    restart: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut attempt = 0u32;
    let mut fresh = false;
    loop {
        let started = Instant::now();
        let (end, error) = run_once(&config, source.as_ref(), &input, fresh, &status, &restart, &stop).await;
        if let Some(error) = error {
            status.send_modify(|s| s.last_error = Some(error));
        }
        let wait = match end {
            End::Stopped => break,
            End::Restart => {
                tracing::info!("restarting the ingest with a freshly resolved stream");
                fresh = true;
                attempt = 0;
                None
            }
            End::SourceEnded => {
                tracing::info!("the source's stream ended; the ingest waits for the engine");
                status.send_modify(|s| s.state = IngestState::Ended);
                fresh = true;
                attempt = 0;
                Some(Duration::MAX)
            }
            End::Failed { expired } => {
                fresh = expired;
                attempt = if started.elapsed() >= STABLE_RUN { 1 } else { attempt.saturating_add(1) };
                tracing::warn!(attempt, fresh_manifest = fresh, "the ingest stopped; starting it again");
                Some(backoff(attempt))
            }
        };
        status.send_modify(|s| {
            if s.state != IngestState::Ended {
                s.state = IngestState::Restarting;
            }
            s.restarts = s.restarts.saturating_add(1);
        });
        if let Some(wait) = wait {
            let sleep = async { if wait == Duration::MAX { std::future::pending().await } else { tokio::time::sleep(wait).await } };
            tokio::select! {
                () = stop.cancelled() => break,
                () = restart.notified() => fresh = true,
                () = sleep => {}
            }
        }
    }
    status.send_modify(|s| s.state = IngestState::Stopped);
}

/// The children of one run: ffmpeg, and yt-dlp feeding it.
struct Children {
    ffmpeg: Child,
    feeder: Option<Child>,
}

impl Children {
    async fn stop(&mut self) {
        if let Some(feeder) = self.feeder.as_mut() {
            child::stop_group(feeder, STOP_GRACE).await;
        }
        child::stop_group(&mut self.ffmpeg, STOP_GRACE).await;
    }
}

async fn run_once(
    config: &IngestConfig,
    source: &dyn ManifestSource,
    input: &Arc<Input>,
    fresh: bool,
    status: &watch::Sender<IngestStatus>,
    restart: &Notify,
    stop: &CancellationToken,
) -> (End, Option<String>) {
    let mut children = match spawn(config, source, fresh).await {
        Ok(children) => children,
        Err(ResolveError::Ended) => return (End::SourceEnded, None),
        Err(ResolveError::Failed(error)) => return (End::Failed { expired: true }, Some(error)),
    };
    let Some(feed) = input.claim() else {
        children.stop().await;
        return (End::Failed { expired: false }, Some("another publisher holds the relay's input".into()));
    };
    status.send_modify(|s| s.state = IngestState::Running);
    tracing::info!(pid = children.ffmpeg.id(), mode = %config.mode, profile = %config.profile, "ingest started");
    let stdout = children.ffmpeg.stdout.take();
    let stderr = children.ffmpeg.stderr.take();
    let media = async {
        match stdout {
            Some(stdout) => crate::relay::pipe::read_flv(stdout, feed).await.err().map(|e| e.to_string()),
            None => Some("ffmpeg has no output".to_string()),
        }
    };
    let notes = async {
        match stderr {
            Some(stderr) => watch_stderr(BufReader::new(stderr)).await,
            None => (false, None),
        }
    };
    let work = async { tokio::join!(media, notes) };
    let (end, error) = tokio::select! {
        () = stop.cancelled() => (End::Stopped, None),
        () = restart.notified() => (End::Restart, None),
        (media_error, (expired, stderr_error)) = work => {
            let exit = children.ffmpeg.wait().await;
            let clean = exit.as_ref().is_ok_and(std::process::ExitStatus::success) && media_error.is_none();
            let error = stderr_error.or(media_error).or_else(|| exit.ok().filter(|e| !e.success()).map(|e| format!("ffmpeg exited: {e}")));
            if clean { (End::SourceEnded, None) } else { (End::Failed { expired }, error) }
        }
    };
    children.stop().await;
    (end, error)
}

/// Reads ffmpeg's stderr to its end: whether the source refused the URL, and the last error.
async fn watch_stderr<R: AsyncBufRead + Unpin>(mut reader: R) -> (bool, Option<String>) {
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

/// Starts ffmpeg (and, in yt-dlp mode, yt-dlp feeding it).
async fn spawn(config: &IngestConfig, source: &dyn ManifestSource, fresh: bool) -> Result<Children, ResolveError> {
    spawn_children(config, source, fresh).await.map_err(|error| match error {
        Spawn::Resolve(error) => error,
        Spawn::Start(error) => ResolveError::Failed(error),
    })
}

enum Spawn {
    Resolve(ResolveError),
    Start(String),
}

impl From<String> for Spawn {
    fn from(error: String) -> Self {
        Self::Start(error)
    }
}

impl From<&str> for Spawn {
    fn from(error: &str) -> Self {
        Self::Start(error.to_string())
    }
}

async fn spawn_children(config: &IngestConfig, source: &dyn ManifestSource, fresh: bool) -> Result<Children, Spawn> {
    match config.mode {
        PullMode::Hls => {
            let manifest = source.manifest(fresh).await.map_err(Spawn::Resolve)?;
            let mut command = child::command(&config.ffmpeg, &[]);
            command.args(ffmpeg_args(manifest.as_str(), config.profile)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let ffmpeg = command.spawn().map_err(|e| format!("cannot start ffmpeg: {e}"))?;
            Ok(Children { ffmpeg, feeder: None })
        }
        PullMode::YtDlp => {
            let mut feeder = child::command(&config.yt_dlp, &[]);
            feeder.args(yt_dlp_args(source.watch_url().as_str())).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
            let mut feeder = feeder.spawn().map_err(|e| format!("cannot start yt-dlp: {e}"))?;
            let pipe: Stdio = feeder
                .stdout
                .take()
                .ok_or("yt-dlp has no output")?
                .try_into()
                .map_err(|e: std::io::Error| format!("cannot pipe yt-dlp into ffmpeg: {e}"))?;
            let mut command = child::command(&config.ffmpeg, &[]);
            command.args(ffmpeg_args("pipe:0", config.profile)).stdin(pipe).stdout(Stdio::piped()).stderr(Stdio::piped());
            let ffmpeg = command.spawn().map_err(|e| format!("cannot start ffmpeg: {e}"))?;
            Ok(Children { ffmpeg, feeder: Some(feeder) })
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
}
