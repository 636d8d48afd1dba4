//! Running ffmpeg (and yt-dlp) for the ingest: start, watch stderr, restart with backoff, and
//! stop by pid.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::secrets::Secret;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::command::{StderrNote, classify_stderr, ffmpeg_args, redact_urls, yt_dlp_args};
use super::progress::ProgressReader;
use super::{IngestConfig, IngestState, IngestStatus, ManifestSource, PullMode};
use crate::relay::InputStatus;

/// A run that lasted this long resets the backoff.
const STABLE_RUN: Duration = Duration::from_secs(30);

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30));
    base + base.mul_f64(rand::random::<f64>() * 0.25)
}

pub(super) async fn run(
    config: IngestConfig,
    source: Arc<dyn ManifestSource>,
    relay_url: Secret,
    status: watch::Sender<IngestStatus>,
    output: watch::Sender<InputStatus>,
    stop: CancellationToken,
) {
    let mut progress = ProgressReader::default();
    let mut attempt = 0u32;
    let mut fresh = false;
    loop {
        status.send_modify(|s| s.state = if s.restarts == 0 && attempt == 0 { IngestState::Starting } else { IngestState::Restarting });
        let started = Instant::now();
        let outcome = tokio::select! {
            () = stop.cancelled() => break,
            outcome = run_once(&config, source.as_ref(), &relay_url, fresh, &status, (&mut progress, &output), &stop) => outcome,
        };
        output.send_modify(|s| progress.run_ended(s));
        if stop.is_cancelled() {
            break;
        }
        fresh = outcome.expired;
        if let Some(error) = outcome.error {
            status.send_modify(|s| s.last_error = Some(error));
        }
        attempt = if started.elapsed() >= STABLE_RUN { 1 } else { attempt + 1 };
        status.send_modify(|s| {
            s.state = IngestState::Restarting;
            s.restarts += 1;
        });
        tracing::warn!(attempt, fresh_manifest = fresh, "the ingest stopped; starting it again");
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(backoff(attempt)) => {}
        }
    }
    status.send_modify(|s| s.state = IngestState::Stopped);
}

/// How one run of ffmpeg ended.
struct Outcome {
    error: Option<String>,
    expired: bool,
}

async fn run_once(
    config: &IngestConfig,
    source: &dyn ManifestSource,
    relay_url: &Secret,
    fresh: bool,
    status: &watch::Sender<IngestStatus>,
    (progress, output): (&mut ProgressReader, &watch::Sender<InputStatus>),
    stop: &CancellationToken,
) -> Outcome {
    let (mut ffmpeg, mut feeder) = match spawn(config, source, relay_url, fresh).await {
        Ok(children) => children,
        Err(error) => return Outcome { error: Some(error), expired: false },
    };
    status.send_modify(|s| s.state = IngestState::Running);
    tracing::info!(pid = ffmpeg.id(), mode = %config.mode, profile = %config.profile, "ingest started");
    let stderr = ffmpeg.stderr.take();
    let stdout = ffmpeg.stdout.take();
    let watch_progress = async {
        if let Some(stdout) = stdout {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                output.send_if_modified(|s| progress.line(&line, Instant::now(), s));
            }
        }
    };
    let watch_stderr = async {
        let mut outcome = Outcome { error: None, expired: false };
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let clean = redact_urls(&line);
                tracing::debug!(target: "fanout::ffmpeg", "{clean}");
                match classify_stderr(&line) {
                    Some(StderrNote::Expired) => {
                        outcome.expired = true;
                        outcome.error = Some(clean);
                    }
                    Some(StderrNote::Error) => outcome.error = Some(clean),
                    None => {}
                }
            }
        }
        outcome
    };
    let outcome = tokio::select! {
        () = stop.cancelled() => Outcome { error: None, expired: false },
        (outcome, ()) = async { tokio::join!(watch_stderr, watch_progress) } => outcome,
    };
    // Whatever ended the run, end both processes: ours, by pid.
    let _ = ffmpeg.start_kill();
    let exit = ffmpeg.wait().await;
    if let Some(feeder) = feeder.as_mut() {
        let _ = feeder.start_kill();
        let _ = feeder.wait().await;
    }
    let error = outcome.error.or_else(|| exit.ok().filter(|e| !e.success()).map(|e| format!("ffmpeg exited: {e}")));
    Outcome { error, expired: outcome.expired }
}

/// Starts ffmpeg (and, in yt-dlp mode, yt-dlp feeding it).
async fn spawn(
    config: &IngestConfig,
    source: &dyn ManifestSource,
    relay_url: &Secret,
    fresh: bool,
) -> Result<(Child, Option<Child>), String> {
    match config.mode {
        PullMode::Hls => {
            let manifest = source.manifest(fresh).await?;
            let mut command = Command::new(&config.ffmpeg);
            command
                .args(progress_args(config))
                .args(ffmpeg_args(manifest.as_str(), relay_url.expose(), config.profile))
                .stdin(Stdio::null())
                .stdout(stdout(config))
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let child = command.spawn().map_err(|e| format!("cannot start ffmpeg: {e}"))?;
            Ok((child, None))
        }
        PullMode::YtDlp => {
            let mut feeder = Command::new(&config.yt_dlp)
                .args(yt_dlp_args(source.watch_url().as_str()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start yt-dlp: {e}"))?;
            let pipe: Stdio = feeder
                .stdout
                .take()
                .ok_or("yt-dlp has no output")?
                .try_into()
                .map_err(|e: std::io::Error| format!("cannot pipe yt-dlp into ffmpeg: {e}"))?;
            let child = Command::new(&config.ffmpeg)
                .args(progress_args(config))
                .args(ffmpeg_args("pipe:0", relay_url.expose(), config.profile))
                .stdin(pipe)
                .stdout(stdout(config))
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start ffmpeg: {e}"))?;
            Ok((child, Some(feeder)))
        }
    }
}

/// `-progress pipe:1` when the ingest reports what ffmpeg writes.
fn progress_args(config: &IngestConfig) -> &'static [&'static str] {
    if config.progress { &["-progress", "pipe:1"] } else { &[] }
}

/// ffmpeg's standard output: its progress report, or nothing.
fn stdout(config: &IngestConfig) -> Stdio {
    if config.progress { Stdio::piped() } else { Stdio::null() }
}
