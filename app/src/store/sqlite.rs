//! The embedded store: one SQLite file in WAL mode (safe under `kill -9`), schema from the
//! migrations in `app/migrations`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, migrate::Migrator};
use time::OffsetDateTime;

use super::records::to_millis;
use super::*;
use rows::*;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it and bringing its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let store = Self::connect(path, true).await?;
        MIGRATOR.run(&store.pool).await?;
        Ok(store)
    }

    /// Opens an existing database as it is: no file is created and no schema changed.
    pub async fn open_existing(path: &Path) -> Result<Self, StoreError> {
        Self::connect(path, false).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk when it returns, power cut or not. Token writes need
            // that (Restream has already invalidated the previous pair), and Fanout writes
            // rarely enough that the fsync per commit costs nothing that matters.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::OpenSqlite { path: path.to_path_buf(), source })?;
        Ok(Self { pool, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many schema migrations this Fanout has.
    pub fn migration_count() -> usize {
        MIGRATOR.iter().count()
    }

    /// How many of this Fanout's schema migrations the database has not had yet.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let has_table: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')")
                .fetch_one(&self.pool)
                .await?;
        let applied: Vec<i64> = if has_table {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await?
        } else {
            Vec::new()
        };
        Ok(MIGRATOR.iter().filter(|m| !applied.contains(&m.version)).count())
    }

    /// `PRAGMA integrity_check`: `Ok(())` when the file is sound.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.pool).await?;
        if verdict == "ok" { Ok(()) } else { Err(StoreError::Corrupt(format!("integrity check: {verdict}"))) }
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Inserts `event` (once); its new id.
async fn insert_event<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Sqlite>, event: &NewEvent) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("INSERT INTO events (at, kind, account_id, video_id, message) VALUES (?, ?, ?, ?, ?) RETURNING id")
        .bind(to_millis(event.at))
        .bind(event.kind.to_string())
        .bind(event.account_id.as_ref().map(AccountId::as_str))
        .bind(event.video_id.as_ref().map(|v| v.0.as_str()))
        .bind(&event.message)
        .fetch_one(executor)
        .await?)
}

const UPSERT_ACCOUNT: &str = "
    INSERT INTO accounts (id, display_name, email, channels, restream_user_id, restream_username,
                          restream_email, access_token, refresh_token, access_expires_at, status,
                          created_at, updated_at, restream_channels)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'active', ?11, ?11, ?12)
    ON CONFLICT (restream_user_id) DO UPDATE SET
        display_name = excluded.display_name, email = excluded.email, channels = excluded.channels,
        restream_username = excluded.restream_username, restream_email = excluded.restream_email,
        restream_channels = excluded.restream_channels,
        access_token = excluded.access_token, refresh_token = excluded.refresh_token,
        access_expires_at = excluded.access_expires_at, status = 'active',
        updated_at = excluded.updated_at
    RETURNING *";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_account(&self, upsert: AccountUpsert, now: OffsetDateTime) -> Result<Upserted, StoreError> {
        let new_id = AccountId::random();
        let row = sqlx::query(UPSERT_ACCOUNT)
            .bind(new_id.as_str())
            .bind(&upsert.display_name)
            .bind(&upsert.email)
            .bind(to_json(&upsert.channels)?)
            .bind(upsert.restream.user_id.0)
            .bind(&upsert.restream.username)
            .bind(&upsert.restream.email)
            .bind(upsert.tokens.access.as_bytes())
            .bind(upsert.tokens.refresh.as_bytes())
            .bind(to_millis(upsert.tokens.access_expires_at))
            .bind(to_millis(now))
            .bind(to_json(&upsert.restream_channels)?)
            .fetch_one(&self.pool)
            .await?;
        let account = account_from(&row)?;
        Ok(if account.id == new_id { Upserted::Created(account) } else { Upserted::Updated(account) })
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?").bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(account_from).transpose()
    }

    async fn account_by_restream_user(&self, user: RestreamUserId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE restream_user_id = ?").bind(user.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(account_from).transpose()
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query("SELECT * FROM accounts ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(account_from).collect()
    }

    async fn set_account_status(&self, id: &AccountId, status: AccountStatus, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.to_string())
            .bind(to_millis(now))
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_account_tokens(&self, id: &AccountId, tokens: Option<SealedTokens>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let (access, refresh, expires) = match &tokens {
            Some(t) => (Some(t.access.as_bytes()), Some(t.refresh.as_bytes()), Some(to_millis(t.access_expires_at))),
            None => (None, None, None),
        };
        let done =
            sqlx::query("UPDATE accounts SET access_token = ?, refresh_token = ?, access_expires_at = ?, updated_at = ? WHERE id = ?")
                .bind(access)
                .bind(refresh)
                .bind(expires)
                .bind(to_millis(now))
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace_account_tokens(
        &self,
        id: &AccountId,
        expected: &Sealed,
        tokens: SealedTokens,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET access_token = ?, refresh_token = ?, access_expires_at = ?, updated_at = ? WHERE id = ? AND refresh_token = ?",
        )
        .bind(tokens.access.as_bytes())
        .bind(tokens.refresh.as_bytes())
        .bind(to_millis(tokens.access_expires_at))
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(expected.as_bytes())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn bump_link_epoch(&self, id: &AccountId, now: OffsetDateTime) -> Result<Option<u32>, StoreError> {
        let epoch: Option<i64> =
            sqlx::query_scalar("UPDATE accounts SET link_epoch = link_epoch + 1, updated_at = ? WHERE id = ? RETURNING link_epoch")
                .bind(to_millis(now))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        epoch.map(|e| u32::try_from(e).map_err(|_| corrupt("link_epoch", e))).transpose()
    }

    async fn set_mail_choices(&self, id: &AccountId, choices: MailChoices, now: OffsetDateTime) -> Result<bool, StoreError> {
        mail::set_choices(&self.pool, id, choices, now).await
    }

    async fn claim_mail(&self, id: &AccountId, claim: MailClaim) -> Result<bool, StoreError> {
        mail::claim(&self.pool, id, claim).await
    }

    async fn forget_account(&self, id: &AccountId) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM events WHERE account_id = ?").bind(id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM live_titles WHERE account_id = ?").bind(id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM live_destinations WHERE destination_id = ?").bind(id.as_str()).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?").bind(id.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_account(&self, id: &AccountId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?").bind(id.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_pending_signup(&self, pending: &PendingSignup) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO pending_signups (state, details, pkce_verifier, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&pending.state)
            .bind(to_json(&pending.details)?)
            .bind(pending.pkce_verifier.as_ref().map(Sealed::as_bytes))
            .bind(to_millis(pending.created_at))
            .bind(to_millis(pending.expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_pending_signup(&self, state: &str, now: OffsetDateTime) -> Result<PendingTake, StoreError> {
        let now = to_millis(now);
        let taken = sqlx::query(
            "UPDATE pending_signups SET consumed_at = ?1
             WHERE state = ?2 AND consumed_at IS NULL AND expires_at > ?1 RETURNING *",
        )
        .bind(now)
        .bind(state)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = taken {
            return Ok(PendingTake::Taken(Box::new(pending_from(&row)?)));
        }
        let found = sqlx::query("SELECT consumed_at FROM pending_signups WHERE state = ?").bind(state).fetch_optional(&self.pool).await?;
        Ok(match found {
            None => PendingTake::Unknown,
            Some(row) if row.try_get::<Option<i64>, _>("consumed_at")?.is_some() => PendingTake::AlreadyUsed,
            Some(_) => PendingTake::Expired,
        })
    }

    async fn purge_pending_signups(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM pending_signups WHERE expires_at < ?").bind(to_millis(before)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn delete_pending_signup(&self, state: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM pending_signups WHERE state = ?").bind(state).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn put_live(&self, live: &Live) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO lives (video_id, title, state, detected_at, started_at, ended_at, peak_destinations, failures)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (video_id) DO UPDATE SET title = excluded.title, state = excluded.state,
                 detected_at = excluded.detected_at, started_at = excluded.started_at, ended_at = excluded.ended_at,
                 peak_destinations = excluded.peak_destinations, failures = excluded.failures",
        )
        .bind(&live.video_id.0)
        .bind(&live.title)
        .bind(live.state.to_string())
        .bind(to_millis(live.detected_at))
        .bind(live.started_at.map(to_millis))
        .bind(live.ended_at.map(to_millis))
        .bind(i64::from(live.peak_destinations))
        .bind(i64::from(live.failures))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live(&self, video_id: &VideoId) -> Result<Option<Live>, StoreError> {
        let row = sqlx::query("SELECT * FROM lives WHERE video_id = ?").bind(&video_id.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(live_from).transpose()
    }

    async fn lives_before(&self, before: Option<&LiveCursor>, limit: u32) -> Result<Vec<Live>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM lives WHERE ?1 IS NULL OR detected_at < ?1 OR (detected_at = ?1 AND video_id > ?2)
             ORDER BY detected_at DESC, video_id LIMIT ?3",
        )
        .bind(before.map(|b| to_millis(b.detected_at)))
        .bind(before.map(|b| b.video_id.0.clone()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(live_from).collect()
    }

    async fn record_titles_set(&self, video_id: &VideoId, account: &AccountId, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO live_titles (video_id, account_id, set_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(&video_id.0)
            .bind(account.as_str())
            .bind(to_millis(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn titled_accounts(&self, video_id: &VideoId) -> Result<Vec<AccountId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT account_id FROM live_titles WHERE video_id = ? ORDER BY account_id")
            .bind(&video_id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(AccountId::from_stored).collect())
    }

    async fn add_live_sample(&self, video_id: &VideoId, sample: &LiveSample, cap: u32) -> Result<bool, StoreError> {
        report::add_sample(&self.pool, video_id, sample, cap).await
    }

    async fn live_samples(&self, video_id: &VideoId) -> Result<Vec<LiveSample>, StoreError> {
        report::samples(&self.pool, video_id).await
    }

    async fn add_destination_tallies(&self, video_id: &VideoId, tallies: &[DestinationTally]) -> Result<(), StoreError> {
        report::add_tallies(&self.pool, video_id, tallies).await
    }

    async fn destination_tallies(&self, video_id: &VideoId) -> Result<Vec<DestinationTally>, StoreError> {
        report::tallies(&self.pool, video_id).await
    }

    async fn append_event(&self, event: NewEvent) -> Result<Event, StoreError> {
        let id = insert_event(&self.pool, &event).await?;
        Ok(Event::once(EventId(id), event))
    }

    async fn record_event(&self, event: NewEvent, within: time::Duration) -> Result<Event, StoreError> {
        // IMMEDIATE: the write lock first, so two of these at once wait for each other instead
        // of the second failing when its read snapshot goes stale.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The newest event about the same account and live, whatever its kind: a repeat is
        // counted only when nothing else happened to them in between.
        let newest = sqlx::query("SELECT * FROM events WHERE account_id IS ? AND video_id IS ? ORDER BY id DESC LIMIT 1")
            .bind(event.account_id.as_ref().map(AccountId::as_str))
            .bind(event.video_id.as_ref().map(|v| v.0.as_str()))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = newest {
            let mut same = event_from(&row)?;
            if same.event.kind == event.kind && same.event.message == event.message && event.at - same.last_at <= within {
                same.repeats = same.repeats.saturating_add(1);
                same.last_at = same.last_at.max(event.at);
                sqlx::query("UPDATE events SET repeats = ?, last_at = ? WHERE id = ?")
                    .bind(i64::from(same.repeats))
                    .bind(to_millis(same.last_at))
                    .bind(same.id.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(same);
            }
        }
        let id = insert_event(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(Event::once(EventId(id), event))
    }

    async fn purge_events(&self, retention: Retention, now: OffsetDateTime) -> Result<u64, StoreError> {
        let oldest = now.checked_sub(retention.max_age).map_or(i64::MIN, to_millis);
        let by_age = sqlx::query("DELETE FROM events WHERE COALESCE(last_at, at) < ?").bind(oldest).execute(&self.pool).await?;
        let keep = i64::try_from(retention.max_count).unwrap_or(i64::MAX);
        let by_count = sqlx::query("DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)")
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(by_age.rows_affected() + by_count.rows_affected())
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let limit = query.clamped_limit();
        let rows = sqlx::query(
            "SELECT * FROM events
             WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR account_id = ?3)
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(query.before.map(|id| id.0))
        .bind(query.kind.map(|k| k.to_string()))
        .bind(query.account_id.as_ref().map(AccountId::as_str))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let events = rows.iter().map(event_from).collect::<Result<Vec<_>, _>>()?;
        Ok(EventPage::from_fetched(events, limit))
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_meta(&self, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?
            }
            None => sqlx::query("DELETE FROM meta WHERE key = ?").bind(key).execute(&self.pool).await?,
        };
        Ok(())
    }

    async fn direct_destinations(&self) -> Result<Vec<DirectDestination>, StoreError> {
        let rows = sqlx::query("SELECT * FROM direct_destinations ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(direct_from).collect()
    }

    async fn put_direct_destination(&self, d: &DirectDestination) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO direct_destinations (id, label, server, stream_key, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET label = excluded.label, server = excluded.server, stream_key = excluded.stream_key,
                 enabled = excluded.enabled, created_at = excluded.created_at, updated_at = excluded.updated_at",
        )
        .bind(d.id.as_str())
        .bind(&d.label)
        .bind(&d.server)
        .bind(d.key.as_bytes())
        .bind(d.enabled)
        .bind(to_millis(d.created_at))
        .bind(to_millis(d.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_direct_destination(&self, id: &DirectId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM direct_destinations WHERE id = ?").bind(id.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.list_api_tokens().await
    }
    async fn insert_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.add_api_token(token).await
    }
    async fn api_token_by_hash(&self, hash: &ApiTokenHash) -> Result<Option<ApiToken>, StoreError> {
        self.find_api_token(hash).await
    }
    async fn touch_api_token(&self, id: &ApiTokenId, at: OffsetDateTime, not_before: OffsetDateTime) -> Result<bool, StoreError> {
        self.touch_token(id, at, not_before).await
    }
    async fn delete_api_token(&self, id: &ApiTokenId) -> Result<bool, StoreError> {
        self.remove_api_token(id).await
    }

    async fn claim_node_lease(
        &self,
        claim: &NodeClaim,
        report: NodeReport,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<NodeClaimed, StoreError> {
        leases::claim_node(&self.pool, claim, report, now, ttl).await
    }

    async fn renew_node_lease(
        &self,
        name: &NodeName,
        epoch: LeaseEpoch,
        report: NodeReport,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<NodeLease>, StoreError> {
        leases::renew_node(&self.pool, name, epoch, report, now, ttl).await
    }

    async fn release_node_lease(&self, name: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
        leases::release_node(&self.pool, name, epoch, now).await
    }

    async fn live_nodes(&self, now: OffsetDateTime) -> Result<Vec<NodeLease>, StoreError> {
        leases::live_nodes(&self.pool, now).await
    }

    async fn acquire_ingest_lease(
        &self,
        holder: &NodeName,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<IngestAcquired, StoreError> {
        leases::acquire_ingest(&self.pool, holder, now, ttl).await
    }

    async fn renew_ingest_lease(
        &self,
        holder: &NodeName,
        epoch: LeaseEpoch,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<IngestLease>, StoreError> {
        leases::renew_ingest(&self.pool, holder, epoch, now, ttl).await
    }

    async fn release_ingest_lease(&self, holder: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
        leases::release_ingest(&self.pool, holder, epoch, now).await
    }

    async fn ingest_lease(&self, now: OffsetDateTime) -> Result<Option<IngestLease>, StoreError> {
        leases::ingest(&self.pool, now).await
    }
}

mod api_tokens;
mod leases;
mod mail;
mod report;
mod rows;
#[cfg(test)]
mod tests;
