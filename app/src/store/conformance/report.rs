//! The conformance cases of a live's report: samples kept up to their cap, oldest first, one
//! per time; destinations' tallies added up across calls (and forgotten with their volunteer).

use time::Duration;

use super::{cipher, ok, upsert};
use crate::model::{DestinationId, DirectId};
use crate::store::*;

fn sample(at: OffsetDateTime, streaming: u32) -> LiveSample {
    LiveSample { at, streaming, destinations: 3, egress_bps: 4_500_000_000, reconnects: 1, slate: streaming == 0, grace: false }
}

pub(super) async fn live_samples_are_kept_up_to_their_cap_oldest_first(store: SharedStore) {
    let live = VideoId("report-samples".into());
    let other = VideoId("report-other".into());
    let t0 = now();
    // Stored out of order: read back by time.
    for (i, streaming) in [(2, 2), (0, 3), (1, 0)] {
        assert!(ok(store.add_live_sample(&live, &sample(t0 + Duration::seconds(10 * i), streaming), 3)).await);
    }
    assert!(!ok(store.add_live_sample(&live, &sample(t0 + Duration::seconds(30), 1), 3)).await, "the cap is reached");
    // A sample again at a time already stored replaces it, cap or not.
    let replaced = LiveSample { grace: true, ..sample(t0 + Duration::seconds(20), 1) };
    assert!(ok(store.add_live_sample(&live, &replaced, 3)).await);
    assert!(ok(store.add_live_sample(&other, &sample(t0, 1), 3)).await, "the cap is per live");
    let read = ok(store.live_samples(&live)).await;
    assert_eq!(read, vec![sample(t0, 3), sample(t0 + Duration::seconds(10), 0), replaced]);
    assert_eq!(ok(store.live_samples(&other)).await.len(), 1);
    assert!(ok(store.live_samples(&VideoId("none".into()))).await.is_empty());
}

pub(super) async fn destination_tallies_add_up_and_keep_the_lowest_bitrate(store: SharedStore) {
    let live = VideoId("report-tallies".into());
    let ana = DestinationId::Account(AccountId::from_stored("acc-ana"));
    let direct = DestinationId::Direct(DirectId::from_stored("d1"));
    let tally = |id: &DestinationId, name: &str, down_secs, reconnects, lowest_bps| DestinationTally {
        id: id.clone(),
        name: name.into(),
        down_secs,
        reconnects,
        lowest_bps,
    };
    ok(store.add_destination_tallies(&live, &[tally(&ana, "Ana", 10, 1, None), tally(&direct, "Studio", 0, 0, Some(2_000_000))])).await;
    ok(store.add_destination_tallies(&live, &[tally(&ana, "Ana R.", 5, 2, Some(900_000))])).await;
    ok(store.add_destination_tallies(&live, &[tally(&ana, "Ana R.", 0, 0, Some(1_200_000)), tally(&direct, "Studio", 3, 0, None)])).await;
    ok(store.add_destination_tallies(&live, &[])).await;
    let mut read = ok(store.destination_tallies(&live)).await;
    read.sort_by_key(|t| t.id.to_string());
    assert_eq!(read, vec![tally(&ana, "Ana R.", 15, 3, Some(900_000)), tally(&direct, "Studio", 3, 0, Some(2_000_000))]);
    assert!(ok(store.destination_tallies(&VideoId("none".into()))).await.is_empty());
}

pub(super) async fn forgetting_an_account_removes_its_tallies_from_reports(store: SharedStore) {
    let cipher = cipher();
    let ana = ok(store.upsert_account(upsert(8401, "ana", &cipher), now())).await.account().clone();
    let live = VideoId("report-forget".into());
    let direct = DestinationId::Direct(DirectId::from_stored("d2"));
    let of = |id: DestinationId| DestinationTally { id, name: "x".into(), down_secs: 1, reconnects: 1, lowest_bps: None };
    ok(store.add_destination_tallies(&live, &[of(DestinationId::Account(ana.id.clone())), of(direct.clone())])).await;
    ok(store.add_live_sample(&live, &sample(now(), 1), 10)).await;
    assert!(ok(store.forget_account(&ana.id)).await);
    let left: Vec<DestinationId> = ok(store.destination_tallies(&live)).await.into_iter().map(|t| t.id).collect();
    assert_eq!(left, vec![direct], "the volunteer's row is gone, the rest stays");
    assert_eq!(ok(store.live_samples(&live)).await.len(), 1, "samples name no one and stay");
}
