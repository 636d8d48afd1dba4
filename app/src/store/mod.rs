//! The store: where accounts, pending sign-ups, lives, events and a cluster's leases live. One [`Store`] trait,
//! two real backends — embedded SQLite (the default, a file in the data directory) and MongoDB
//! (when `FANOUT_MONGO_URI` is set) — held to one conformance suite.
//!
//! The store never sees a plaintext secret: tokens arrive sealed by [`crate::secrets::Cipher`].
//! [`ensure_key_matches`] ties a store to the master key its secrets were sealed with.

mod leases;
mod mongo;
mod records;
mod sqlite;

#[cfg(test)]
mod conformance;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use leases::{IngestAcquired, IngestLease, LeaseEpoch, NodeClaim, NodeClaimed, NodeLease, NodeReport};
pub use mongo::MongoStore;
pub use records::*;
pub use sqlite::SqliteStore;

use crate::model::{AccountStatus, NodeName};
use crate::secrets::{Cipher, Purpose, Sealed, SecretsError};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file could not be opened or created.
    #[error("cannot open the SQLite store at {path}: {source}")]
    OpenSqlite {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: sqlx::Error,
    },
    /// The SQLite schema could not be brought up to date.
    #[error("cannot update the SQLite store's schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A SQLite query failed.
    #[error("SQLite store: {0}")]
    Sqlite(#[from] sqlx::Error),
    /// MongoDB could not be reached or refused the connection.
    #[error("cannot reach MongoDB: {0}")]
    MongoConnect(mongodb::error::Error),
    /// A MongoDB operation failed.
    #[error("MongoDB store: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// A stored record does not have the shape this Fanout expects.
    #[error("the store holds a record this Fanout cannot read: {0}")]
    Corrupt(String),
    /// The configured key is not the key the store's secrets were sealed with.
    #[error("{0}")]
    Key(#[from] SecretsError),
    /// A lease was asked for with a time to live that is not positive or out of range.
    #[error("cannot write a lease: {0}")]
    LeaseTerm(String),
}

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
pub enum Backend {
    /// Embedded SQLite.
    #[strum(to_string = "SQLite")]
    Sqlite,
    /// MongoDB.
    #[strum(to_string = "MongoDB")]
    Mongo,
}

/// A shared handle to whichever store is configured.
pub type SharedStore = Arc<dyn Store>;

/// Everything Fanout keeps. Every method is atomic on its own; none takes plaintext secrets.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Answers when the store is reachable and usable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates the account of `upsert.restream.user_id`, or updates the existing one (keeping
    /// its id and creation time, making it active again). Concurrent calls for the same
    /// Restream user never make two accounts.
    async fn upsert_account(&self, upsert: AccountUpsert, now: OffsetDateTime) -> Result<Upserted, StoreError>;

    /// The account with this id.
    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// The account of this Restream user.
    async fn account_by_restream_user(&self, user: RestreamUserId) -> Result<Option<Account>, StoreError>;

    /// Every account, oldest first.
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;

    /// Sets an account's status; `false` when there is no such account.
    async fn set_account_status(&self, id: &AccountId, status: AccountStatus, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Replaces (or, with `None`, deletes) an account's tokens; `false` when there is no such account.
    async fn set_account_tokens(&self, id: &AccountId, tokens: Option<SealedTokens>, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Replaces an account's tokens only if its stored refresh token is still `expected` (a
    /// compare-and-swap: a refresh never overwrites a disconnect or another refresh that came
    /// first); `false` when it is not. Durable when it returns.
    async fn replace_account_tokens(
        &self,
        id: &AccountId,
        expected: &Sealed,
        tokens: SealedTokens,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Moves an account's manage links on to a new generation (every link issued before stops
    /// working); the new generation, or `None` when there is no such account.
    async fn bump_link_epoch(&self, id: &AccountId, now: OffsetDateTime) -> Result<Option<u32>, StoreError>;

    /// Sets which e-mails the volunteer takes; `false` when there is no such account.
    async fn set_mail_choices(&self, id: &AccountId, choices: MailChoices, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Claims one volunteer e-mail for `id` (see [`MailClaim`]): `true` when it is theirs to
    /// send (and now recorded as sent), `false` when they do not take it, it was sent within its
    /// limit, or there is no such account.
    async fn claim_mail(&self, id: &AccountId, claim: MailClaim) -> Result<bool, StoreError>;

    /// Deletes an account; `false` when there was none.
    async fn delete_account(&self, id: &AccountId) -> Result<bool, StoreError>;

    /// Deletes an account with everything that names it — its tokens, its personal fields, its
    /// events, its title records, its rows in lives' reports — keeping only the anonymous tallies
    /// of past lives; `false` when there was none.
    async fn forget_account(&self, id: &AccountId) -> Result<bool, StoreError>;

    /// Records a sign-up waiting for its OAuth callback.
    async fn insert_pending_signup(&self, pending: &PendingSignup) -> Result<(), StoreError>;

    /// Claims a pending sign-up by its `state`, once: it is `Taken` by exactly one caller.
    async fn take_pending_signup(&self, state: &str, now: OffsetDateTime) -> Result<PendingTake, StoreError>;

    /// Deletes pending sign-ups that expired before `before`; returns how many.
    async fn purge_pending_signups(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    /// Deletes the pending sign-up of `state` (the volunteer declined); `false` when none.
    async fn delete_pending_signup(&self, state: &str) -> Result<bool, StoreError>;

    /// Creates or replaces a live, by video id.
    async fn put_live(&self, live: &Live) -> Result<(), StoreError>;

    /// The live with this video id.
    async fn live(&self, video_id: &VideoId) -> Result<Option<Live>, StoreError>;

    /// The most recently detected lives, newest first.
    async fn recent_lives(&self, limit: u32) -> Result<Vec<Live>, StoreError> {
        self.lives_before(None, limit).await
    }

    /// Up to `limit` lives detected before `before` (all when `None`), newest first: the
    /// order is detected time, newest first, then video id, and a page goes on from the last
    /// live of the previous one (`LiveCursor::after`).
    async fn lives_before(&self, before: Option<&LiveCursor>, limit: u32) -> Result<Vec<Live>, StoreError>;

    /// Records that `account`'s channel titles were set for the live `video_id` (idempotent).
    async fn record_titles_set(&self, video_id: &VideoId, account: &AccountId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The accounts whose titles were set for the live `video_id`.
    async fn titled_accounts(&self, video_id: &VideoId) -> Result<Vec<AccountId>, StoreError>;

    /// Adds a sample of the live `video_id` unless it already has `cap` samples; whether it was
    /// kept. A second sample at the same time replaces the first.
    async fn add_live_sample(&self, video_id: &VideoId, sample: &LiveSample, cap: u32) -> Result<bool, StoreError>;

    /// The samples of the live `video_id`, oldest first.
    async fn live_samples(&self, video_id: &VideoId) -> Result<Vec<LiveSample>, StoreError>;

    /// Adds each tally to what the live `video_id` has for its destination (times and counts
    /// summed, the lowest bitrate kept, the name replaced); a destination not seen before
    /// starts from it.
    async fn add_destination_tallies(&self, video_id: &VideoId, tallies: &[DestinationTally]) -> Result<(), StoreError>;

    /// How each destination fared over the live `video_id`, by destination id.
    async fn destination_tallies(&self, video_id: &VideoId) -> Result<Vec<DestinationTally>, StoreError>;

    /// Appends an event; ids grow with each append.
    async fn append_event(&self, event: NewEvent) -> Result<Event, StoreError>;

    /// Records an event — or, when the newest event about the same account and live is the same
    /// (kind and message) and last happened within `within`, counts it there instead: a failure
    /// repeated every few seconds is one event with a count, not thousands, while a timeline
    /// (joined, left, joined) keeps every step.
    async fn record_event(&self, event: NewEvent, within: time::Duration) -> Result<Event, StoreError>;

    /// Deletes the events `retention` does not keep; returns how many.
    async fn purge_events(&self, retention: Retention, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// A page of events, newest first.
    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError>;

    /// Every direct destination, oldest first.
    async fn direct_destinations(&self) -> Result<Vec<DirectDestination>, StoreError>;

    /// Creates a direct destination, or replaces the one with the same id.
    async fn put_direct_destination(&self, destination: &DirectDestination) -> Result<(), StoreError>;

    /// Deletes a direct destination; `false` when there was none.
    async fn delete_direct_destination(&self, id: &DirectId) -> Result<bool, StoreError>;

    /// Every API token, oldest first.
    async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Records a new API token (its id and hash are new).
    async fn insert_api_token(&self, token: &ApiToken) -> Result<(), StoreError>;

    /// The API token whose hash this is.
    async fn api_token_by_hash(&self, hash: &ApiTokenHash) -> Result<Option<ApiToken>, StoreError>;

    /// Sets a token's last use to `at` unless it is already at or after `not_before` (so a busy
    /// token is written at most once a minute); `true` when it was written.
    async fn touch_api_token(&self, id: &ApiTokenId, at: OffsetDateTime, not_before: OffsetDateTime) -> Result<bool, StoreError>;

    /// Deletes (revokes) an API token; `false` when there was none.
    async fn delete_api_token(&self, id: &ApiTokenId) -> Result<bool, StoreError>;

    /// A small value of the store's own bookkeeping.
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets a bookkeeping value unless one is already there; returns whether it was set.
    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StoreError>;

    /// Sets (or, with `None`, deletes) a bookkeeping value.
    async fn set_meta(&self, key: &str, value: Option<&[u8]>) -> Result<(), StoreError>;

    /// Takes the lease of `claim.name` until `now + ttl` — if no live lease holds the name —
    /// under the next epoch; otherwise says who holds it. Concurrent claims of one name: one
    /// wins.
    async fn claim_node_lease(
        &self,
        claim: &NodeClaim,
        report: NodeReport,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<NodeClaimed, StoreError>;

    /// Renews the node's own lease to `now + ttl` with its `report` — only while it is live and
    /// still of `epoch`; `None` when it lapsed or was taken anew (the holding is lost).
    async fn renew_node_lease(
        &self,
        name: &NodeName,
        epoch: LeaseEpoch,
        report: NodeReport,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<NodeLease>, StoreError>;

    /// Gives the node's live lease of `epoch` up at `now` (a clean shutdown); `false` when it
    /// was no longer held.
    async fn release_node_lease(&self, name: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// The nodes whose leases are live at `now`, by name.
    async fn live_nodes(&self, now: OffsetDateTime) -> Result<Vec<NodeLease>, StoreError>;

    /// Takes the cluster's ingest lease for `holder` until `now + ttl` if it is free or lapsed,
    /// under the next epoch; otherwise says who holds it. Concurrent acquisitions: one wins.
    async fn acquire_ingest_lease(&self, holder: &NodeName, now: OffsetDateTime, ttl: time::Duration)
    -> Result<IngestAcquired, StoreError>;

    /// Renews the ingest lease to `now + ttl` — only while `holder` holds it live under `epoch`;
    /// `None` when it lapsed or another took it.
    async fn renew_ingest_lease(
        &self,
        holder: &NodeName,
        epoch: LeaseEpoch,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<IngestLease>, StoreError>;

    /// Gives the ingest lease up at `now` if `holder` holds it live under `epoch`; `false` otherwise.
    async fn release_ingest_lease(&self, holder: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// The ingest lease when it is live at `now`.
    async fn ingest_lease(&self, now: OffsetDateTime) -> Result<Option<IngestLease>, StoreError>;
}

/// How close together the same event must happen to be counted rather than recorded again.
pub const REPEAT_WINDOW: time::Duration = time::Duration::minutes(10);

/// Records `event` (the same one again within [`REPEAT_WINDOW`] is counted on the first); a
/// store failure is logged, never fatal — the one way Fanout writes its event log.
pub async fn note(store: &dyn Store, event: NewEvent) {
    let kind = event.kind;
    if let Err(error) = store.record_event(event, REPEAT_WINDOW).await {
        tracing::warn!(%error, ?kind, "could not record an event");
    }
}

/// Where the store lives, as configured.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A MongoDB deployment and database.
    Mongo {
        /// The connection string (may hold credentials: never log it).
        uri: crate::secrets::Secret,
        /// The database name.
        database: String,
    },
}

/// Opens (creating or migrating as needed) the configured store.
pub async fn open(location: &StoreLocation) -> Result<SharedStore, StoreError> {
    Ok(match location {
        StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
        StoreLocation::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}

const KEY_CHECK_META: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"fanout key check";

/// Whether a store's secrets were sealed with the configured key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The store had no secrets yet; it is now tied to the configured key.
    Adopted,
    /// The store's secrets were sealed with the configured key.
    Matches,
}

/// Ties the store to the configured key on first use, and afterwards refuses a different key
/// with [`SecretsError::WrongKey`] before any secret is read.
pub async fn ensure_key_matches(store: &dyn Store, cipher: &Cipher) -> Result<KeyCheck, StoreError> {
    let candidate = cipher.seal(Purpose::KeyCheck, KEY_CHECK_PLAINTEXT);
    if store.put_meta_if_absent(KEY_CHECK_META, candidate.as_bytes()).await? {
        return Ok(KeyCheck::Adopted);
    }
    verify_key(store, cipher).await?;
    Ok(KeyCheck::Matches)
}

/// Like [`ensure_key_matches`] but writes nothing: `Ok(None)` when the store has no key check yet.
pub async fn verify_key(store: &dyn Store, cipher: &Cipher) -> Result<Option<KeyCheck>, StoreError> {
    let Some(stored) = store.meta(KEY_CHECK_META).await? else {
        return Ok(None);
    };
    let opened = cipher.open(Purpose::KeyCheck, &Sealed::from_bytes(stored))?;
    if opened.as_slice() != KEY_CHECK_PLAINTEXT {
        return Err(StoreError::Key(SecretsError::Damaged));
    }
    Ok(Some(KeyCheck::Matches))
}
