//! The recorder of lives' reports: a task beside the engine that follows its status (the
//! `watch` channel the dashboard reads) and stores what [`sampler::Sampler`] — pure — says to:
//! a sample every [`sampler::SAMPLE_EVERY`] and the destinations' tallies. It only reads the
//! channel, so the engine never waits for it; a store that fails is logged and the sample is
//! lost, a slow one makes the next samples late (each skipped rather than made up).

pub mod sampler;

use app::dashboard::DashboardStatus;
use app::store::{SharedStore, now};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use sampler::{Record, SAMPLES_PER_LIVE, Sampler};

/// How often the status is looked at when it does not change (a sample still falls due).
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Follows `status` until `stop` (or the engine's end), storing each live's samples and tallies.
pub async fn record(store: SharedStore, mut status: watch::Receiver<DashboardStatus>, stop: CancellationToken) {
    let mut sampler = Sampler::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let ended = tokio::select! {
            () = stop.cancelled() => true,
            changed = status.changed() => changed.is_err(),
            _ = tick.tick() => false,
        };
        if ended {
            break;
        }
        // Cloned so the channel is never held across a store call.
        let seen = status.borrow_and_update().clone();
        for record in sampler.observe(&seen, now()) {
            store_record(&store, record).await;
        }
    }
    if let Some(record) = sampler.finish() {
        store_record(&store, record).await;
    }
}

/// Stores one record; a failure is logged, never fatal.
async fn store_record(store: &SharedStore, record: Record) {
    if let Some(sample) = &record.sample {
        match store.add_live_sample(&record.video_id, sample, SAMPLES_PER_LIVE).await {
            Ok(true) => {}
            Ok(false) => tracing::debug!(video = %record.video_id, "the live has all the samples it keeps"),
            Err(error) => tracing::warn!(%error, video = %record.video_id, "could not store a sample of the live; it is lost"),
        }
    }
    if !record.tallies.is_empty()
        && let Err(error) = store.add_destination_tallies(&record.video_id, &record.tallies).await
    {
        tracing::warn!(%error, video = %record.video_id, "could not store the destinations' tallies; these are lost");
    }
}
