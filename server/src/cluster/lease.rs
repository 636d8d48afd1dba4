//! The lease-keeping task of a cluster node: it takes the node's lease in the shared store,
//! renews it every heartbeat with the node's load, publishes the live nodes it sees on a
//! `watch` channel, says so (a log line and an event) when the lease is lost or the name is
//! held by another node, takes it anew, and gives it up when stopped.

use std::time::Duration;

use app::model::EventKind;
use app::store::{LeaseEpoch, NewEvent, NodeClaim, NodeClaimed, NodeLease, NodeReport, SharedStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often a node renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a lease lasts unrenewed: a node silent this long is gone (five heartbeats).
pub const TTL: Duration = Duration::from_secs(5);

/// The lease's rhythm: [`HEARTBEAT`] and [`TTL`] in service, shorter in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How often the lease is renewed.
    pub heartbeat: Duration,
    /// How long it lasts unrenewed.
    pub ttl: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self { heartbeat: HEARTBEAT, ttl: TTL }
    }
}

/// What a node sees of its cluster. It changes when a node joins, leaves, is taken anew or
/// reports another load, and when this node's own holding changes; the lease times in it are
/// those of that change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterView {
    /// This node's holding, while it has one.
    pub me: Option<NodeLease>,
    /// The live nodes (this one among them while it holds its lease), by name.
    pub nodes: Vec<NodeLease>,
}

impl ClusterView {
    /// What a change is made of: times left out.
    fn shape(&self) -> (Option<LeaseEpoch>, Vec<(&NodeClaim, LeaseEpoch, NodeReport)>) {
        (self.me.as_ref().map(|m| m.epoch), self.nodes.iter().map(|n| (&n.claim, n.epoch, n.report)).collect())
    }
}

/// The running task: its view of the cluster, and its end.
#[derive(Debug)]
pub struct LeaseKeeper {
    view: watch::Receiver<ClusterView>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl LeaseKeeper {
    /// Starts keeping `claim`'s lease in `store`, reporting what `report` says at each renewal,
    /// until `stop` is cancelled (or [`LeaseKeeper::stop`]).
    pub fn spawn(
        store: SharedStore,
        claim: NodeClaim,
        report: watch::Receiver<NodeReport>,
        timing: LeaseTiming,
        stop: CancellationToken,
    ) -> Self {
        let (view_tx, view) = watch::channel(ClusterView::default());
        let keeper = Keeper { store, claim, report, timing, view: view_tx, held: None, clash: None };
        let task = tokio::spawn(keeper.run(stop.clone()));
        Self { view, stop, task }
    }

    /// The live nodes as this node sees them.
    pub fn view(&self) -> watch::Receiver<ClusterView> {
        self.view.clone()
    }

    /// Stops the task, giving the lease up, and waits for it.
    pub async fn stop(self) {
        self.stop.cancel();
        self.finished().await;
    }

    /// Waits for the task to end (after its stop token is cancelled).
    pub async fn finished(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the lease task ended abnormally");
        }
    }

    /// Ends the task at once without giving the lease up, as a crash would (for tests).
    pub fn abort(&self) {
        self.task.abort();
    }
}

struct Keeper {
    store: SharedStore,
    claim: NodeClaim,
    report: watch::Receiver<NodeReport>,
    timing: LeaseTiming,
    view: watch::Sender<ClusterView>,
    held: Option<NodeLease>,
    /// The holding of another node that has this node's name, once told.
    clash: Option<LeaseEpoch>,
}

impl Keeper {
    async fn run(mut self, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(self.timing.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticks.tick() => {}
            }
            let now = app::store::now();
            self.keep(now).await;
            self.look(now).await;
        }
        self.release().await;
    }

    fn ttl(&self) -> time::Duration {
        time::Duration::try_from(self.timing.ttl).unwrap_or(time::Duration::seconds(5))
    }

    async fn keep(&mut self, now: time::OffsetDateTime) {
        let report = *self.report.borrow();
        let name = &self.claim.name;
        let Some(held) = &self.held else {
            match self.store.claim_node_lease(&self.claim, report, now, self.ttl()).await {
                Ok(NodeClaimed::Held(lease)) => {
                    tracing::info!(node = %name, epoch = %lease.epoch, relay = %lease.claim.relay_url, "took the node's lease");
                    self.note(format!("node {name} took its lease (epoch {})", lease.epoch)).await;
                    self.held = Some(lease);
                    self.clash = None;
                }
                Ok(NodeClaimed::NameInUse(other)) if self.clash != Some(other.epoch) => {
                    tracing::error!(node = %name, relay = %other.claim.relay_url, "another live node holds this node's name; waiting for its lease to lapse");
                    self.note(format!(
                        "node {name}: another live node ({}) holds the name — give each host its own FANOUT_NODE_NAME",
                        other.claim.relay_url
                    ))
                    .await;
                    self.clash = Some(other.epoch);
                }
                Ok(NodeClaimed::NameInUse(_)) => {}
                Err(error) => tracing::warn!(node = %name, %error, "could not take the node's lease"),
            }
            return;
        };
        match self.store.renew_node_lease(name, held.epoch, report, now, self.ttl()).await {
            Ok(Some(lease)) => self.held = Some(lease),
            Ok(None) => self.lost("it lapsed or was taken anew").await,
            Err(error) if held.expires_at <= now => self.lost(&format!("the store could not renew it in time: {error}")).await,
            Err(error) => tracing::warn!(node = %name, %error, "could not renew the node's lease; trying again"),
        }
    }

    async fn lost(&mut self, why: &str) {
        let epoch = self.held.take().map(|l| l.epoch);
        let name = &self.claim.name;
        tracing::warn!(node = %name, epoch = ?epoch.map(|e| e.0), why, "lost the node's lease; taking it anew");
        self.note(format!("node {name} lost its lease: {why}")).await;
    }

    async fn look(&mut self, now: time::OffsetDateTime) {
        let nodes = match self.store.live_nodes(now).await {
            Ok(nodes) => nodes,
            Err(error) => {
                tracing::warn!(%error, "could not list the cluster's nodes");
                return;
            }
        };
        let next = ClusterView { me: self.held.clone(), nodes };
        self.view.send_if_modified(|view| {
            let changed = view.shape() != next.shape();
            if changed {
                *view = next;
            }
            changed
        });
    }

    async fn release(&mut self) {
        let Some(held) = self.held.take() else { return };
        match self.store.release_node_lease(&self.claim.name, held.epoch, app::store::now()).await {
            Ok(true) => tracing::info!(node = %self.claim.name, "gave the node's lease up"),
            Ok(false) => tracing::warn!(node = %self.claim.name, "the node's lease was already gone at shutdown"),
            Err(error) => tracing::warn!(node = %self.claim.name, %error, "could not give the node's lease up; it lapses by itself"),
        }
        self.view.send_modify(|view| view.me = None);
    }

    async fn note(&self, message: String) {
        app::store::note(self.store.as_ref(), NewEvent::now(EventKind::NodeLease, message)).await;
    }
}

/// The lease task for a node's settings, sharing `store`.
pub fn start(
    store: SharedStore,
    settings: &crate::config::NodeSettings,
    stop: CancellationToken,
) -> (LeaseKeeper, watch::Sender<NodeReport>) {
    let (report, reports) = watch::channel(NodeReport::default());
    let keeper = LeaseKeeper::spawn(store, settings.claim(), reports, LeaseTiming::default(), stop);
    (keeper, report)
}

#[cfg(test)]
mod tests;
