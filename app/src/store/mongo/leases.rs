//! The MongoDB store's leases: each write is one `find_one_and_update` whose filter is the
//! condition (a taking: the lease lapsed, `expires_at <= now`, upserting a name never seen; a
//! renewal: the holder and its epoch, still live), acknowledged by a majority so a failover
//! does not roll it back. Two takers of a name never seen race on the unique `_id`: the loser's
//! upsert fails with a duplicate key, which it reads as "held" after looking at the winner.

use mongodb::bson::{DateTime as BsonDateTime, Document, doc};
use mongodb::options::{ReturnDocument, WriteConcern};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::super::leases::{TAKE_ATTEMPTS, expiry};
use super::super::*;
use super::docs::{date, parse_word, undate};
use super::is_duplicate_key;

/// The ingest lease's one document.
const INGEST_ID: &str = "ingest";

#[derive(Debug, Serialize, Deserialize)]
struct NodeLeaseDoc {
    #[serde(rename = "_id")]
    name: String,
    relay_url: String,
    capacity_mbps: i64,
    links: i64,
    egress_kbps: i64,
    epoch: i64,
    started_at: BsonDateTime,
    renewed_at: BsonDateTime,
    expires_at: BsonDateTime,
}

#[derive(Debug, Serialize, Deserialize)]
struct IngestLeaseDoc {
    #[serde(rename = "_id")]
    id: String,
    holder: String,
    epoch: i64,
    acquired_at: BsonDateTime,
    renewed_at: BsonDateTime,
    expires_at: BsonDateTime,
}

fn number<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is {value}")))
}

fn epoch_bson(epoch: LeaseEpoch) -> Result<i64, StoreError> {
    i64::try_from(epoch.0).map_err(|_| StoreError::Corrupt(format!("lease epoch {epoch} is out of range")))
}

impl TryFrom<NodeLeaseDoc> for NodeLease {
    type Error = StoreError;
    fn try_from(doc: NodeLeaseDoc) -> Result<Self, StoreError> {
        Ok(NodeLease {
            claim: NodeClaim {
                name: parse_word(&doc.name, "node lease name")?,
                relay_url: doc.relay_url,
                capacity_mbps: number(doc.capacity_mbps, "capacity_mbps")?,
            },
            report: NodeReport { links: number(doc.links, "links")?, egress_kbps: number(doc.egress_kbps, "egress_kbps")? },
            epoch: LeaseEpoch(number(doc.epoch, "lease epoch")?),
            started_at: undate(doc.started_at, "started_at")?,
            renewed_at: undate(doc.renewed_at, "renewed_at")?,
            expires_at: undate(doc.expires_at, "expires_at")?,
        })
    }
}

impl TryFrom<IngestLeaseDoc> for IngestLease {
    type Error = StoreError;
    fn try_from(doc: IngestLeaseDoc) -> Result<Self, StoreError> {
        Ok(IngestLease {
            holder: parse_word(&doc.holder, "ingest lease holder")?,
            epoch: LeaseEpoch(number(doc.epoch, "lease epoch")?),
            acquired_at: undate(doc.acquired_at, "acquired_at")?,
            renewed_at: undate(doc.renewed_at, "renewed_at")?,
            expires_at: undate(doc.expires_at, "expires_at")?,
        })
    }
}

fn nodes(db: &Database) -> Collection<NodeLeaseDoc> {
    db.collection("node_leases")
}

fn ingest_collection(db: &Database) -> Collection<IngestLeaseDoc> {
    db.collection("ingest_lease")
}

fn durable() -> WriteConcern {
    WriteConcern::builder().w(mongodb::options::Acknowledgment::Majority).journal(true).build()
}

fn report_fields(report: NodeReport) -> Document {
    doc! { "links": i64::from(report.links), "egress_kbps": i64::try_from(report.egress_kbps).unwrap_or(i64::MAX) }
}

/// The index the live nodes are listed by.
pub(super) async fn create_indexes(db: &Database) -> Result<(), StoreError> {
    nodes(db).create_index(mongodb::IndexModel::builder().keys(doc! { "expires_at": 1 }).build()).await?;
    Ok(())
}

pub(super) async fn claim_node(
    db: &Database,
    claim: &NodeClaim,
    report: NodeReport,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<NodeClaimed, StoreError> {
    let expires_at = expiry(now, ttl)?;
    let filter = doc! { "_id": claim.name.as_str(), "expires_at": { "$lte": date(now) } };
    let mut set = doc! {
        "relay_url": &claim.relay_url,
        "capacity_mbps": i64::from(claim.capacity_mbps),
        "started_at": date(now),
        "renewed_at": date(now),
        "expires_at": date(expires_at),
    };
    set.extend(report_fields(report));
    let update = doc! { "$set": set, "$inc": { "epoch": 1_i64 } };
    for _ in 0..TAKE_ATTEMPTS {
        let taken = nodes(db)
            .find_one_and_update(filter.clone(), update.clone())
            .upsert(true)
            .return_document(ReturnDocument::After)
            .write_concern(durable())
            .await;
        match taken {
            Ok(Some(doc)) => return Ok(NodeClaimed::Held(doc.try_into()?)),
            Ok(None) => return Err(StoreError::Corrupt(format!("the lease of {} vanished as it was taken", claim.name))),
            // A live lease holds the name (the filter did not match, and the upsert hit its _id).
            Err(e) if is_duplicate_key(&e) => {
                let holder = nodes(db).find_one(doc! { "_id": claim.name.as_str() }).await?;
                let holder = holder.map(NodeLease::try_from).transpose()?;
                if let Some(lease) = holder.filter(|l| l.is_live(now)) {
                    return Ok(NodeClaimed::NameInUse(lease));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::LeaseTerm(format!("the lease of {} changed hands {TAKE_ATTEMPTS} times while being taken", claim.name)))
}

pub(super) async fn renew_node(
    db: &Database,
    name: &NodeName,
    epoch: LeaseEpoch,
    report: NodeReport,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Option<NodeLease>, StoreError> {
    let expires_at = expiry(now, ttl)?;
    let mut set = report_fields(report);
    set.insert("renewed_at", date(now));
    let renewed = nodes(db)
        .find_one_and_update(
            doc! { "_id": name.as_str(), "epoch": epoch_bson(epoch)?, "expires_at": { "$gt": date(now) } },
            doc! { "$set": set, "$max": { "expires_at": date(expires_at) } },
        )
        .return_document(ReturnDocument::After)
        .write_concern(durable())
        .await?;
    renewed.map(NodeLease::try_from).transpose()
}

pub(super) async fn release_node(db: &Database, name: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
    let done = nodes(db)
        .update_one(
            doc! { "_id": name.as_str(), "epoch": epoch_bson(epoch)?, "expires_at": { "$gt": date(now) } },
            doc! { "$set": { "expires_at": date(now) } },
        )
        .write_concern(durable())
        .await?;
    Ok(done.matched_count == 1)
}

pub(super) async fn live_nodes(db: &Database, now: OffsetDateTime) -> Result<Vec<NodeLease>, StoreError> {
    use futures::TryStreamExt;
    let docs: Vec<NodeLeaseDoc> =
        nodes(db).find(doc! { "expires_at": { "$gt": date(now) } }).sort(doc! { "_id": 1 }).await?.try_collect().await?;
    docs.into_iter().map(NodeLease::try_from).collect()
}

pub(super) async fn acquire_ingest(
    db: &Database,
    holder: &NodeName,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<IngestAcquired, StoreError> {
    let expires_at = expiry(now, ttl)?;
    let filter = doc! { "_id": INGEST_ID, "expires_at": { "$lte": date(now) } };
    let update = doc! {
        "$set": { "holder": holder.as_str(), "acquired_at": date(now), "renewed_at": date(now), "expires_at": date(expires_at) },
        "$inc": { "epoch": 1_i64 },
    };
    for _ in 0..TAKE_ATTEMPTS {
        let taken = ingest_collection(db)
            .find_one_and_update(filter.clone(), update.clone())
            .upsert(true)
            .return_document(ReturnDocument::After)
            .write_concern(durable())
            .await;
        match taken {
            Ok(Some(doc)) => return Ok(IngestAcquired::Acquired(doc.try_into()?)),
            Ok(None) => return Err(StoreError::Corrupt("the ingest lease vanished as it was taken".into())),
            Err(e) if is_duplicate_key(&e) => {
                if let Some(lease) = ingest(db, now).await? {
                    return Ok(IngestAcquired::HeldBy(lease));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::LeaseTerm(format!("the ingest lease changed hands {TAKE_ATTEMPTS} times while being taken")))
}

pub(super) async fn renew_ingest(
    db: &Database,
    holder: &NodeName,
    epoch: LeaseEpoch,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Option<IngestLease>, StoreError> {
    let expires_at = expiry(now, ttl)?;
    let renewed = ingest_collection(db)
        .find_one_and_update(
            doc! { "_id": INGEST_ID, "holder": holder.as_str(), "epoch": epoch_bson(epoch)?, "expires_at": { "$gt": date(now) } },
            doc! { "$set": { "renewed_at": date(now) }, "$max": { "expires_at": date(expires_at) } },
        )
        .return_document(ReturnDocument::After)
        .write_concern(durable())
        .await?;
    renewed.map(IngestLease::try_from).transpose()
}

pub(super) async fn release_ingest(db: &Database, holder: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
    let done = ingest_collection(db)
        .update_one(
            doc! { "_id": INGEST_ID, "holder": holder.as_str(), "epoch": epoch_bson(epoch)?, "expires_at": { "$gt": date(now) } },
            doc! { "$set": { "expires_at": date(now) } },
        )
        .write_concern(durable())
        .await?;
    Ok(done.matched_count == 1)
}

pub(super) async fn ingest(db: &Database, now: OffsetDateTime) -> Result<Option<IngestLease>, StoreError> {
    let found = ingest_collection(db).find_one(doc! { "_id": INGEST_ID, "expires_at": { "$gt": date(now) } }).await?;
    found.map(IngestLease::try_from).transpose()
}
