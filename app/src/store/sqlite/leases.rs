//! The SQLite store's leases: each write is one conditional statement, so SQLite's single
//! writer is what makes it a compare-and-set — a taking is an `INSERT … ON CONFLICT DO UPDATE
//! … WHERE expires_at <= now`, a renewal an `UPDATE … WHERE holder = ? AND epoch = ? AND
//! expires_at > now`, and an empty `RETURNING` is the loss.

use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;
use time::{Duration, OffsetDateTime};

use super::super::leases::{TAKE_ATTEMPTS, expiry};
use super::*;

fn epoch_at(row: &SqliteRow) -> Result<LeaseEpoch, StoreError> {
    let epoch: i64 = row.try_get("epoch")?;
    u64::try_from(epoch).map(LeaseEpoch).map_err(|_| corrupt("lease epoch", epoch))
}

fn epoch_bind(epoch: LeaseEpoch) -> Result<i64, StoreError> {
    i64::try_from(epoch.0).map_err(|_| corrupt("lease epoch", epoch))
}

fn node_lease_from(row: &SqliteRow) -> Result<NodeLease, StoreError> {
    let egress: i64 = row.try_get("egress_kbps")?;
    Ok(NodeLease {
        claim: NodeClaim { name: word(row, "name")?, relay_url: row.try_get("relay_url")?, capacity_mbps: count(row, "capacity_mbps")? },
        report: NodeReport { links: count(row, "links")?, egress_kbps: u64::try_from(egress).map_err(|_| corrupt("egress_kbps", egress))? },
        epoch: epoch_at(row)?,
        started_at: time_at(row, "started_at")?,
        renewed_at: time_at(row, "renewed_at")?,
        expires_at: time_at(row, "expires_at")?,
    })
}

fn ingest_lease_from(row: &SqliteRow) -> Result<IngestLease, StoreError> {
    Ok(IngestLease {
        holder: word(row, "holder")?,
        epoch: epoch_at(row)?,
        acquired_at: time_at(row, "acquired_at")?,
        renewed_at: time_at(row, "renewed_at")?,
        expires_at: time_at(row, "expires_at")?,
    })
}

fn egress_bind(report: NodeReport) -> i64 {
    i64::try_from(report.egress_kbps).unwrap_or(i64::MAX)
}

const CLAIM_NODE: &str = "
    INSERT INTO node_leases (name, relay_url, capacity_mbps, links, egress_kbps, epoch, started_at, renewed_at, expires_at)
    VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7)
    ON CONFLICT (name) DO UPDATE SET
        relay_url = excluded.relay_url, capacity_mbps = excluded.capacity_mbps, links = excluded.links,
        egress_kbps = excluded.egress_kbps, epoch = node_leases.epoch + 1, started_at = excluded.started_at,
        renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
    WHERE node_leases.expires_at <= ?6
    RETURNING *";

pub(super) async fn claim_node(
    pool: &SqlitePool,
    claim: &NodeClaim,
    report: NodeReport,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<NodeClaimed, StoreError> {
    let expires_at = to_millis(expiry(now, ttl)?);
    for _ in 0..TAKE_ATTEMPTS {
        let taken = sqlx::query(CLAIM_NODE)
            .bind(claim.name.as_str())
            .bind(&claim.relay_url)
            .bind(i64::from(claim.capacity_mbps))
            .bind(i64::from(report.links))
            .bind(egress_bind(report))
            .bind(to_millis(now))
            .bind(expires_at)
            .fetch_optional(pool)
            .await?;
        if let Some(row) = taken {
            return Ok(NodeClaimed::Held(node_lease_from(&row)?));
        }
        // Held by a live lease when the statement ran; it may have lapsed or been released
        // since, in which case try again.
        let holder = sqlx::query("SELECT * FROM node_leases WHERE name = ?").bind(claim.name.as_str()).fetch_optional(pool).await?;
        if let Some(lease) = holder.as_ref().map(node_lease_from).transpose()?.filter(|l| l.is_live(now)) {
            return Ok(NodeClaimed::NameInUse(lease));
        }
    }
    Err(StoreError::LeaseTerm(format!("the lease of {} changed hands {TAKE_ATTEMPTS} times while being taken", claim.name)))
}

pub(super) async fn renew_node(
    pool: &SqlitePool,
    name: &NodeName,
    epoch: LeaseEpoch,
    report: NodeReport,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Option<NodeLease>, StoreError> {
    let expires_at = to_millis(expiry(now, ttl)?);
    let row = sqlx::query(
        "UPDATE node_leases SET links = ?1, egress_kbps = ?2, renewed_at = ?3, expires_at = MAX(expires_at, ?4)
         WHERE name = ?5 AND epoch = ?6 AND expires_at > ?3 RETURNING *",
    )
    .bind(i64::from(report.links))
    .bind(egress_bind(report))
    .bind(to_millis(now))
    .bind(expires_at)
    .bind(name.as_str())
    .bind(epoch_bind(epoch)?)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(node_lease_from).transpose()
}

pub(super) async fn release_node(pool: &SqlitePool, name: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE node_leases SET expires_at = ?1 WHERE name = ?2 AND epoch = ?3 AND expires_at > ?1")
        .bind(to_millis(now))
        .bind(name.as_str())
        .bind(epoch_bind(epoch)?)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn live_nodes(pool: &SqlitePool, now: OffsetDateTime) -> Result<Vec<NodeLease>, StoreError> {
    let rows = sqlx::query("SELECT * FROM node_leases WHERE expires_at > ? ORDER BY name").bind(to_millis(now)).fetch_all(pool).await?;
    rows.iter().map(node_lease_from).collect()
}

const ACQUIRE_INGEST: &str = "
    INSERT INTO ingest_lease (id, holder, epoch, acquired_at, renewed_at, expires_at)
    VALUES (1, ?1, 1, ?2, ?2, ?3)
    ON CONFLICT (id) DO UPDATE SET
        holder = excluded.holder, epoch = ingest_lease.epoch + 1, acquired_at = excluded.acquired_at,
        renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
    WHERE ingest_lease.expires_at <= ?2
    RETURNING *";

pub(super) async fn acquire_ingest(
    pool: &SqlitePool,
    holder: &NodeName,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<IngestAcquired, StoreError> {
    let expires_at = to_millis(expiry(now, ttl)?);
    for _ in 0..TAKE_ATTEMPTS {
        let taken = sqlx::query(ACQUIRE_INGEST).bind(holder.as_str()).bind(to_millis(now)).bind(expires_at).fetch_optional(pool).await?;
        if let Some(row) = taken {
            return Ok(IngestAcquired::Acquired(ingest_lease_from(&row)?));
        }
        if let Some(lease) = ingest(pool, now).await? {
            return Ok(IngestAcquired::HeldBy(lease));
        }
    }
    Err(StoreError::LeaseTerm(format!("the ingest lease changed hands {TAKE_ATTEMPTS} times while being taken")))
}

pub(super) async fn renew_ingest(
    pool: &SqlitePool,
    holder: &NodeName,
    epoch: LeaseEpoch,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Option<IngestLease>, StoreError> {
    let expires_at = to_millis(expiry(now, ttl)?);
    let row = sqlx::query(
        "UPDATE ingest_lease SET renewed_at = ?1, expires_at = MAX(expires_at, ?2)
         WHERE id = 1 AND holder = ?3 AND epoch = ?4 AND expires_at > ?1 RETURNING *",
    )
    .bind(to_millis(now))
    .bind(expires_at)
    .bind(holder.as_str())
    .bind(epoch_bind(epoch)?)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(ingest_lease_from).transpose()
}

pub(super) async fn release_ingest(
    pool: &SqlitePool,
    holder: &NodeName,
    epoch: LeaseEpoch,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE ingest_lease SET expires_at = ?1 WHERE id = 1 AND holder = ?2 AND epoch = ?3 AND expires_at > ?1")
        .bind(to_millis(now))
        .bind(holder.as_str())
        .bind(epoch_bind(epoch)?)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn ingest(pool: &SqlitePool, now: OffsetDateTime) -> Result<Option<IngestLease>, StoreError> {
    let row = sqlx::query("SELECT * FROM ingest_lease WHERE id = 1 AND expires_at > ?").bind(to_millis(now)).fetch_optional(pool).await?;
    row.as_ref().map(ingest_lease_from).transpose()
}
