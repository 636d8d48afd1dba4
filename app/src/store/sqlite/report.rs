//! The SQLite half of a live's report: its samples (at most a cap per live) and its
//! destinations' tallies (increments added up in place).

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::{corrupt, count, time_at, word};
use crate::store::records::to_millis;
use crate::store::{DestinationTally, LiveSample, StoreError, VideoId};

/// Adds a sample unless the live has `cap` already (a sample at the same time is replaced).
pub(super) async fn add_sample(pool: &SqlitePool, video_id: &VideoId, sample: &LiveSample, cap: u32) -> Result<bool, StoreError> {
    // One statement: the count and the insert cannot be split by another writer.
    let done = sqlx::query(
        "INSERT INTO live_samples (video_id, at, streaming, destinations, egress_bps, reconnects, slate, grace)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
         WHERE EXISTS (SELECT 1 FROM live_samples WHERE video_id = ?1 AND at = ?2)
            OR (SELECT COUNT(*) FROM live_samples WHERE video_id = ?1) < ?9
         ON CONFLICT (video_id, at) DO UPDATE SET streaming = excluded.streaming, destinations = excluded.destinations,
             egress_bps = excluded.egress_bps, reconnects = excluded.reconnects, slate = excluded.slate, grace = excluded.grace",
    )
    .bind(&video_id.0)
    .bind(to_millis(sample.at))
    .bind(i64::from(sample.streaming))
    .bind(i64::from(sample.destinations))
    .bind(i64::try_from(sample.egress_bps).unwrap_or(i64::MAX))
    .bind(i64::from(sample.reconnects))
    .bind(sample.slate)
    .bind(sample.grace)
    .bind(i64::from(cap))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The live's samples, oldest first.
pub(super) async fn samples(pool: &SqlitePool, video_id: &VideoId) -> Result<Vec<LiveSample>, StoreError> {
    let rows = sqlx::query("SELECT * FROM live_samples WHERE video_id = ? ORDER BY at").bind(&video_id.0).fetch_all(pool).await?;
    rows.iter().map(sample_from).collect()
}

/// Adds each tally to the live's, in one transaction.
pub(super) async fn add_tallies(pool: &SqlitePool, video_id: &VideoId, tallies: &[DestinationTally]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for tally in tallies {
        sqlx::query(
            "INSERT INTO live_destinations (video_id, destination_id, name, down_secs, reconnects, lowest_bps)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (video_id, destination_id) DO UPDATE SET name = excluded.name,
                 down_secs = down_secs + excluded.down_secs, reconnects = reconnects + excluded.reconnects,
                 lowest_bps = CASE WHEN lowest_bps IS NULL THEN excluded.lowest_bps
                                   WHEN excluded.lowest_bps IS NULL THEN lowest_bps
                                   ELSE MIN(lowest_bps, excluded.lowest_bps) END",
        )
        .bind(&video_id.0)
        .bind(tally.id.to_string())
        .bind(&tally.name)
        .bind(i64::from(tally.down_secs))
        .bind(i64::from(tally.reconnects))
        .bind(tally.lowest_bps.map(|bps| i64::try_from(bps).unwrap_or(i64::MAX)))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The live's tallies, by destination id.
pub(super) async fn tallies(pool: &SqlitePool, video_id: &VideoId) -> Result<Vec<DestinationTally>, StoreError> {
    let rows =
        sqlx::query("SELECT * FROM live_destinations WHERE video_id = ? ORDER BY destination_id").bind(&video_id.0).fetch_all(pool).await?;
    rows.iter().map(tally_from).collect()
}

fn sample_from(row: &SqliteRow) -> Result<LiveSample, StoreError> {
    let egress: i64 = row.try_get("egress_bps")?;
    Ok(LiveSample {
        at: time_at(row, "at")?,
        streaming: count(row, "streaming")?,
        destinations: count(row, "destinations")?,
        egress_bps: u64::try_from(egress).map_err(|_| corrupt("egress_bps", egress))?,
        reconnects: count(row, "reconnects")?,
        slate: row.try_get("slate")?,
        grace: row.try_get("grace")?,
    })
}

fn tally_from(row: &SqliteRow) -> Result<DestinationTally, StoreError> {
    let lowest: Option<i64> = row.try_get("lowest_bps")?;
    Ok(DestinationTally {
        id: word(row, "destination_id")?,
        name: row.try_get("name")?,
        down_secs: count(row, "down_secs")?,
        reconnects: count(row, "reconnects")?,
        lowest_bps: lowest.map(|bps| u64::try_from(bps).map_err(|_| corrupt("lowest_bps", bps))).transpose()?,
    })
}
