use app::dashboard::{DestinationRow, LiveSummary};
use app::model::{AccountId, DestinationKind};

use super::*;

fn id(n: u8) -> DestinationId {
    DestinationId::Account(AccountId::from_stored(format!("acc-{n}")))
}

fn row(n: u8, state: DestinationState, bps: u64, reconnects: u32) -> DestinationRow {
    DestinationRow {
        id: id(n),
        name: format!("Volunteer {n}"),
        kind: DestinationKind::Restream,
        channels: vec![],
        titles: None,
        state,
        bitrate_bps: bps,
        bytes_sent: 0,
        reconnects,
        skips: 0,
        last_error: None,
        received: None,
        flag: None,
    }
}

fn status(video: &str, phase: LiveState, rows: Vec<DestinationRow>) -> DashboardStatus {
    let live = LiveSummary { video_id: VideoId(video.into()), title: "Day 12".into(), phase, ..LiveSummary::default() };
    DashboardStatus { live: Some(live), destinations: rows, ..DashboardStatus::default() }
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or_else(|e| panic!("{e}"))
}

/// Observes `status` every half second (as the engine publishes) from `from` for `secs`;
/// what was recorded.
fn run(sampler: &mut Sampler, from: OffsetDateTime, secs: i64, status: impl Fn(OffsetDateTime) -> DashboardStatus) -> Vec<Record> {
    (0..secs * 2)
        .flat_map(|half| {
            let at = from + Duration::milliseconds(500 * half);
            sampler.observe(&status(at), at)
        })
        .collect()
}

fn samples(records: &[Record]) -> Vec<&LiveSample> {
    records.iter().filter_map(|r| r.sample.as_ref()).collect()
}

#[test]
fn a_live_is_sampled_once_every_ten_seconds_from_its_first_status() {
    let mut sampler = Sampler::default();
    let two = |_| {
        status(
            "v1",
            LiveState::Streaming,
            vec![row(1, DestinationState::Streaming, 1_000_000, 0), row(2, DestinationState::Retrying, 0, 0)],
        )
    };
    let records = run(&mut sampler, t0(), 60, two);
    let times: Vec<i64> = samples(&records).iter().map(|s| (s.at - t0()).whole_seconds()).collect();
    assert_eq!(times, [0, 10, 20, 30, 40, 50]);
    let first = samples(&records)[0];
    assert_eq!((first.streaming, first.destinations, first.egress_bps, first.reconnects), (1, 2, 1_000_000, 0));
    assert!(records.iter().all(|r| r.video_id == VideoId("v1".into())));
    // The live is over: its last moment is the last sample, so the report reaches its end.
    let end = sampler.observe(&DashboardStatus::default(), t0() + Duration::seconds(60));
    let last: Vec<i128> = samples(&end).iter().map(|s| (s.at - t0()).whole_milliseconds()).collect();
    assert_eq!(last, [59_500]);
    assert!(sampler.observe(&DashboardStatus::default(), t0() + Duration::seconds(61)).is_empty(), "then nothing");
}

#[test]
fn a_reconnect_is_counted_once_in_the_sample_after_it_and_in_its_destinations_tally() {
    let mut sampler = Sampler::default();
    // The relay's counter goes to 1 at 12 s and stays there.
    let reconnecting = |at: OffsetDateTime| {
        let reconnects = u32::from(at - t0() >= Duration::seconds(12));
        status(
            "v1",
            LiveState::Streaming,
            vec![row(1, DestinationState::Streaming, 900_000, reconnects), row(2, DestinationState::Streaming, 1, 0)],
        )
    };
    let records = run(&mut sampler, t0(), 40, reconnecting);
    let counted: Vec<u32> = samples(&records).iter().map(|s| s.reconnects).collect();
    assert_eq!(counted, [0, 0, 1, 0], "in the sample at 20 s only");
    let total: u32 = records.iter().flat_map(|r| &r.tallies).filter(|t| t.id == id(1)).map(|t| t.reconnects).sum();
    assert_eq!(total, 1);
    // It left the live and joined again: the relay's counter starts over, and what is on it is new.
    let again = |reconnects| status("v1", LiveState::Streaming, vec![row(1, DestinationState::Streaming, 900_000, reconnects)]);
    let at_41 = sampler.observe(&again(0), t0() + Duration::seconds(41));
    assert_eq!(at_41.first().and_then(|r| r.sample.as_ref()).map(|s| s.reconnects), Some(0), "the sample due at 40 s");
    assert!(sampler.observe(&again(1), t0() + Duration::seconds(45)).is_empty(), "not due yet");
    let at_50 = sampler.observe(&again(1), t0() + Duration::seconds(50));
    assert_eq!(at_50.first().and_then(|r| r.sample.as_ref()).map(|s| s.reconnects), Some(1));
}

#[test]
fn samples_stop_at_the_cap_and_tallies_go_on() {
    let mut sampler = Sampler::with_cap(3);
    let failing = |_| status("v1", LiveState::Streaming, vec![row(1, DestinationState::Retrying, 0, 0)]);
    let records = run(&mut sampler, t0(), 60, failing);
    assert_eq!(samples(&records).len(), 3);
    let down: u32 = records.iter().flat_map(|r| &r.tallies).map(|t| t.down_secs).sum();
    assert_eq!(down, 50, "down from its first sight to the last record at 50 s");
    let last = sampler.finish().unwrap_or_else(|| panic!("the last half second or so is still to record"));
    assert_eq!(last.tallies.iter().map(|t| t.down_secs).sum::<u32>(), 9);
    assert_eq!(sampler.finish(), None);
}

#[test]
fn slate_and_grace_mark_the_sample_after_them_and_downtime_counts_only_while_media_flows() {
    let mut sampler = Sampler::default();
    let phases = |at: OffsetDateTime| {
        let s = (at - t0()).whole_seconds();
        let phase = match s {
            0..10 => LiveState::Preparing,
            22..25 => LiveState::Grace,
            _ => LiveState::Streaming,
        };
        let mut status = status("v1", phase, vec![row(1, DestinationState::Connecting, 0, 0)]);
        status.input_slate = (14..15).contains(&s);
        status
    };
    let records = run(&mut sampler, t0(), 31, phases);
    let marks: Vec<(bool, bool)> = samples(&records).iter().map(|s| (s.slate, s.grace)).collect();
    assert_eq!(marks, [(false, false), (false, false), (true, false), (false, true)]);
    let down: u32 = records.iter().flat_map(|r| &r.tallies).map(|t| t.down_secs).sum();
    assert_eq!(down, 17, "connecting from 10 s (streaming) to the sample at 30 s; not while preparing nor in the grace");
}

#[test]
fn the_lowest_bitrate_is_taken_while_streaming_from_one_sample_to_the_next() {
    let mut sampler = Sampler::default();
    let ramp = |at: OffsetDateTime| {
        let s = (at - t0()).whole_seconds();
        let (state, bps) = match s {
            0..5 => (DestinationState::Connecting, 0),
            5..15 => (DestinationState::Streaming, 100_000), // just connected: not counted at 10 s
            15..25 => (DestinationState::Streaming, 800_000),
            _ => (DestinationState::Streaming, 1_500_000),
        };
        status("v1", LiveState::Streaming, vec![row(1, state, bps, 0)])
    };
    let records = run(&mut sampler, t0(), 41, ramp);
    let lowest = records.iter().flat_map(|r| &r.tallies).filter_map(|t| t.lowest_bps).min();
    assert_eq!(lowest, Some(800_000));
}

#[test]
fn a_missed_sample_is_skipped_not_made_up() {
    let mut sampler = Sampler::default();
    let one = status("v1", LiveState::Streaming, vec![row(1, DestinationState::Streaming, 1, 0)]);
    assert!(sampler.observe(&one, t0())[0].sample.is_some());
    // Nothing observed for 35 s (a stalled store write): one sample now, the next 10 s on.
    let late = sampler.observe(&one, t0() + Duration::seconds(35));
    assert_eq!(late.len(), 1);
    assert!(sampler.observe(&one, t0() + Duration::seconds(40)).is_empty());
    assert_eq!(sampler.observe(&one, t0() + Duration::seconds(45)).len(), 1);
}

#[test]
fn a_new_live_closes_the_one_before_with_its_last_moment_and_tallies() {
    let mut sampler = Sampler::default();
    let first = status("v1", LiveState::Streaming, vec![row(1, DestinationState::Retrying, 0, 0)]);
    sampler.observe(&first, t0());
    sampler.observe(&first, t0() + Duration::seconds(3));
    let next = sampler.observe(&status("v2", LiveState::Preparing, vec![]), t0() + Duration::seconds(4));
    assert_eq!(next.len(), 2);
    let last_of_v1 = next[0].sample.as_ref().map(|s| s.at);
    assert_eq!((next[0].video_id.0.as_str(), last_of_v1, next[0].tallies[0].down_secs), ("v1", Some(t0() + Duration::seconds(3)), 3));
    assert_eq!((next[1].video_id.0.as_str(), next[1].sample.as_ref().map(|s| s.destinations)), ("v2", Some(0)));
}
