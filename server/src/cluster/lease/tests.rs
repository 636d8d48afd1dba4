use std::sync::Arc;
use std::time::{Duration, Instant};

use app::store::{EventQuery, SqliteStore};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::*;

/// A quick rhythm so a test waits tenths of a second, not seconds.
const QUICK: LeaseTiming = LeaseTiming { heartbeat: Duration::from_millis(50), ttl: Duration::from_millis(600) };

/// The longest a test waits for anything.
const DEADLINE: Duration = Duration::from_secs(10);

fn claim(name: &str) -> NodeClaim {
    NodeClaim { name: name.parse().unwrap_or_else(|e| panic!("{e}")), relay_url: format!("rtmp://{name}.test/fanout"), capacity_mbps: 100 }
}

/// Two stores on one SQLite file, as two processes of one host would have.
async fn one_file_two_stores() -> (tempfile::TempDir, SharedStore, SharedStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("fanout.db");
    let first = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("open: {e}"));
    let second = SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("open again: {e}"));
    (dir, Arc::new(first), Arc::new(second))
}

fn keep(store: &SharedStore, name: &str) -> LeaseKeeper {
    let (_report, reports) = watch::channel(NodeReport::default());
    LeaseKeeper::spawn(store.clone(), claim(name), reports, QUICK, CancellationToken::new())
}

/// The node-lease events, newest first.
fn lease_events() -> EventQuery {
    EventQuery { before: None, limit: 100, kind: Some(EventKind::NodeLease), account_id: None }
}

fn names(view: &ClusterView) -> Vec<&str> {
    view.nodes.iter().map(|n| n.name().as_str()).collect()
}

/// Waits until `view` satisfies `condition`, at most [`DEADLINE`]; how long it took.
async fn wait_for(view: &mut watch::Receiver<ClusterView>, what: &str, condition: impl FnMut(&ClusterView) -> bool) -> Duration {
    let start = Instant::now();
    let outcome = tokio::time::timeout(DEADLINE, view.wait_for(condition)).await.map(|r| r.is_ok());
    match outcome {
        Ok(true) => start.elapsed(),
        Ok(false) => panic!("the lease task ended before {what}"),
        Err(_) => panic!("{what}: not within {DEADLINE:?}; the view is {:?}", *view.borrow()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_store_see_each_other_and_a_stopped_one_vanishes_at_once() {
    let (_dir, first, second) = one_file_two_stores().await;
    let (a, b) = (keep(&first, "node-a"), keep(&second, "node-b"));
    let (mut seen_by_a, mut seen_by_b) = (a.view(), b.view());
    wait_for(&mut seen_by_a, "node-a sees both", |v| names(v) == ["node-a", "node-b"]).await;
    wait_for(&mut seen_by_b, "node-b sees both", |v| names(v) == ["node-a", "node-b"]).await;
    assert_eq!(seen_by_a.borrow().me.as_ref().map(|m| m.name().as_str()), Some("node-a"));

    a.stop().await;
    let gone = wait_for(&mut seen_by_b, "node-a vanishes from node-b's view", |v| names(v) == ["node-b"]).await;
    assert!(gone < QUICK.ttl, "a clean stop gives the lease up: gone in {gone:?}, within the TTL {:?}", QUICK.ttl);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_without_a_word_vanishes_within_the_ttl() {
    let (_dir, first, second) = one_file_two_stores().await;
    let (a, b) = (keep(&first, "node-a"), keep(&second, "node-b"));
    let mut seen_by_b = b.view();
    wait_for(&mut seen_by_b, "node-b sees both", |v| v.nodes.len() == 2).await;
    wait_for(&mut a.view(), "node-a holds its lease", |v| v.me.is_some()).await;
    a.abort();
    let gone = wait_for(&mut seen_by_b, "node-a's lease lapses", |v| names(v) == ["node-b"]).await;
    // Its TTL, then at most a heartbeat of node-b's and a store round (slack for a busy machine).
    assert!(gone <= QUICK.ttl + Duration::from_millis(300), "gone in {gone:?}: its TTL {:?} and a heartbeat", QUICK.ttl);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_is_said_and_taken_anew_under_the_next_epoch() {
    let (_dir, first, second) = one_file_two_stores().await;
    let a = keep(&first, "node-a");
    let mut view = a.view();
    wait_for(&mut view, "node-a holds its lease", |v| v.me.is_some()).await;
    let epoch = view.borrow().me.as_ref().map(|m| m.epoch).unwrap_or(LeaseEpoch(0));
    // Someone else ends the holding (as a lapse would, seen from the node).
    let name = claim("node-a").name;
    assert!(second.release_node_lease(&name, epoch, app::store::now()).await.unwrap_or(false));
    wait_for(&mut view, "node-a holds it again", |v| v.me.as_ref().is_some_and(|m| m.epoch > epoch)).await;
    let said = second.events(&lease_events()).await.unwrap_or_else(|e| panic!("{e}")).events;
    let lost = said.iter().filter(|e| e.event.kind == EventKind::NodeLease && e.event.message.contains("lost its lease")).count();
    assert_eq!(lost, 1, "the loss is one event: {said:?}");
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_with_the_same_name_waits_and_says_why() {
    let (_dir, first, second) = one_file_two_stores().await;
    let a = keep(&first, "node-a");
    wait_for(&mut a.view(), "node-a holds its lease", |v| v.me.is_some()).await;
    let twin = keep(&second, "node-a");
    let mut twin_view = twin.view();
    wait_for(&mut twin_view, "the twin sees the cluster", |v| v.nodes.len() == 1).await;
    assert_eq!(twin_view.borrow().me, None, "the name's holder is the first node");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let said = first.events(&lease_events()).await.unwrap_or_else(|e| panic!("{e}")).events;
        if said.iter().any(|e| e.event.kind == EventKind::NodeLease && e.event.message.contains("holds the name")) {
            break;
        }
        assert!(Instant::now() < deadline, "no event about the name: {said:?}");
        tokio::time::sleep(QUICK.heartbeat).await;
    }
    a.stop().await;
    wait_for(&mut twin_view, "the twin takes the name once it is free", |v| v.me.is_some()).await;
    twin.stop().await;
}
