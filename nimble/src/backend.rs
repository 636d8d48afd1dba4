//! The Nimble backend loop: keeps Nimble's republish rules equal to the desired destinations,
//! reports their status, and removes its rules when cancelled.
//!
//! It syncs when the desired set changes and every `sync_every` regardless (which also restores
//! rules after a Nimble restart), polls the republish stats every `stats_every` and publishes
//! the per-destination status on a `watch`, and reports what happens as [`BackendEvent`]s on a
//! `broadcast` (bounded; a slow listener misses events, the loop never waits for it). A failure
//! is an event, never a panic; the same failure is reported once until things change.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{NimbleClient, NimbleError};
use crate::status::{RepublishStatus, statuses};
use crate::sync::{Destination, DestinationId, Source, remove_all_owned, sync};

/// Per-destination status, keyed by Fanout's destination id.
pub type StatusMap = BTreeMap<DestinationId, RepublishStatus>;

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Where Fanout's ingest publishes inside Nimble.
    pub source: Source,
    /// Sync at least this often.
    pub sync_every: Duration,
    /// Poll the stats this often.
    pub stats_every: Duration,
    /// How long the clean-up at cancellation may take.
    pub cleanup_timeout: Duration,
}

impl BackendConfig {
    /// Syncs every 5 s, stats every 2 s, 10 s for the clean-up.
    pub fn new(source: Source) -> Self {
        Self { source, sync_every: Duration::from_secs(5), stats_every: Duration::from_secs(2), cleanup_timeout: Duration::from_secs(10) }
    }
}

/// What the loop reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendEvent {
    /// A sync changed Nimble's rules.
    Synced {
        /// Destinations a rule was created for.
        created: Vec<DestinationId>,
        /// Destinations whose rule was deleted.
        deleted: Vec<DestinationId>,
    },
    /// Some steps of a sync failed; the next sync retries them.
    StepsFailed {
        /// Each failure, in words.
        failures: Vec<String>,
    },
    /// Nimble refused the management token: nothing works until the configuration is fixed.
    AuthFailed {
        /// What to fix.
        message: String,
    },
    /// Nimble's management API cannot be reached.
    Unreachable {
        /// Why.
        message: String,
    },
    /// Another failure of the API (an error status, an unreadable answer).
    ApiFailed {
        /// Why.
        message: String,
    },
    /// Nimble is reachable again and accepts the token.
    Recovered,
    /// Cancelled: Fanout's rules were removed.
    Cleaned {
        /// How many rules were deleted.
        removed: usize,
    },
    /// Cancelled, but the rules could not all be removed.
    CleanupFailed {
        /// Why.
        message: String,
    },
}

impl BackendEvent {
    fn from_error(error: &NimbleError) -> Self {
        let message = error.to_string();
        match error {
            NimbleError::WrongToken { .. } => Self::AuthFailed { message },
            NimbleError::Unreachable { .. } | NimbleError::Timeout { .. } => Self::Unreachable { message },
            _ => Self::ApiFailed { message },
        }
    }
}

/// A running backend loop.
#[derive(Debug)]
pub struct NimbleBackend {
    status: watch::Receiver<StatusMap>,
    events: broadcast::Sender<BackendEvent>,
    task: JoinHandle<()>,
}

impl NimbleBackend {
    /// Starts the loop: `desired` is the live's destination set (empty between lives),
    /// `cancel` ends it (after removing Fanout's rules).
    pub fn spawn(
        client: NimbleClient,
        config: BackendConfig,
        desired: watch::Receiver<Vec<Destination>>,
        cancel: CancellationToken,
    ) -> Self {
        let (status_tx, status) = watch::channel(StatusMap::new());
        let (events, _) = broadcast::channel(64);
        let task =
            tokio::spawn(Loop { client, config, desired, status: status_tx, events: events.clone(), last_problem: None }.run(cancel));
        Self { status, events, task }
    }

    /// The per-destination status, updated after every stats poll.
    pub fn status(&self) -> watch::Receiver<StatusMap> {
        self.status.clone()
    }

    /// The loop's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BackendEvent> {
        self.events.subscribe()
    }

    /// Waits until the loop has ended (after its cancellation token fired).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the Nimble backend loop ended abnormally");
        }
    }
}

struct Loop {
    client: NimbleClient,
    config: BackendConfig,
    desired: watch::Receiver<Vec<Destination>>,
    status: watch::Sender<StatusMap>,
    events: broadcast::Sender<BackendEvent>,
    /// The last failure reported, so it is not repeated every few seconds.
    last_problem: Option<BackendEvent>,
}

impl Loop {
    async fn run(mut self, cancel: CancellationToken) {
        let mut sync_tick = tokio::time::interval(self.config.sync_every);
        let mut stats_tick = tokio::time::interval(self.config.stats_every);
        sync_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watching = true;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                changed = self.desired.changed(), if watching => {
                    if changed.is_err() {
                        watching = false; // the sender is gone: keep the last set, sync on the clock
                    }
                    self.sync_once().await;
                    self.poll_stats().await;
                    sync_tick.reset();
                }
                _ = sync_tick.tick() => self.sync_once().await,
                _ = stats_tick.tick() => self.poll_stats().await,
            }
        }
        self.clean_up().await;
    }

    async fn sync_once(&mut self) {
        let desired = self.desired.borrow_and_update().clone();
        match sync(&self.client, &self.config.source, &desired).await {
            Ok(report) => {
                if !report.created.is_empty() || !report.deleted.is_empty() {
                    let deleted = report.deleted.iter().map(|r| r.destination.clone()).collect();
                    self.emit(BackendEvent::Synced { created: report.created.clone(), deleted });
                }
                if report.is_clean() {
                    self.recovered();
                } else {
                    let failures = report.failures.iter().map(ToString::to_string).collect();
                    self.problem(BackendEvent::StepsFailed { failures });
                }
            }
            Err(error) => self.failed(&error),
        }
    }

    async fn poll_stats(&mut self) {
        let rules = match self.client.list_rules().await {
            Ok(rules) => rules,
            Err(error) => return self.failed(&error),
        };
        match self.client.republish_stats().await {
            Ok(stats) => {
                let map = statuses(&rules, &stats);
                self.status.send_if_modified(|current| {
                    let changed = *current != map;
                    *current = map;
                    changed
                });
            }
            Err(error) => self.failed(&error),
        }
    }

    async fn clean_up(&mut self) {
        let event = match tokio::time::timeout(self.config.cleanup_timeout, remove_all_owned(&self.client)).await {
            Ok(Ok(report)) if report.is_clean() => BackendEvent::Cleaned { removed: report.deleted.len() },
            Ok(Ok(report)) => {
                BackendEvent::CleanupFailed { message: report.failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ") }
            }
            Ok(Err(error)) => BackendEvent::CleanupFailed { message: error.to_string() },
            Err(_) => BackendEvent::CleanupFailed {
                message: format!("removing Fanout's rules took longer than {} s", self.config.cleanup_timeout.as_secs()),
            },
        };
        self.status.send_replace(StatusMap::new());
        self.emit(event);
    }

    fn failed(&mut self, error: &NimbleError) {
        tracing::warn!(%error, "Nimble backend");
        self.problem(BackendEvent::from_error(error));
    }

    /// Reports a failure unless it is the one reported last.
    fn problem(&mut self, event: BackendEvent) {
        if self.last_problem.as_ref() != Some(&event) {
            self.last_problem = Some(event.clone());
            self.emit(event);
        }
    }

    fn recovered(&mut self) {
        if self.last_problem.take().is_some() {
            self.emit(BackendEvent::Recovered);
        }
    }

    fn emit(&self, event: BackendEvent) {
        // No receiver is fine: events are reports, not commands.
        let _ = self.events.send(event);
    }
}
