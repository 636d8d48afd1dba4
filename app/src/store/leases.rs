//! The records of a cluster's leases (issue 18): each node's lease — who it is, where its relay
//! listens, what its port carries — and the one ingest lease. Both are compare-and-set writes
//! the backend guarantees; times are the caller's (`now`), so tests drive the clock.
//!
//! A lease is live while `expires_at` is after `now`, and lapsed from `expires_at` on. A lapse
//! is a loss even when nobody else took the lease: what others did meanwhile is unknown, so a
//! lapsed holder must take the lease anew, under a new epoch. Epochs only grow (rows are
//! expired, never deleted), so an epoch is a fencing token: whatever a holder writes under an
//! old epoch can be told apart from what the next holder writes.

use time::{Duration, OffsetDateTime};

use super::StoreError;
use crate::model::NodeName;

/// The generation of a holding: the first taking of a name (or of the ingest) is 1, each
/// taking after a lapse one more. A renewal keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaseEpoch(pub u64);

impl std::fmt::Display for LeaseEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a node says about itself when it takes its lease (fixed for the holding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeClaim {
    /// The node's name (`FANOUT_NODE_NAME`).
    pub name: NodeName,
    /// Where the other nodes reach its relay (`FANOUT_NODE_RELAY_URL`, an `rtmp://` URL).
    pub relay_url: String,
    /// Its port's capacity in Mbit/s (`FANOUT_PORT_MBPS`).
    pub capacity_mbps: u32,
}

/// What a node reports at each renewal: its load now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeReport {
    /// The node links it carries (the ingest node feeds every other node's relay).
    pub links: u32,
    /// What it sends out now, in kbit/s.
    pub egress_kbps: u64,
}

/// A node's lease as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLease {
    /// Who it is, where its relay is, what its port carries.
    pub claim: NodeClaim,
    /// Its load at the last renewal.
    pub report: NodeReport,
    /// The holding's generation.
    pub epoch: LeaseEpoch,
    /// When this holding began.
    pub started_at: OffsetDateTime,
    /// When it was last renewed.
    pub renewed_at: OffsetDateTime,
    /// When it lapses unless renewed.
    pub expires_at: OffsetDateTime,
}

impl NodeLease {
    /// The node's name.
    pub fn name(&self) -> &NodeName {
        &self.claim.name
    }

    /// Whether the lease is live at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.expires_at > now
    }
}

/// What came of taking a node's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeClaimed {
    /// The name was free or lapsed: this node holds it now, under a new epoch.
    Held(NodeLease),
    /// Another live lease holds the name (two hosts configured with one name, or this node's
    /// previous run whose lease has not lapsed yet).
    NameInUse(NodeLease),
}

/// The cluster's ingest lease: the one node that detects, pulls and feeds the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLease {
    /// The node holding it.
    pub holder: NodeName,
    /// The holding's generation.
    pub epoch: LeaseEpoch,
    /// When this holding began.
    pub acquired_at: OffsetDateTime,
    /// When it was last renewed.
    pub renewed_at: OffsetDateTime,
    /// When it lapses unless renewed.
    pub expires_at: OffsetDateTime,
}

impl IngestLease {
    /// Whether the lease is live at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.expires_at > now
    }
}

/// What came of trying to take the ingest lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestAcquired {
    /// It was free or lapsed: the caller holds it now, under a new epoch.
    Acquired(IngestLease),
    /// Another live holding has it (possibly the caller's own, under an epoch it must know).
    HeldBy(IngestLease),
}

/// The end of a lease taken or renewed at `now` for `ttl`.
pub(crate) fn expiry(now: OffsetDateTime, ttl: Duration) -> Result<OffsetDateTime, StoreError> {
    if ttl <= Duration::ZERO {
        return Err(StoreError::LeaseTerm(format!("a lease's time to live must be positive, not {ttl}")));
    }
    now.checked_add(ttl).ok_or_else(|| StoreError::LeaseTerm(format!("{now} + {ttl} is out of range")))
}

/// How many times a taking retries when the holding it read changed under it.
pub(crate) const TAKE_ATTEMPTS: u32 = 3;
