//! The Nimble Streamer backend (`FANOUT_BACKEND=nimble`): the live's destinations become
//! Fanout-owned RTMP republish rules on an existing Nimble, kept in line by
//! [`fanout_nimble::NimbleBackend`] (sync on every change and every 5 s, stats every 2 s,
//! Fanout's rules removed when the live ends); the ingest publishes to Nimble's RTMP
//! application. Nimble's republish stats become the same per-destination status the built-in
//! relay reports, its failures (a refused token, an unreachable API) become events and each
//! destination's last error.
//!
//! The input: the ingest feeds Fanout's relay in this process, whose one destination is
//! Nimble's RTMP ingest (see [`crate::fanout::Backend`]), so the live reads the input as it does with the
//! built-in relay. Nimble's own view of its incoming stream is not used: the stats the client
//! reads are the republish ones.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use app::model::EventKind;
use fanout_nimble::{
    BackendConfig, BackendEvent, Destination, NimbleBackend, NimbleClient, RepublishState, RepublishStatus, Source, StatusMap,
};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use app::model::DestinationId;

use crate::relay::{DestinationState, DestinationStatus, RtmpTarget};

/// How every live reaches Nimble.
#[derive(Debug, Clone)]
pub struct NimbleSetup {
    client: NimbleClient,
    backend: BackendConfig,
    ingest: RtmpTarget,
}

impl NimbleSetup {
    /// Nimble's API through `client`; the live is published to `ingest`, which is the rules'
    /// `source` inside Nimble.
    pub fn new(client: NimbleClient, source: Source, ingest: RtmpTarget) -> Self {
        Self { client, backend: BackendConfig::new(source), ingest }
    }

    /// Where the live is published inside Nimble (its login is a secret of the target).
    pub fn ingest(&self) -> &RtmpTarget {
        &self.ingest
    }
}

/// One live's backend through Nimble.
pub struct Nimble {
    setup: NimbleSetup,
    targets: Mutex<BTreeMap<DestinationId, RtmpTarget>>,
    desired: Arc<watch::Sender<Vec<Destination>>>,
    running: Mutex<Option<NimbleBackend>>,
    status: OnceLock<watch::Receiver<StatusMap>>,
    /// What keeps Nimble from working now (a refused token, an unreachable API), shown as every
    /// destination's last error until it recovers.
    problem: Arc<Mutex<Option<String>>>,
    /// The backend's reports, forwarded once it runs (so they can be listened to before).
    events: broadcast::Sender<BackendEvent>,
    forwarding: Mutex<Option<tokio::task::JoinHandle<()>>>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Nimble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nimble({})", self.setup.client.base_url())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Nimble {
    /// A fan-out with no destination; nothing is asked of Nimble before [`Nimble::begin`].
    pub fn new(setup: NimbleSetup) -> Self {
        Self {
            setup,
            targets: Mutex::default(),
            desired: Arc::new(watch::Sender::new(Vec::new())),
            running: Mutex::default(),
            status: OnceLock::new(),
            problem: Arc::default(),
            events: broadcast::Sender::new(64),
            forwarding: Mutex::default(),
            cancel: CancellationToken::new(),
        }
    }

    /// Starts syncing Nimble's rules with the destinations (once).
    pub fn begin(&self) {
        let mut running = lock(&self.running);
        if running.is_none() && !self.cancel.is_cancelled() {
            let backend =
                NimbleBackend::spawn(self.setup.client.clone(), self.setup.backend.clone(), self.desired.subscribe(), self.cancel.clone());
            let _ = self.status.set(backend.status());
            let (mut reports, forward) = (backend.subscribe(), self.events.clone());
            *lock(&self.forwarding) = Some(tokio::spawn(async move {
                loop {
                    match reports.recv().await {
                        Ok(report) => {
                            let _ = forward.send(report);
                        }
                        Err(broadcast::error::RecvError::Lagged(missed)) => tracing::warn!(missed, "missed reports of the Nimble backend"),
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            }));
            *running = Some(backend);
        }
    }

    /// Adds destination `id`; the same target again reconnects it (its rule is deleted and made
    /// anew), another target replaces its rule.
    pub fn add(&self, id: &DestinationId, target: RtmpTarget) {
        let mut targets = lock(&self.targets);
        let same = targets.get(id) == Some(&target);
        targets.insert(id.clone(), target);
        if same {
            self.reconnect(id);
        } else {
            self.desired.send_replace(desired(&targets));
        }
    }

    /// Removes destination `id` (its rule is deleted at once); `false` if there was none.
    pub fn remove(&self, id: &DestinationId) -> bool {
        let mut targets = lock(&self.targets);
        let removed = targets.remove(id).is_some();
        if removed {
            self.desired.send_replace(desired(&targets));
        }
        removed
    }

    /// The ids of the destinations.
    pub fn ids(&self) -> Vec<DestinationId> {
        lock(&self.targets).keys().cloned().collect()
    }

    /// Every destination's status, from Nimble's latest republish stats (connecting until a
    /// rule has some).
    pub fn statuses(&self) -> BTreeMap<DestinationId, DestinationStatus> {
        let reported = self.status.get().map(|status| status.borrow().clone()).unwrap_or_default();
        let problem = lock(&self.problem).clone();
        lock(&self.targets)
            .keys()
            .map(|id| {
                let mut status = reported.get(&id.to_string()).map(status_of).unwrap_or_default();
                if status.last_error.is_none() {
                    status.last_error.clone_from(&problem);
                }
                (id.clone(), status)
            })
            .collect()
    }

    /// The backend's reports from now on (`None` before [`Nimble::begin`]).
    pub fn events(&self) -> NimbleEvents {
        NimbleEvents { events: self.events.subscribe(), problem: Arc::clone(&self.problem) }
    }

    /// Removes Fanout's rules and stops the backend (waits for it, at most its clean-up
    /// timeout).
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        let backend = lock(&self.running).take();
        if let Some(backend) = backend {
            backend.stopped().await;
        }
        // Every report the backend made is forwarded once it has stopped.
        let forwarding = lock(&self.forwarding).take();
        if let Some(forwarding) = forwarding {
            let _ = forwarding.await;
        }
        self.desired.send_replace(Vec::new());
        lock(&self.targets).clear();
    }

    /// Deletes destination `id`'s rule, then has the backend sync (which makes it again).
    fn reconnect(&self, id: &DestinationId) {
        let (client, desired, id) = (self.setup.client.clone(), Arc::clone(&self.desired), id.to_string());
        tokio::spawn(async move {
            match fanout_nimble::sync::remove_owned_by(&client, &id).await {
                Ok(report) => {
                    for failure in report.failures {
                        tracing::warn!(destination = %id, error = %failure.error, "could not {} to reconnect it", failure.step);
                    }
                }
                Err(error) => tracing::warn!(destination = %id, %error, "could not delete its Nimble rule to reconnect it"),
            }
            desired.send_modify(|_| {});
        });
    }
}

impl Drop for Nimble {
    fn drop(&mut self) {
        // The backend removes Fanout's rules on its own once cancelled.
        self.cancel.cancel();
    }
}

/// The backend's reports, as events for the live's log.
#[derive(Debug)]
pub struct NimbleEvents {
    events: broadcast::Receiver<BackendEvent>,
    problem: Arc<Mutex<Option<String>>>,
}

impl NimbleEvents {
    /// The next report worth recording; `None` once the backend has stopped.
    pub async fn next(&mut self) -> Option<(EventKind, String)> {
        loop {
            match self.events.recv().await {
                Ok(event) => {
                    if let Some(recorded) = self.note(&event) {
                        return Some(recorded);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "missed reports of the Nimble backend")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The reports already made, worth recording.
    pub fn drain(&mut self) -> Vec<(EventKind, String)> {
        let mut recorded = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => recorded.extend(self.note(&event)),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return recorded,
            }
        }
    }

    /// Keeps the current problem up to date; returns the event to record, if any.
    fn note(&self, event: &BackendEvent) -> Option<(EventKind, String)> {
        match event {
            BackendEvent::AuthFailed { message } | BackendEvent::Unreachable { message } | BackendEvent::ApiFailed { message } => {
                *lock(&self.problem) = Some(message.clone());
            }
            BackendEvent::Recovered => *lock(&self.problem) = None,
            _ => {}
        }
        describe(event)
    }
}

/// What a backend report becomes in the event log: problems and recoveries are
/// `Backend` events; routine syncs and the clean-up are logged only — the live's task records
/// destinations joining and leaving itself.
pub fn describe(event: &BackendEvent) -> Option<(EventKind, String)> {
    match event {
        BackendEvent::AuthFailed { message } | BackendEvent::Unreachable { message } | BackendEvent::ApiFailed { message } => {
            Some((EventKind::Backend, message.clone()))
        }
        BackendEvent::StepsFailed { failures } => {
            Some((EventKind::Backend, format!("Nimble: {} (tried again within 5 s)", failures.join("; "))))
        }
        BackendEvent::CleanupFailed { message } => Some((
            EventKind::Backend,
            format!(
                "Nimble: Fanout's republish rules could not all be removed at the end of the live ({message}); the next \
                 live removes them, or delete the rules marked fanout=… by hand"
            ),
        )),
        BackendEvent::Synced { created, deleted } => {
            tracing::info!(?created, ?deleted, "Nimble's republish rules synced");
            None
        }
        BackendEvent::Recovered => Some((EventKind::Backend, "Nimble: the management API works again".into())),
        BackendEvent::Cleaned { removed } => {
            tracing::info!(removed, "Fanout's republish rules removed from Nimble");
            None
        }
    }
}

/// The destinations Nimble should republish to.
fn desired(targets: &BTreeMap<DestinationId, RtmpTarget>) -> Vec<Destination> {
    targets.iter().map(|(id, target)| destination(&id.to_string(), target)).collect()
}

/// A destination as Nimble's rule sync takes it.
fn destination(id: &str, target: &RtmpTarget) -> Destination {
    Destination {
        id: id.to_string(),
        host: target.host.clone(),
        port: target.port,
        app: target.app.clone(),
        stream_key: target.key.clone(),
        tls: target.tls,
    }
}

/// Nimble's view of a republish as the relay's status.
fn status_of(status: &RepublishStatus) -> DestinationStatus {
    let state = match status.state {
        RepublishState::Connecting => DestinationState::Connecting,
        RepublishState::Streaming => DestinationState::Streaming,
        RepublishState::Retrying => DestinationState::Retrying,
    };
    DestinationStatus {
        state,
        bytes_sent: status.bytes_sent,
        bitrate_bps: status.bitrate_bps,
        reconnects: status.reconnects,
        skips: 0,
        last_error: status.last_error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(account: &str) -> DestinationId {
        DestinationId::Account(app::model::AccountId::from_stored(account))
    }

    fn target(url: &str) -> RtmpTarget {
        RtmpTarget::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn a_target_becomes_a_rule_destination() {
        let rtmps = destination("acc-1", &target("rtmps://live.example.org/app/key-1?x=1"));
        assert_eq!((rtmps.host.as_str(), rtmps.port, rtmps.app.as_str(), rtmps.tls), ("live.example.org", 443, "app", true));
        assert_eq!(rtmps.stream_key.expose(), "key-1?x=1");
        let plain = destination("acc-2", &target("rtmp://127.0.0.1:1936/live/k"));
        assert_eq!((plain.id.as_str(), plain.port, plain.tls), ("acc-2", 1936, false));
    }

    #[test]
    fn nimble_statuses_read_like_the_relay() {
        let streaming =
            RepublishStatus { state: RepublishState::Streaming, bytes_sent: 9, bitrate_bps: 2_500_000, reconnects: 1, last_error: None };
        let status = status_of(&streaming);
        assert_eq!(
            (status.state, status.bitrate_bps, status.bytes_sent, status.reconnects),
            (DestinationState::Streaming, 2_500_000, 9, 1)
        );
        let retrying = RepublishStatus { state: RepublishState::Retrying, last_error: Some("down".into()), ..streaming };
        assert_eq!(status_of(&retrying).state, DestinationState::Retrying);
        assert_eq!(status_of(&RepublishStatus::connecting()).state, DestinationState::Connecting);
    }

    #[test]
    fn problems_and_recoveries_are_recorded_and_routine_syncs_only_logged() {
        let refused = BackendEvent::AuthFailed { message: "Nimble refused the management token".into() };
        assert_eq!(describe(&refused).map(|(kind, _)| kind), Some(EventKind::Backend));
        let cleanup = describe(&BackendEvent::CleanupFailed { message: "timeout".into() });
        assert!(cleanup.is_some_and(|(_, message)| message.contains("timeout")));
        assert_eq!(describe(&BackendEvent::Recovered).map(|(kind, _)| kind), Some(EventKind::Backend), "a recovery is recorded too");
        assert_eq!(describe(&BackendEvent::Synced { created: vec!["a".into()], deleted: vec![] }), None);
        assert_eq!(describe(&BackendEvent::Cleaned { removed: 2 }), None);
    }

    #[tokio::test]
    async fn destinations_come_and_go_before_nimble_is_asked_anything() {
        let client =
            NimbleClient::new("http://127.0.0.1:9", fanout_nimble::Secret::new("a-long-enough-token")).unwrap_or_else(|e| panic!("{e}"));
        let setup = NimbleSetup::new(client, Source { app: "fanout".into(), stream: "live".into() }, target("rtmp://x/fanout/live"));
        let fanout = Nimble::new(setup);
        let (a, b) = (id("a"), id("b"));
        fanout.add(&a, target("rtmp://h/live/ka"));
        fanout.add(&b, target("rtmp://h/live/kb"));
        assert!(fanout.remove(&a) && !fanout.remove(&a));
        assert_eq!(fanout.ids(), std::slice::from_ref(&b));
        assert_eq!(fanout.desired.borrow().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(fanout.statuses()[&b].state, DestinationState::Connecting);
        assert!(lock(&fanout.running).is_none(), "no backend before begin");
        assert!(fanout.events().drain().is_empty(), "and nothing reported");
        fanout.shutdown().await;
        assert!(fanout.ids().is_empty());
    }

    /// Waits until `check` holds, failing after 10 s.
    async fn wait_for(what: &str, check: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !check() {
            assert!(std::time::Instant::now() < deadline, "not within 10 s: {what}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn the_same_target_again_reconnects_through_a_new_rule() {
        const TOKEN: &str = "Zq8-v1NfT3xK0pLr9aWm";
        let stand_in = fanout_testworld::nimble::NimbleStandIn::start(TOKEN).await.unwrap_or_else(|e| panic!("{e}"));
        let client = NimbleClient::new(&stand_in.url(), fanout_nimble::Secret::new(TOKEN)).unwrap_or_else(|e| panic!("{e}"));
        let setup = NimbleSetup::new(client, Source { app: "fanout".into(), stream: "live".into() }, target("rtmp://x/fanout/live"));
        let fanout = Nimble::new(setup);
        let rule_ids = || stand_in.rules().iter().filter_map(|r| r["id"].as_str().map(String::from)).collect::<Vec<_>>();
        fanout.add(&id("a"), target("rtmp://h/live/ka"));
        fanout.begin();
        wait_for("one rule made", || rule_ids().len() == 1).await;
        let first = rule_ids();
        fanout.add(&id("a"), target("rtmp://h/live/ka"));
        wait_for("the rule made anew", || rule_ids().len() == 1 && rule_ids() != first).await;
        fanout.shutdown().await;
        assert!(stand_in.rules().is_empty(), "the rules go at shutdown");
    }
}
