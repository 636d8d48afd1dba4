//! What a live's report records — pure: [`Sampler::observe`] takes each `DashboardStatus` the
//! engine publishes, with the time, and says what to store: one [`LiveSample`] every
//! [`SAMPLE_EVERY`] (at most [`SAMPLES_PER_LIVE`] per live; a sample whose time passed while
//! nothing was observed is skipped, not made up), and with it each destination's
//! [`DestinationTally`] increments since the last one. No clock, no store: the caller brings
//! both.

use std::collections::HashMap;

use app::dashboard::DashboardStatus;
use app::model::{DestinationId, DestinationState, LiveState, VideoId};
use app::store::{DestinationTally, LiveSample};
use time::{Duration, OffsetDateTime};

/// How often a live is sampled (the one place this is said).
pub const SAMPLE_EVERY: Duration = Duration::seconds(10);
/// The most samples kept per live: 24 hours at [`SAMPLE_EVERY`]. A longer live's report ends
/// there; its destinations' tallies go on to the end.
pub const SAMPLES_PER_LIVE: u32 = 8640;
/// The longest time between two observations counted as time a destination spent down: the
/// engine publishes twice a second, so a longer gap means nothing was watched (a stalled or
/// suspended process), and nothing is known of it.
const LONGEST_GAP: Duration = Duration::seconds(5);

/// What to store after an observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The live it belongs to.
    pub video_id: VideoId,
    /// A sample, when one is due.
    pub sample: Option<LiveSample>,
    /// Increments of destinations' tallies (each destination at least once, then whenever
    /// something was added).
    pub tallies: Vec<DestinationTally>,
}

/// One destination as the sampler follows it.
#[derive(Debug)]
struct Followed {
    name: String,
    /// Its state at the last observation (`None` once it left the live).
    state: Option<DestinationState>,
    /// The relay's reconnect counter at the last observation.
    reconnects_seen: u32,
    /// Whether it streamed at the last sample.
    streamed_at_sample: bool,
    /// Down time not yet counted in whole seconds.
    down: Duration,
    /// What was added since the last record, and whether it was ever recorded.
    pending: DestinationTally,
    recorded: bool,
}

impl Followed {
    fn changed(&self) -> bool {
        !self.recorded || self.pending.down_secs > 0 || self.pending.reconnects > 0 || self.pending.lowest_bps.is_some()
    }
}

/// The live being sampled.
#[derive(Debug)]
struct Live {
    video_id: VideoId,
    next_at: OffsetDateTime,
    samples: u32,
    last_seen: OffsetDateTime,
    /// The moment of the last observation as a sample (its window's marks not filled in).
    last: LiveSample,
    /// When the last sample was taken.
    sampled_at: Option<OffsetDateTime>,
    /// Whether the live streamed (its input flowing) at the last observation.
    was_streaming: bool,
    reconnects: u32,
    slate: bool,
    grace: bool,
    destinations: HashMap<DestinationId, Followed>,
}

/// Follows the engine's status from one observation to the next.
#[derive(Debug, Default)]
pub struct Sampler {
    live: Option<Live>,
    cap: Option<u32>,
}

/// Whether a destination in `state` should be streaming and is not.
fn down(state: DestinationState) -> bool {
    matches!(state, DestinationState::Connecting | DestinationState::Retrying | DestinationState::Failed | DestinationState::NeedsReconnect)
}

impl Sampler {
    /// A sampler keeping at most `cap` samples per live (rather than [`SAMPLES_PER_LIVE`]).
    pub fn with_cap(cap: u32) -> Self {
        Self { live: None, cap: Some(cap) }
    }

    /// What `status`, observed at `now`, calls to store: nothing, a sample with its tallies,
    /// or (the live over, or another one begun) the last tallies of the live before.
    pub fn observe(&mut self, status: &DashboardStatus, now: OffsetDateTime) -> Vec<Record> {
        let mut records = Vec::new();
        let summary = status.live.as_ref().filter(|live| live.phase != LiveState::Ended);
        if self.live.as_ref().is_some_and(|live| summary.is_none_or(|s| s.video_id != live.video_id)) {
            records.extend(self.finish());
        }
        let Some(summary) = summary else { return records };
        let live = self.live.get_or_insert_with(|| Live {
            video_id: summary.video_id.clone(),
            next_at: now,
            samples: 0,
            last_seen: now,
            last: moment(status, now),
            sampled_at: None,
            was_streaming: false,
            reconnects: 0,
            slate: false,
            grace: false,
            destinations: HashMap::new(),
        });
        let gap = (now - live.last_seen).clamp(Duration::ZERO, LONGEST_GAP);
        for followed in live.destinations.values_mut() {
            if live.was_streaming && followed.state.is_some_and(down) {
                followed.down += gap;
                let whole = followed.down.whole_seconds();
                followed.pending.down_secs = followed.pending.down_secs.saturating_add(u32::try_from(whole).unwrap_or(u32::MAX));
                followed.down -= Duration::seconds(whole);
            }
            followed.state = None;
        }
        for row in &status.destinations {
            let followed = live.destinations.entry(row.id.clone()).or_insert_with(|| Followed {
                name: row.name.clone(),
                state: None,
                reconnects_seen: row.reconnects,
                streamed_at_sample: false,
                down: Duration::ZERO,
                pending: DestinationTally { id: row.id.clone(), name: row.name.clone(), down_secs: 0, reconnects: 0, lowest_bps: None },
                recorded: false,
            });
            // A counter lower than before was reset (the destination left and joined again):
            // everything on it is new.
            let added = if row.reconnects >= followed.reconnects_seen { row.reconnects - followed.reconnects_seen } else { row.reconnects };
            followed.reconnects_seen = row.reconnects;
            followed.pending.reconnects = followed.pending.reconnects.saturating_add(added);
            live.reconnects = live.reconnects.saturating_add(added);
            followed.state = Some(row.state);
            followed.name.clone_from(&row.name);
        }
        // Down time counts while media flows: not while the live waits for its input (at the
        // start, or in its grace), when no destination could stream.
        live.was_streaming = summary.phase == LiveState::Streaming;
        live.slate |= status.input_slate;
        live.grace |= summary.phase == LiveState::Grace;
        live.last_seen = now;
        live.last = moment(status, now);
        if now < live.next_at {
            return records;
        }
        // Due: the next one a period on, or — when a sample's time passed unobserved — a period
        // from now (the missed one is skipped).
        live.next_at = if now - live.next_at < SAMPLE_EVERY { live.next_at + SAMPLE_EVERY } else { now + SAMPLE_EVERY };
        let sample = take_sample(live, self.cap);
        for row in &status.destinations {
            if let Some(followed) = live.destinations.get_mut(&row.id) {
                let streaming = row.state == DestinationState::Streaming;
                if streaming && followed.streamed_at_sample {
                    followed.pending.lowest_bps = Some(followed.pending.lowest_bps.map_or(row.bitrate_bps, |low| low.min(row.bitrate_bps)));
                }
                followed.streamed_at_sample = streaming;
            }
        }
        let tallies = take_tallies(live);
        records.push(Record { video_id: live.video_id.clone(), sample, tallies });
        records
    }

    /// What is not yet recorded of the live followed (when the recorder stops, or the live
    /// ends): its last moment as a sample, so the report reaches its end, and the tallies; the
    /// sampler then follows nothing.
    pub fn finish(&mut self) -> Option<Record> {
        let mut live = self.live.take()?;
        let sample = if live.sampled_at.is_some_and(|at| at >= live.last.at) { None } else { take_sample(&mut live, self.cap) };
        let tallies = take_tallies(&mut live);
        (sample.is_some() || !tallies.is_empty()).then_some(Record { video_id: live.video_id, sample, tallies })
    }
}

/// The status at `now` as a sample, before its window's reconnects, slate and grace.
fn moment(status: &DashboardStatus, now: OffsetDateTime) -> LiveSample {
    LiveSample {
        at: now,
        streaming: count(status.destinations.iter().filter(|d| d.state == DestinationState::Streaming).count()),
        destinations: count(status.destinations.len()),
        egress_bps: status.egress_bps(),
        reconnects: 0,
        slate: false,
        grace: false,
    }
}

/// The live's last moment as a sample with its window's marks (`None` past the cap); the
/// window starts again.
fn take_sample(live: &mut Live, cap: Option<u32>) -> Option<LiveSample> {
    let sample = (live.samples < cap.unwrap_or(SAMPLES_PER_LIVE)).then(|| LiveSample {
        reconnects: live.reconnects,
        slate: live.slate,
        grace: live.grace,
        ..live.last.clone()
    });
    live.samples += u32::from(sample.is_some());
    live.sampled_at = Some(live.last.at);
    (live.reconnects, live.slate, live.grace) = (0, false, false);
    sample
}

/// The tallies that changed since the last record, sorted by destination; each starts again.
fn take_tallies(live: &mut Live) -> Vec<DestinationTally> {
    let mut tallies: Vec<DestinationTally> = live
        .destinations
        .values_mut()
        .filter(|followed| followed.changed())
        .map(|followed| {
            followed.recorded = true;
            let fresh =
                DestinationTally { name: followed.name.clone(), down_secs: 0, reconnects: 0, lowest_bps: None, ..followed.pending.clone() };
            let mut taken = std::mem::replace(&mut followed.pending, fresh);
            taken.name.clone_from(&followed.name);
            taken
        })
        .collect();
    tallies.sort_by(|a, b| a.id.cmp(&b.id));
    tallies
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
