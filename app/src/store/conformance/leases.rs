//! The conformance cases of a cluster's leases: node leases and the ingest lease, their
//! compare-and-set rules and their races, on every backend. The clock is the test's.

use time::{Duration, OffsetDateTime};

use super::{ok, run_mongo, run_sqlite};
use crate::model::NodeName;
use crate::store::*;

conformance!(
    node_leases_are_claimed_renewed_listed_and_released,
    a_live_node_name_is_not_taken_twice,
    a_lapsed_node_lease_is_taken_anew_and_its_old_holder_cannot_renew,
    concurrent_claims_of_one_node_name_make_one_holder,
    the_ingest_lease_is_acquired_renewed_and_released_with_growing_epochs,
    nodes_acquiring_the_ingest_at_once_make_exactly_one_holder,
    a_lapsed_ingest_holder_cannot_renew_after_another_took_it,
    a_lease_lapses_at_its_expiry_even_when_no_one_took_it,
    a_lease_without_a_positive_time_to_live_is_refused,
);

const TTL: Duration = Duration::seconds(5);

/// A fixed start (whole milliseconds, as the store keeps them).
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap_or_else(|e| panic!("t0: {e}"))
}

fn name(text: &str) -> NodeName {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn claim(node: &str) -> NodeClaim {
    NodeClaim { name: name(node), relay_url: format!("rtmp://{node}.example:1935/fanout"), capacity_mbps: 1000 }
}

fn held(claimed: NodeClaimed) -> NodeLease {
    match claimed {
        NodeClaimed::Held(lease) => lease,
        NodeClaimed::NameInUse(lease) => panic!("the name is held by {lease:?}"),
    }
}

fn acquired(outcome: IngestAcquired) -> IngestLease {
    match outcome {
        IngestAcquired::Acquired(lease) => lease,
        IngestAcquired::HeldBy(lease) => panic!("the ingest is held by {lease:?}"),
    }
}

fn names(leases: &[NodeLease]) -> Vec<&str> {
    leases.iter().map(|l| l.name().as_str()).collect()
}

async fn node_leases_are_claimed_renewed_listed_and_released(store: SharedStore) {
    let report = NodeReport::default();
    let b = held(ok(store.claim_node_lease(&claim("node-b"), report, t0(), TTL)).await);
    let a = held(ok(store.claim_node_lease(&claim("node-a"), report, t0(), TTL)).await);
    assert_eq!(a.epoch, LeaseEpoch(1), "a name's first holding is epoch 1");
    assert_eq!((a.started_at, a.renewed_at, a.expires_at), (t0(), t0(), t0() + TTL));
    assert_eq!(a.claim, claim("node-a"), "the claim is kept as given");
    assert_eq!(names(&ok(store.live_nodes(t0())).await), ["node-a", "node-b"], "listed by name");

    let later = t0() + Duration::seconds(2);
    let busy = NodeReport { links: 3, egress_kbps: 18_000 };
    let renewed = ok(store.renew_node_lease(a.name(), a.epoch, busy, later, TTL)).await;
    let renewed = renewed.unwrap_or_else(|| panic!("a live holder renews its own lease"));
    assert_eq!((renewed.report, renewed.epoch, renewed.started_at), (busy, a.epoch, t0()));
    assert_eq!((renewed.renewed_at, renewed.expires_at), (later, later + TTL));
    assert_eq!(ok(store.renew_node_lease(a.name(), LeaseEpoch(2), busy, later, TTL)).await, None, "another epoch renews nothing");
    assert_eq!(ok(store.renew_node_lease(&name("node-z"), LeaseEpoch(1), busy, later, TTL)).await, None, "nor an unknown name");

    assert!(ok(store.release_node_lease(a.name(), a.epoch, later)).await, "a clean shutdown gives the lease up");
    assert!(!ok(store.release_node_lease(a.name(), a.epoch, later)).await, "once");
    assert_eq!(names(&ok(store.live_nodes(later)).await), ["node-b"]);
    assert_eq!(ok(store.renew_node_lease(a.name(), a.epoch, busy, later, TTL)).await, None, "a released lease is not renewed");
    let again = held(ok(store.claim_node_lease(&claim("node-a"), report, later, TTL)).await);
    assert_eq!(again.epoch, LeaseEpoch(2), "taken anew after its release: the next epoch");
    assert_eq!(b.epoch, LeaseEpoch(1));
}

async fn a_live_node_name_is_not_taken_twice(store: SharedStore) {
    let first = held(ok(store.claim_node_lease(&claim("node-a"), NodeReport::default(), t0(), TTL)).await);
    let mut impostor = claim("node-a");
    impostor.relay_url = "rtmp://elsewhere.example/fanout".into();
    let second = ok(store.claim_node_lease(&impostor, NodeReport::default(), t0() + Duration::seconds(4), TTL)).await;
    assert_eq!(second, NodeClaimed::NameInUse(first.clone()), "the second claim is told who holds the name");
    assert_eq!(ok(store.live_nodes(t0())).await, vec![first], "and changes nothing");
}

async fn a_lapsed_node_lease_is_taken_anew_and_its_old_holder_cannot_renew(store: SharedStore) {
    let report = NodeReport::default();
    let old = held(ok(store.claim_node_lease(&claim("node-a"), report, t0(), TTL)).await);
    let lapsed = t0() + TTL;
    assert!(ok(store.live_nodes(lapsed)).await.is_empty(), "a lease is gone at its expiry");
    let new = held(ok(store.claim_node_lease(&claim("node-a"), report, lapsed, TTL)).await);
    assert_eq!(new.epoch, LeaseEpoch(2));
    assert_eq!(new.started_at, lapsed, "a new holding starts anew");
    // The old holder wakes up, its clock behind: its epoch is over all the same.
    assert_eq!(ok(store.renew_node_lease(old.name(), old.epoch, report, t0() + Duration::seconds(1), TTL)).await, None);
    assert!(!ok(store.release_node_lease(old.name(), old.epoch, lapsed)).await, "nor can it give the new holding up");
    assert!(ok(store.renew_node_lease(new.name(), new.epoch, report, lapsed, TTL)).await.is_some());
}

async fn concurrent_claims_of_one_node_name_make_one_holder(store: SharedStore) {
    let (first, second) = (claim("node-a"), claim("node-a"));
    let (left, right) = tokio::join!(
        store.claim_node_lease(&first, NodeReport::default(), t0(), TTL),
        store.claim_node_lease(&second, NodeReport::default(), t0(), TTL),
    );
    let outcomes = [left.unwrap_or_else(|e| panic!("{e}")), right.unwrap_or_else(|e| panic!("{e}"))];
    let holders = outcomes.iter().filter(|o| matches!(o, NodeClaimed::Held(_))).count();
    assert_eq!(holders, 1, "exactly one claim holds the name: {outcomes:?}");
    assert_eq!(ok(store.live_nodes(t0())).await.len(), 1);
}

async fn the_ingest_lease_is_acquired_renewed_and_released_with_growing_epochs(store: SharedStore) {
    let (a, b) = (name("node-a"), name("node-b"));
    assert_eq!(ok(store.ingest_lease(t0())).await, None, "nobody holds a new cluster's ingest");
    let lease = acquired(ok(store.acquire_ingest_lease(&a, t0(), TTL)).await);
    assert_eq!((lease.holder.clone(), lease.epoch, lease.expires_at), (a.clone(), LeaseEpoch(1), t0() + TTL));
    assert_eq!(ok(store.acquire_ingest_lease(&b, t0(), TTL)).await, IngestAcquired::HeldBy(lease.clone()));
    assert_eq!(ok(store.acquire_ingest_lease(&a, t0(), TTL)).await, IngestAcquired::HeldBy(lease.clone()), "held is held, even by me");

    let later = t0() + Duration::seconds(3);
    let renewed = ok(store.renew_ingest_lease(&a, lease.epoch, later, TTL)).await;
    assert_eq!(renewed.as_ref().map(|l| (l.epoch, l.acquired_at, l.expires_at)), Some((lease.epoch, t0(), later + TTL)));
    assert_eq!(ok(store.renew_ingest_lease(&b, lease.epoch, later, TTL)).await, None, "only the holder renews");
    assert_eq!(ok(store.renew_ingest_lease(&a, LeaseEpoch(7), later, TTL)).await, None, "under its own epoch");
    assert!(!ok(store.release_ingest_lease(&b, lease.epoch, later)).await, "nor does another give it up");

    assert!(ok(store.release_ingest_lease(&a, lease.epoch, later)).await);
    assert_eq!(ok(store.ingest_lease(later)).await, None, "released: free at once");
    let next = acquired(ok(store.acquire_ingest_lease(&b, later, TTL)).await);
    assert_eq!((next.holder, next.epoch), (b, LeaseEpoch(2)), "the epoch outlives a release");
}

async fn nodes_acquiring_the_ingest_at_once_make_exactly_one_holder(store: SharedStore) {
    let (a, b) = (name("node-a"), name("node-b"));
    let (left, right) = tokio::join!(store.acquire_ingest_lease(&a, t0(), TTL), store.acquire_ingest_lease(&b, t0(), TTL));
    let outcomes = [left.unwrap_or_else(|e| panic!("{e}")), right.unwrap_or_else(|e| panic!("{e}"))];
    let winners: Vec<&IngestLease> =
        outcomes.iter().filter_map(|o| if let IngestAcquired::Acquired(l) = o { Some(l) } else { None }).collect();
    assert_eq!(winners.len(), 1, "exactly one of two wins: {outcomes:?}");
    let winner = winners[0].clone();
    assert!(outcomes.contains(&IngestAcquired::HeldBy(winner.clone())), "and the other is told who won");

    // Eight nodes on their own tasks at a lapse: one wins, under the next epoch.
    let lapsed = t0() + TTL;
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.acquire_ingest_lease(&name(&format!("racer-{i}")), lapsed, TTL).await })
        })
        .collect();
    let mut won = Vec::new();
    for racer in racers {
        match racer.await.unwrap_or_else(|e| panic!("racer: {e}")).unwrap_or_else(|e| panic!("{e}")) {
            IngestAcquired::Acquired(lease) => won.push(lease),
            IngestAcquired::HeldBy(lease) => assert_eq!(lease.epoch, LeaseEpoch(2), "the losers see the winner's holding"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one of eight wins: {won:?}");
    assert_eq!(won[0].epoch, LeaseEpoch(2));
    assert_eq!(ok(store.ingest_lease(lapsed)).await, Some(won[0].clone()));
}

async fn a_lapsed_ingest_holder_cannot_renew_after_another_took_it(store: SharedStore) {
    let (a, b) = (name("node-a"), name("node-b"));
    let old = acquired(ok(store.acquire_ingest_lease(&a, t0(), TTL)).await);
    let lapsed = t0() + TTL + Duration::milliseconds(1);
    let new = acquired(ok(store.acquire_ingest_lease(&b, lapsed, TTL)).await);
    assert_eq!(new.epoch, LeaseEpoch(2));
    assert_eq!(ok(store.renew_ingest_lease(&a, old.epoch, lapsed, TTL)).await, None, "the old holder's renewal fails");
    // Even with its clock behind, when its lease would still look live to it.
    assert_eq!(ok(store.renew_ingest_lease(&a, old.epoch, t0() + Duration::seconds(1), TTL)).await, None);
    assert!(!ok(store.release_ingest_lease(&a, old.epoch, lapsed)).await);
    assert_eq!(ok(store.ingest_lease(lapsed)).await, Some(new));
}

async fn a_lease_lapses_at_its_expiry_even_when_no_one_took_it(store: SharedStore) {
    let a = name("node-a");
    let ingest = acquired(ok(store.acquire_ingest_lease(&a, t0(), TTL)).await);
    let node = held(ok(store.claim_node_lease(&claim("node-a"), NodeReport::default(), t0(), TTL)).await);
    let just_before = t0() + TTL - Duration::milliseconds(1);
    assert!(ok(store.ingest_lease(just_before)).await.is_some());
    assert_eq!(ok(store.live_nodes(just_before)).await.len(), 1);
    let at = t0() + TTL;
    assert_eq!(ok(store.ingest_lease(at)).await, None, "lapsed at its expiry");
    assert!(ok(store.live_nodes(at)).await.is_empty());
    assert_eq!(ok(store.renew_ingest_lease(&a, ingest.epoch, at, TTL)).await, None, "a lapse is a loss: take it anew");
    assert_eq!(ok(store.renew_node_lease(&a, node.epoch, NodeReport::default(), at, TTL)).await, None);
    assert_eq!(acquired(ok(store.acquire_ingest_lease(&a, at, TTL)).await).epoch, LeaseEpoch(2), "under a new epoch");
}

async fn a_lease_without_a_positive_time_to_live_is_refused(store: SharedStore) {
    let refused = store.acquire_ingest_lease(&name("node-a"), t0(), Duration::ZERO).await;
    assert!(matches!(refused, Err(StoreError::LeaseTerm(_))), "{refused:?}");
    let refused = store.claim_node_lease(&claim("node-a"), NodeReport::default(), t0(), Duration::seconds(-1)).await;
    assert!(matches!(refused, Err(StoreError::LeaseTerm(_))), "{refused:?}");
    assert_eq!(ok(store.ingest_lease(t0())).await, None, "and nothing is written");
}
