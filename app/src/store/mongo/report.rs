//! The MongoDB half of a live's report: its samples (`live_samples`, at most a cap per live)
//! and its destinations' tallies (`live_destinations`, increments added with `$inc` and `$min`).

use futures::TryStreamExt;
use mongodb::bson::{DateTime as BsonDateTime, Document, doc};
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use super::docs::{date, undate};
use crate::store::{DestinationTally, LiveSample, StoreError, VideoId};

/// A sample's document; its `_id` is the live and the time, so a repeat replaces it.
#[derive(Debug, Serialize, Deserialize)]
struct SampleDoc {
    #[serde(rename = "_id")]
    id: String,
    video_id: String,
    at: BsonDateTime,
    streaming: u32,
    destinations: u32,
    egress_bps: i64,
    reconnects: u32,
    slate: bool,
    grace: bool,
}

/// A destination's tally in one live; its `_id` is the live and the destination.
#[derive(Debug, Serialize, Deserialize)]
struct TallyDoc {
    video_id: String,
    destination_id: String,
    name: String,
    #[serde(default)]
    down_secs: i64,
    #[serde(default)]
    reconnects: i64,
    #[serde(default)]
    lowest_bps: Option<i64>,
}

fn samples_of(db: &Database) -> Collection<SampleDoc> {
    db.collection("live_samples")
}

fn tallies_of(db: &Database) -> Collection<TallyDoc> {
    db.collection("live_destinations")
}

/// The collections' indexes.
pub(super) async fn create_indexes(db: &Database) -> Result<(), StoreError> {
    samples_of(db).create_index(IndexModel::builder().keys(doc! { "video_id": 1, "at": 1 }).build()).await?;
    tallies_of(db).create_index(IndexModel::builder().keys(doc! { "destination_id": 1 }).build()).await?;
    Ok(())
}

fn corrupt(what: &str, value: i64) -> StoreError {
    StoreError::Corrupt(format!("{what} is {value}"))
}

/// Adds a sample unless the live has `cap` already (a sample at the same time is replaced).
pub(super) async fn add_sample(db: &Database, video_id: &VideoId, sample: &LiveSample, cap: u32) -> Result<bool, StoreError> {
    let id = format!("{}/{}", video_id.0, date(sample.at).timestamp_millis());
    let samples = samples_of(db);
    let replacing = samples.find_one(doc! { "_id": &id }).await?.is_some();
    if !replacing && samples.count_documents(doc! { "video_id": &video_id.0 }).await? >= u64::from(cap) {
        return Ok(false);
    }
    let doc = SampleDoc {
        id: id.clone(),
        video_id: video_id.0.clone(),
        at: date(sample.at),
        streaming: sample.streaming,
        destinations: sample.destinations,
        egress_bps: i64::try_from(sample.egress_bps).unwrap_or(i64::MAX),
        reconnects: sample.reconnects,
        slate: sample.slate,
        grace: sample.grace,
    };
    samples.replace_one(doc! { "_id": &id }, doc).upsert(true).await?;
    Ok(true)
}

/// The live's samples, oldest first.
pub(super) async fn samples(db: &Database, video_id: &VideoId) -> Result<Vec<LiveSample>, StoreError> {
    let docs: Vec<SampleDoc> = samples_of(db).find(doc! { "video_id": &video_id.0 }).sort(doc! { "at": 1 }).await?.try_collect().await?;
    docs.into_iter()
        .map(|d| {
            Ok(LiveSample {
                at: undate(d.at, "at")?,
                streaming: d.streaming,
                destinations: d.destinations,
                egress_bps: u64::try_from(d.egress_bps).map_err(|_| corrupt("egress_bps", d.egress_bps))?,
                reconnects: d.reconnects,
                slate: d.slate,
                grace: d.grace,
            })
        })
        .collect()
}

/// Adds each tally to the live's.
pub(super) async fn add_tallies(db: &Database, video_id: &VideoId, tallies: &[DestinationTally]) -> Result<(), StoreError> {
    for tally in tallies {
        let destination = tally.id.to_string();
        let mut update = doc! {
            "$set": { "video_id": &video_id.0, "destination_id": &destination, "name": &tally.name },
            "$inc": { "down_secs": i64::from(tally.down_secs), "reconnects": i64::from(tally.reconnects) },
        };
        // `$min` only with a value: BSON orders null below every number, and would keep it.
        if let Some(lowest) = tally.lowest_bps {
            update.insert("$min", doc! { "lowest_bps": i64::try_from(lowest).unwrap_or(i64::MAX) });
        }
        let id = format!("{}/{destination}", video_id.0);
        db.collection::<Document>("live_destinations").update_one(doc! { "_id": id }, update).upsert(true).await?;
    }
    Ok(())
}

/// The live's tallies, by destination id.
pub(super) async fn tallies(db: &Database, video_id: &VideoId) -> Result<Vec<DestinationTally>, StoreError> {
    let docs: Vec<TallyDoc> =
        tallies_of(db).find(doc! { "video_id": &video_id.0 }).sort(doc! { "destination_id": 1 }).await?.try_collect().await?;
    docs.into_iter()
        .map(|d| {
            let count = |what: &str, value: i64| u32::try_from(value).map_err(|_| corrupt(what, value));
            Ok(DestinationTally {
                id: d.destination_id.parse().map_err(|_| StoreError::Corrupt(format!("destination id {}", d.destination_id)))?,
                name: d.name,
                down_secs: count("down_secs", d.down_secs)?,
                reconnects: count("reconnects", d.reconnects)?,
                lowest_bps: d.lowest_bps.map(|bps| u64::try_from(bps).map_err(|_| corrupt("lowest_bps", bps))).transpose()?,
            })
        })
        .collect()
}

/// Deletes every tally naming `destination` (a volunteer forgotten).
pub(super) async fn forget(db: &Database, destination: &str) -> Result<(), StoreError> {
    tallies_of(db).delete_many(doc! { "destination_id": destination }).await?;
    Ok(())
}
