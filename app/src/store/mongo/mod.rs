//! The MongoDB store, used when `FANOUT_MONGO_URI` is set. Indexes (a unique Restream user id
//! among them) are created when it connects.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use time::OffsetDateTime;

use super::*;
use crate::secrets::Secret;
use docs::*;

mod api_tokens;
mod docs;
mod leases;
mod report;

/// MongoDB's code for a duplicate key on a unique index.
const DUPLICATE_KEY: i32 = 11000;

/// The MongoDB store.
#[derive(Debug, Clone)]
pub struct MongoStore {
    db: Database,
}

impl MongoStore {
    /// Connects to `uri`, uses `database`, and makes sure its indexes exist.
    pub async fn connect(uri: &Secret, database: &str) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(uri.expose()).await.map_err(StoreError::MongoConnect)?;
        options.app_name = Some("fanout".to_string());
        options.server_selection_timeout.get_or_insert(Duration::from_secs(5));
        let client = Client::with_options(options).map_err(StoreError::MongoConnect)?;
        let store = Self { db: client.database(database) };
        store.ping().await.map_err(|e| match e {
            StoreError::Mongo(e) => StoreError::MongoConnect(e),
            other => other,
        })?;
        store.create_indexes().await?;
        Ok(store)
    }

    /// Connects without creating anything (for `fanout check`).
    pub async fn connect_existing(uri: &Secret, database: &str) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(uri.expose()).await.map_err(StoreError::MongoConnect)?;
        options.server_selection_timeout.get_or_insert(Duration::from_secs(5));
        let client = Client::with_options(options).map_err(StoreError::MongoConnect)?;
        Ok(Self { db: client.database(database) })
    }

    async fn create_indexes(&self) -> Result<(), StoreError> {
        let unique = IndexOptions::builder().unique(true).build();
        self.accounts().create_index(IndexModel::builder().keys(doc! { "restream.user_id": 1 }).options(unique).build()).await?;
        self.accounts().create_index(IndexModel::builder().keys(doc! { "created_at": 1 }).build()).await?;
        self.pending().create_index(IndexModel::builder().keys(doc! { "expires_at": 1 }).build()).await?;
        self.lives().create_index(IndexModel::builder().keys(doc! { "detected_at": -1 }).build()).await?;
        let events = self.events_collection();
        events.create_index(IndexModel::builder().keys(doc! { "kind": 1, "_id": -1 }).build()).await?;
        events.create_index(IndexModel::builder().keys(doc! { "account_id": 1, "_id": -1 }).build()).await?;
        let unique = IndexOptions::builder().unique(true).build();
        self.api_tokens_collection().create_index(IndexModel::builder().keys(doc! { "token_hash": 1 }).options(unique).build()).await?;
        report::create_indexes(&self.db).await?;
        leases::create_indexes(&self.db).await?;
        Ok(())
    }

    fn accounts(&self) -> Collection<AccountDoc> {
        self.db.collection("accounts")
    }
    fn pending(&self) -> Collection<PendingDoc> {
        self.db.collection("pending_signups")
    }
    fn lives(&self) -> Collection<LiveDoc> {
        self.db.collection("lives")
    }
    fn events_collection(&self) -> Collection<EventDoc> {
        self.db.collection("events")
    }
    fn direct(&self) -> Collection<DirectDoc> {
        self.db.collection("direct_destinations")
    }
    fn meta_collection(&self) -> Collection<Document> {
        self.db.collection("meta")
    }

    /// The next event id, from a counter document.
    async fn next_event_id(&self) -> Result<i64, StoreError> {
        let counter = self
            .db
            .collection::<Document>("counters")
            .find_one_and_update(doc! { "_id": "events" }, doc! { "$inc": { "seq": 1_i64 } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the event counter vanished".into()))?;
        counter.get_i64("seq").map_err(|e| StoreError::Corrupt(format!("event counter: {e}")))
    }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> Backend {
        Backend::Mongo
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    async fn upsert_account(&self, upsert: AccountUpsert, now: OffsetDateTime) -> Result<Upserted, StoreError> {
        let new_id = AccountId::random();
        let filter = doc! { "restream.user_id": upsert.restream.user_id.0 };
        let update = doc! {
            "$set": {
                "display_name": &upsert.display_name,
                "email": &upsert.email,
                "channels": to_bson(&upsert.channels)?,
                "restream": to_bson(&RestreamDoc {
                    user_id: upsert.restream.user_id.0,
                    username: upsert.restream.username.clone(),
                    email: upsert.restream.email.clone(),
                })?,
                "restream_channels": to_bson(&upsert.restream_channels)?,
                "tokens": to_bson(&tokens_doc(&upsert.tokens))?,
                "status": AccountStatus::Active.to_string(),
                "updated_at": date(now),
            },
            "$setOnInsert": { "_id": new_id.as_str(), "created_at": date(now) },
        };
        // Two first connections of one user can race to insert; the unique index lets one win,
        // and the other, retried, updates the winner's account.
        let mut attempts = 0;
        let doc = loop {
            attempts += 1;
            match self
                .accounts()
                .find_one_and_update(filter.clone(), update.clone())
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await
            {
                Err(e) if is_duplicate_key(&e) && attempts < 3 => continue,
                other => break other?,
            }
        };
        let account = Account::try_from(doc.ok_or_else(|| StoreError::Corrupt("upserted account vanished".into()))?)?;
        Ok(if account.id == new_id { Upserted::Created(account) } else { Upserted::Updated(account) })
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.accounts().find_one(doc! { "_id": id.as_str() }).await?.map(Account::try_from).transpose()
    }

    async fn account_by_restream_user(&self, user: RestreamUserId) -> Result<Option<Account>, StoreError> {
        self.accounts().find_one(doc! { "restream.user_id": user.0 }).await?.map(Account::try_from).transpose()
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let docs: Vec<AccountDoc> = self.accounts().find(doc! {}).sort(doc! { "created_at": 1, "_id": 1 }).await?.try_collect().await?;
        docs.into_iter().map(Account::try_from).collect()
    }

    async fn set_account_status(&self, id: &AccountId, status: AccountStatus, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done = self
            .accounts()
            .update_one(doc! { "_id": id.as_str() }, doc! { "$set": { "status": status.to_string(), "updated_at": date(now) } })
            .await?;
        Ok(done.matched_count == 1)
    }

    async fn set_account_tokens(&self, id: &AccountId, tokens: Option<SealedTokens>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let tokens = match &tokens {
            Some(t) => to_bson(&tokens_doc(t))?,
            None => Bson::Null,
        };
        let done =
            self.accounts().update_one(doc! { "_id": id.as_str() }, doc! { "$set": { "tokens": tokens, "updated_at": date(now) } }).await?;
        Ok(done.matched_count == 1)
    }

    async fn replace_account_tokens(
        &self,
        id: &AccountId,
        expected: &Sealed,
        tokens: SealedTokens,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let durable = mongodb::options::WriteConcern::builder().w(mongodb::options::Acknowledgment::Majority).journal(true).build();
        let done = self
            .accounts()
            .update_one(
                doc! { "_id": id.as_str(), "tokens.refresh": binary(expected) },
                doc! { "$set": { "tokens": to_bson(&tokens_doc(&tokens))?, "updated_at": date(now) } },
            )
            .write_concern(durable)
            .await?;
        Ok(done.matched_count == 1)
    }

    async fn set_mail_choices(&self, id: &AccountId, choices: MailChoices, now: OffsetDateTime) -> Result<bool, StoreError> {
        let set = doc! { "mail.needs_you": choices.needs_you, "mail.live_notes": choices.live_notes, "updated_at": date(now) };
        let done = self.accounts().update_one(doc! { "_id": id.as_str() }, doc! { "$set": set }).await?;
        Ok(done.matched_count == 1)
    }

    async fn claim_mail(&self, id: &AccountId, claim: MailClaim) -> Result<bool, StoreError> {
        // A document from before volunteers were mailed has no `mail`: it takes "needs you"
        // (`$ne: false` matches a missing field) and not "we're live".
        let (filter, set) = match claim {
            MailClaim::NeedsYou { at, quiet } => (
                doc! {
                    "_id": id.as_str(),
                    "mail.needs_you": { "$ne": false },
                    "$or": [ { "mail.needs_you_at": Bson::Null }, { "mail.needs_you_at": { "$lte": date(at - quiet) } } ],
                },
                doc! { "mail.needs_you_at": date(at) },
            ),
            MailClaim::LiveNote { video } => (
                doc! { "_id": id.as_str(), "mail.live_notes": true, "mail.live_note_for": { "$ne": video.0.as_str() } },
                doc! { "mail.live_note_for": video.0.as_str() },
            ),
        };
        let done = self.accounts().update_one(filter, doc! { "$set": set }).await?;
        Ok(done.modified_count == 1)
    }

    async fn bump_link_epoch(&self, id: &AccountId, now: OffsetDateTime) -> Result<Option<u32>, StoreError> {
        let updated = self
            .accounts()
            .find_one_and_update(doc! { "_id": id.as_str() }, doc! { "$inc": { "link_epoch": 1 }, "$set": { "updated_at": date(now) } })
            .return_document(ReturnDocument::After)
            .await?;
        Ok(updated.map(|account| account.link_epoch))
    }

    async fn forget_account(&self, id: &AccountId) -> Result<bool, StoreError> {
        self.events_collection().delete_many(doc! { "account_id": id.as_str() }).await?;
        self.db.collection::<Document>("live_titles").delete_many(doc! { "account_id": id.as_str() }).await?;
        report::forget(&self.db, id.as_str()).await?;
        Ok(self.accounts().delete_one(doc! { "_id": id.as_str() }).await?.deleted_count == 1)
    }

    async fn delete_account(&self, id: &AccountId) -> Result<bool, StoreError> {
        Ok(self.accounts().delete_one(doc! { "_id": id.as_str() }).await?.deleted_count == 1)
    }

    async fn insert_pending_signup(&self, pending: &PendingSignup) -> Result<(), StoreError> {
        let doc = PendingDoc {
            state: pending.state.clone(),
            details: pending.details.clone(),
            pkce_verifier: pending.pkce_verifier.as_ref().map(binary),
            created_at: date(pending.created_at),
            expires_at: date(pending.expires_at),
            consumed_at: None,
        };
        self.pending().insert_one(doc).await?;
        Ok(())
    }

    async fn take_pending_signup(&self, state: &str, now: OffsetDateTime) -> Result<PendingTake, StoreError> {
        let taken = self
            .pending()
            .find_one_and_update(
                doc! { "_id": state, "consumed_at": Bson::Null, "expires_at": { "$gt": date(now) } },
                doc! { "$set": { "consumed_at": date(now) } },
            )
            .await?;
        if let Some(doc) = taken {
            return Ok(PendingTake::Taken(Box::new(doc.try_into()?)));
        }
        Ok(match self.pending().find_one(doc! { "_id": state }).await? {
            None => PendingTake::Unknown,
            Some(doc) if doc.consumed_at.is_some() => PendingTake::AlreadyUsed,
            Some(_) => PendingTake::Expired,
        })
    }

    async fn purge_pending_signups(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(self.pending().delete_many(doc! { "expires_at": { "$lt": date(before) } }).await?.deleted_count)
    }

    async fn delete_pending_signup(&self, state: &str) -> Result<bool, StoreError> {
        Ok(self.pending().delete_one(doc! { "_id": state }).await?.deleted_count == 1)
    }

    async fn put_live(&self, live: &Live) -> Result<(), StoreError> {
        let doc = LiveDoc {
            video_id: live.video_id.0.clone(),
            title: live.title.clone(),
            state: live.state.to_string(),
            detected_at: date(live.detected_at),
            started_at: live.started_at.map(date),
            ended_at: live.ended_at.map(date),
            peak_destinations: live.peak_destinations,
            failures: live.failures,
        };
        self.lives().replace_one(doc! { "_id": &live.video_id.0 }, doc).upsert(true).await?;
        Ok(())
    }

    async fn live(&self, video_id: &VideoId) -> Result<Option<Live>, StoreError> {
        self.lives().find_one(doc! { "_id": &video_id.0 }).await?.map(Live::try_from).transpose()
    }

    async fn lives_before(&self, before: Option<&LiveCursor>, limit: u32) -> Result<Vec<Live>, StoreError> {
        let filter = match before {
            None => doc! {},
            Some(b) => doc! { "$or": [
                { "detected_at": { "$lt": date(b.detected_at) } },
                { "detected_at": date(b.detected_at), "_id": { "$gt": &b.video_id.0 } },
            ] },
        };
        let docs: Vec<LiveDoc> =
            self.lives().find(filter).sort(doc! { "detected_at": -1, "_id": 1 }).limit(i64::from(limit)).await?.try_collect().await?;
        docs.into_iter().map(Live::try_from).collect()
    }

    async fn record_titles_set(&self, video_id: &VideoId, account: &AccountId, at: OffsetDateTime) -> Result<(), StoreError> {
        let id = format!("{}/{}", video_id.0, account.as_str());
        self.db
            .collection::<Document>("live_titles")
            .update_one(
                doc! { "_id": id },
                doc! { "$setOnInsert": { "video_id": &video_id.0, "account_id": account.as_str(), "set_at": date(at) } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    async fn titled_accounts(&self, video_id: &VideoId) -> Result<Vec<AccountId>, StoreError> {
        let docs: Vec<Document> = self
            .db
            .collection::<Document>("live_titles")
            .find(doc! { "video_id": &video_id.0 })
            .sort(doc! { "account_id": 1 })
            .await?
            .try_collect()
            .await?;
        docs.iter()
            .map(|d| d.get_str("account_id").map(AccountId::from_stored).map_err(|e| StoreError::Corrupt(format!("live_titles: {e}"))))
            .collect()
    }

    async fn add_live_sample(&self, video_id: &VideoId, sample: &LiveSample, cap: u32) -> Result<bool, StoreError> {
        report::add_sample(&self.db, video_id, sample, cap).await
    }

    async fn live_samples(&self, video_id: &VideoId) -> Result<Vec<LiveSample>, StoreError> {
        report::samples(&self.db, video_id).await
    }

    async fn add_destination_tallies(&self, video_id: &VideoId, tallies: &[DestinationTally]) -> Result<(), StoreError> {
        report::add_tallies(&self.db, video_id, tallies).await
    }

    async fn destination_tallies(&self, video_id: &VideoId) -> Result<Vec<DestinationTally>, StoreError> {
        report::tallies(&self.db, video_id).await
    }

    async fn append_event(&self, event: NewEvent) -> Result<Event, StoreError> {
        let id = self.next_event_id().await?;
        self.events_collection().insert_one(EventDoc::new(id, &event)).await?;
        Ok(Event::once(EventId(id), event))
    }

    async fn record_event(&self, event: NewEvent, within: time::Duration) -> Result<Event, StoreError> {
        // The newest event about the same account and live, whatever its kind.
        let same = doc! {
            "account_id": event.account_id.as_ref().map(|a| a.as_str()),
            "video_id": event.video_id.as_ref().map(|v| v.0.as_str()),
        };
        let newest = self.events_collection().find_one(same).sort(doc! { "_id": -1 }).await?;
        if let Some(newest) = newest {
            let mut counted = Event::try_from(newest)?;
            if counted.event.kind == event.kind && counted.event.message == event.message && event.at - counted.last_at <= within {
                counted.repeats = counted.repeats.saturating_add(1);
                counted.last_at = counted.last_at.max(event.at);
                self.events_collection()
                    .update_one(doc! { "_id": counted.id.0 }, doc! { "$inc": { "repeats": 1 }, "$max": { "last_at": date(event.at) } })
                    .await?;
                return Ok(counted);
            }
        }
        self.append_event(event).await
    }

    async fn purge_events(&self, retention: Retention, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut deleted = 0;
        if let Some(oldest) = now.checked_sub(retention.max_age) {
            let filter = doc! { "$or": [
                { "last_at": { "$lt": date(oldest) } },
                { "last_at": Bson::Null, "at": { "$lt": date(oldest) } },
            ] };
            deleted += self.events_collection().delete_many(filter).await?.deleted_count;
        }
        let skip = retention.max_count;
        let cut = self.events_collection().find(doc! {}).sort(doc! { "_id": -1 }).skip(skip).limit(1).await?.try_next().await?;
        if let Some(cut) = cut {
            deleted += self.events_collection().delete_many(doc! { "_id": { "$lte": cut.id } }).await?.deleted_count;
        }
        Ok(deleted)
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let limit = query.clamped_limit();
        let mut filter = Document::new();
        if let Some(before) = query.before {
            filter.insert("_id", doc! { "$lt": before.0 });
        }
        if let Some(kind) = query.kind {
            filter.insert("kind", kind.to_string());
        }
        if let Some(account) = &query.account_id {
            filter.insert("account_id", account.as_str());
        }
        let docs: Vec<EventDoc> =
            self.events_collection().find(filter).sort(doc! { "_id": -1 }).limit(i64::from(limit) + 1).await?.try_collect().await?;
        let events = docs.into_iter().map(Event::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(EventPage::from_fetched(events, limit))
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(doc) = self.meta_collection().find_one(doc! { "_id": key }).await? else {
            return Ok(None);
        };
        match doc.get("value") {
            Some(Bson::Binary(b)) => Ok(Some(b.bytes.clone())),
            _ => Err(StoreError::Corrupt(format!("meta value {key} is not binary"))),
        }
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StoreError> {
        let value = Binary { subtype: BinarySubtype::Generic, bytes: value.to_vec() };
        let done = self.meta_collection().update_one(doc! { "_id": key }, doc! { "$setOnInsert": { "value": value } }).upsert(true).await?;
        Ok(done.upserted_id.is_some())
    }

    async fn set_meta(&self, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                let value = Binary { subtype: BinarySubtype::Generic, bytes: value.to_vec() };
                self.meta_collection().update_one(doc! { "_id": key }, doc! { "$set": { "value": value } }).upsert(true).await?;
            }
            None => {
                self.meta_collection().delete_one(doc! { "_id": key }).await?;
            }
        }
        Ok(())
    }

    async fn direct_destinations(&self) -> Result<Vec<DirectDestination>, StoreError> {
        let docs: Vec<DirectDoc> = self.direct().find(doc! {}).sort(doc! { "created_at": 1, "_id": 1 }).await?.try_collect().await?;
        docs.into_iter().map(DirectDestination::try_from).collect()
    }

    async fn put_direct_destination(&self, destination: &DirectDestination) -> Result<(), StoreError> {
        self.direct().replace_one(doc! { "_id": destination.id.as_str() }, DirectDoc::from(destination)).upsert(true).await?;
        Ok(())
    }

    async fn delete_direct_destination(&self, id: &DirectId) -> Result<bool, StoreError> {
        Ok(self.direct().delete_one(doc! { "_id": id.as_str() }).await?.deleted_count == 1)
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
        leases::claim_node(&self.db, claim, report, now, ttl).await
    }

    async fn renew_node_lease(
        &self,
        name: &NodeName,
        epoch: LeaseEpoch,
        report: NodeReport,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<NodeLease>, StoreError> {
        leases::renew_node(&self.db, name, epoch, report, now, ttl).await
    }

    async fn release_node_lease(&self, name: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
        leases::release_node(&self.db, name, epoch, now).await
    }

    async fn live_nodes(&self, now: OffsetDateTime) -> Result<Vec<NodeLease>, StoreError> {
        leases::live_nodes(&self.db, now).await
    }

    async fn acquire_ingest_lease(
        &self,
        holder: &NodeName,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<IngestAcquired, StoreError> {
        leases::acquire_ingest(&self.db, holder, now, ttl).await
    }

    async fn renew_ingest_lease(
        &self,
        holder: &NodeName,
        epoch: LeaseEpoch,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<IngestLease>, StoreError> {
        leases::renew_ingest(&self.db, holder, epoch, now, ttl).await
    }

    async fn release_ingest_lease(&self, holder: &NodeName, epoch: LeaseEpoch, now: OffsetDateTime) -> Result<bool, StoreError> {
        leases::release_ingest(&self.db, holder, epoch, now).await
    }

    async fn ingest_lease(&self, now: OffsetDateTime) -> Result<Option<IngestLease>, StoreError> {
        leases::ingest(&self.db, now).await
    }
}
