//! Running the ingest: one [`Pull`] at a time holds the relay's input. Before its URL expires,
//! a second pull on a freshly resolved one stands by and takes over at its first keyframe
//! (make-before-break; the destinations see one stream); if it fails, the first goes on and a
//! refresh is tried again. A failed pull is started again with backoff, re-resolving after a
//! 403/404; a source that ended (ffmpeg exited cleanly) is not a fault and waits for the engine;
//! the engine can ask for a restart with a freshly resolved stream at any time (its input
//! stalled).

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::pull::{Pull, PullEnd, Role, StartFailure};
use super::{IngestConfig, IngestState, IngestStatus, ManifestSource, ResolveError};
use crate::relay::Input;
use crate::relay::input::Takeover;

/// A run that lasted this long resets the backoff.
const STABLE_RUN: Duration = Duration::from_secs(30);
/// A fresh pull is started this long before the current URL expires.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// Never refresh more often than this (a source whose URLs expire sooner is refreshed late).
const MIN_REFRESH_EVERY: Duration = Duration::from_secs(60);
/// A standby pull that has not taken over by then is given up (and tried again later).
const TAKEOVER_DEADLINE: Duration = Duration::from_secs(45);

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30));
    base + base.mul_f64(rand::random::<f64>() * 0.25)
}

/// When to start a fresh pull for a URL that expires at `expires`, seen `now`.
pub(super) fn refresh_after(expires: OffsetDateTime, now: OffsetDateTime) -> Duration {
    let left = Duration::try_from(expires - now).unwrap_or_default();
    left.saturating_sub(REFRESH_BEFORE).max(MIN_REFRESH_EVERY.min(left / 2))
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

/// When the next refresh of `pull` is due, if its URL expires.
fn refresh_due(pull: &Pull) -> Option<tokio::time::Instant> {
    pull.expires.map(|expires| tokio::time::Instant::now() + refresh_after(expires, OffsetDateTime::now_utc()))
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
    let role = config.backup_after.map_or(Role::Holder, |after| Role::Standby(Takeover::WhenStalled(after)));
    let mut current = match Pull::start(config, source, fresh, input, role).await {
        Ok(pull) => pull,
        Err(StartFailure::Resolve(ResolveError::Ended)) => return (End::SourceEnded, None),
        Err(StartFailure::Resolve(ResolveError::Failed(error))) => return (End::Failed { expired: true }, Some(error)),
        Err(StartFailure::Resolve(ResolveError::Refused(problem))) => {
            let message = problem.message();
            status.send_modify(|s| s.problem = Some(problem));
            return (End::Failed { expired: true }, Some(message));
        }
        Err(StartFailure::Start(error)) => return (End::Failed { expired: false }, Some(error)),
    };
    status.send_modify(|s| {
        s.state = IngestState::Running;
        s.problem = None;
    });
    tracing::info!(pid = current.id(), mode = %config.mode, profile = %config.profile, "ingest started");
    let mut refresh_at = refresh_due(&current);
    let mut next: Option<(Pull, tokio::time::Instant)> = None;
    loop {
        let takeover_deadline = next.as_ref().map(|(_, started)| *started + TAKEOVER_DEADLINE);
        let no_standby = next.is_none();
        let standby_ended = async {
            match next.as_mut() {
                Some((pull, _)) => (&mut pull.reader).await.unwrap_or_default(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => {
                stop_all(&mut current, next.as_mut().map(|(pull, _)| pull)).await;
                return (End::Stopped, None);
            }
            () = restart.notified() => {
                stop_all(&mut current, next.as_mut().map(|(pull, _)| pull)).await;
                return (End::Restart, None);
            }
            () = sleep_until(refresh_at), if no_standby => {
                refresh_at = None;
                match Pull::start(config, source, true, input, Role::Standby(Takeover::AtKeyframe)).await {
                    Ok(pull) => {
                        tracing::info!(pid = pull.id(), "the stream's URL expires soon: a fresh pull stands by to take over");
                        next = Some((pull, tokio::time::Instant::now()));
                    }
                    Err(failure) => {
                        tracing::warn!(?failure, "could not start a fresh pull before the URL expires; trying again shortly");
                        refresh_at = Some(tokio::time::Instant::now() + MIN_REFRESH_EVERY);
                    }
                }
            }
            end = standby_ended => {
                tracing::warn!(error = ?end.stderr_error.or(end.media_error), "the fresh pull ended before it took over; the current one goes on");
                if let Some((mut pull, _)) = next.take() { pull.stop().await; }
                refresh_at = Some(tokio::time::Instant::now() + MIN_REFRESH_EVERY);
            }
            () = sleep_until(takeover_deadline) => {
                tracing::warn!("the fresh pull did not take over in time; the current one goes on");
                if let Some((mut pull, _)) = next.take() { pull.stop().await; }
                refresh_at = Some(tokio::time::Instant::now() + MIN_REFRESH_EVERY);
            }
            end = &mut current.reader => {
                let end = end.unwrap_or_default();
                if end.superseded && let Some((pull, _)) = next.take() {
                    current.stop().await;
                    current = pull;
                    tracing::info!(pid = current.id(), "the fresh pull took over: no gap for the destinations");
                    refresh_at = refresh_due(&current);
                    continue;
                }
                if let Some((mut pull, _)) = next.take() { pull.stop().await; }
                return finish(current, end).await;
            }
        }
    }
}

/// How a pull whose media ended went: a clean exit is the source's end.
async fn finish(mut pull: Pull, end: PullEnd) -> (End, Option<String>) {
    let exit = pull.exited_cleanly().await;
    pull.stop().await;
    let clean = exit.as_ref().is_ok_and(|clean| *clean) && end.media_error.is_none();
    let error = end.stderr_error.or(end.media_error).or_else(|| exit.err());
    if clean { (End::SourceEnded, None) } else { (End::Failed { expired: end.expired }, error) }
}

async fn stop_all(current: &mut Pull, next: Option<&mut Pull>) {
    if let Some(next) = next {
        next.stop().await;
    }
    current.stop().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_pull_starts_five_minutes_before_expiry_and_never_in_a_tight_loop() {
        let now = time::macros::datetime!(2026-12-01 12:00 UTC);
        assert_eq!(refresh_after(now + time::Duration::hours(6), now), Duration::from_secs(6 * 3600 - 300));
        assert_eq!(refresh_after(now + time::Duration::minutes(4), now), Duration::from_secs(60), "soon: in a minute, not at once");
        assert_eq!(refresh_after(now + time::Duration::seconds(20), now), Duration::from_secs(10), "very soon: halfway");
        assert_eq!(refresh_after(now - time::Duration::minutes(1), now), Duration::ZERO, "expired: now");
    }
}
