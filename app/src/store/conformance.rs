//! The store conformance suite: every case runs against SQLite always, and against MongoDB when
//! `FANOUT_TEST_MONGO_URI` points at a server. The MongoDB cases are `#[ignore]`d so that, without
//! a server, `cargo test` lists them as skipped instead of passing them; `scripts/test` runs
//! them (`-- --ignored store::conformance::mongo`) whenever the variable is set. A cluster's
//! leases have their cases in `conformance/leases.rs`.

use std::future::Future;
use std::sync::Arc;

use time::Duration;

use super::*;
use crate::model::{EventKind, LiveState};
use report::*;

mod report;
use crate::secrets::{Cipher, MasterKey, Purpose, Secret};

mod api_tokens;
use api_tokens::*;

/// A fresh, empty store of one backend, and what removes it afterwards.
struct Fixture {
    store: SharedStore,
    _dir: Option<tempfile::TempDir>,
    mongo_db: Option<mongodb::Database>,
}

async fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = SqliteStore::open(&dir.path().join("fanout.db")).await.unwrap_or_else(|e| panic!("open sqlite: {e}"));
    Fixture { store: Arc::new(store), _dir: Some(dir), mongo_db: None }
}

async fn mongo_fixture() -> Fixture {
    let Some(uri) = std::env::var("FANOUT_TEST_MONGO_URI").ok().filter(|u| !u.is_empty()) else {
        panic!("the MongoDB conformance cases need FANOUT_TEST_MONGO_URI (a MongoDB server to create test databases on)");
    };
    let database = format!("fanout_test_{}", uuid::Uuid::new_v4().simple());
    let store = MongoStore::connect(&Secret::new(uri.clone()), &database)
        .await
        .unwrap_or_else(|e| panic!("FANOUT_TEST_MONGO_URI is set but MongoDB is not usable: {e}"));
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap_or_else(|e| panic!("mongo client: {e}"));
    Fixture { store: Arc::new(store), _dir: None, mongo_db: Some(client.database(&database)) }
}

async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let fixture = sqlite_fixture().await;
    case(fixture.store.clone()).await;
}

async fn run_mongo<F, Fut>(case: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let fixture = mongo_fixture().await;
    case(fixture.store.clone()).await;
    if let Some(db) = fixture.mongo_db {
        let _ = db.drop().await;
    }
}

/// Declares each case once; it becomes one test per backend (`sqlite::case`, `mongo::case`).
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::run_sqlite(super::$case).await }) +
        }
        mod mongo {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "MongoDB: runs when FANOUT_TEST_MONGO_URI is set"]
            async fn $case() { super::run_mongo(super::$case).await }) +
        }
    };
}

mod leases;

conformance!(
    accounts_create_read_update_delete,
    reconnect_updates_the_account_and_never_duplicates,
    concurrent_first_connections_make_one_account,
    pending_signup_is_taken_exactly_once,
    pending_signup_expires_and_is_purged,
    concurrent_callbacks_take_a_signup_once,
    lives_are_replaced_by_video_id_and_listed_newest_first,
    events_page_newest_first_with_filters,
    meta_is_set_only_when_absent,
    store_is_tied_to_the_key_its_secrets_were_sealed_with,
    titles_set_for_a_live_are_remembered_once_per_account,
    meta_is_replaced_and_deleted,
    direct_destinations_create_replace_list_delete,
    tokens_are_replaced_only_over_the_refresh_token_they_replace,
    link_epochs_move_on_one_at_a_time,
    forgetting_an_account_removes_everything_that_names_it,
    a_declined_signup_is_deleted_at_once,
    repeated_events_are_counted_not_repeated,
    events_recorded_at_once_are_all_kept,
    events_beyond_their_retention_are_purged,
    api_tokens_are_found_by_hash_touched_at_most_once_a_minute_and_revoked,
    mail_choices_default_and_change,
    needs_you_is_claimed_once_per_quiet_time_and_only_if_taken,
    a_live_note_is_claimed_once_per_live_and_only_if_asked_for,
    live_samples_are_kept_up_to_their_cap_oldest_first,
    destination_tallies_add_up_and_keep_the_lowest_bitrate,
    forgetting_an_account_removes_its_tallies_from_reports,
);

mod mail;
use mail::*;

async fn tokens_are_replaced_only_over_the_refresh_token_they_replace(store: SharedStore) {
    let cipher = cipher();
    let account = ok(store.upsert_account(upsert(8101, "ana", &cipher), now())).await.account().clone();
    let first = account.tokens.clone().unwrap_or_else(|| panic!("tokens"));
    let mut second = upsert(8101, "ana", &cipher).tokens;
    second.access = cipher.seal_secret(Purpose::AccessToken, &Secret::new("access-2"));
    second.refresh = cipher.seal_secret(Purpose::RefreshToken, &Secret::new("refresh-2"));
    assert!(ok(store.replace_account_tokens(&account.id, &first.refresh, second.clone(), now())).await);
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.tokens), Some(second.clone()));
    // A second refresh that read the first pair loses: its swap finds another refresh token.
    let third = upsert(8101, "ana", &cipher).tokens;
    assert!(!ok(store.replace_account_tokens(&account.id, &first.refresh, third.clone(), now())).await);
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.tokens), Some(second.clone()));
    // A disconnect before it: nothing is stored over it.
    assert!(ok(store.set_account_tokens(&account.id, None, now())).await);
    assert!(!ok(store.replace_account_tokens(&account.id, &second.refresh, third, now())).await);
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.tokens), None);
    assert!(!ok(store.replace_account_tokens(&AccountId::from_stored("nobody"), &second.refresh, second.clone(), now())).await);
}

async fn link_epochs_move_on_one_at_a_time(store: SharedStore) {
    let cipher = cipher();
    let account = ok(store.upsert_account(upsert(8201, "ben", &cipher), now())).await.account().clone();
    assert_eq!(account.link_epoch, 0);
    assert_eq!(ok(store.bump_link_epoch(&account.id, now())).await, Some(1));
    assert_eq!(ok(store.bump_link_epoch(&account.id, now())).await, Some(2));
    assert_eq!(ok(store.account(&account.id)).await.map(|a| a.link_epoch), Some(2));
    let again = ok(store.upsert_account(upsert(8201, "ben", &cipher), now())).await;
    assert_eq!(again.account().link_epoch, 2, "a reconnection keeps the generation");
    assert_eq!(ok(store.bump_link_epoch(&AccountId::from_stored("nobody"), now())).await, None);
}

async fn forgetting_an_account_removes_everything_that_names_it(store: SharedStore) {
    let cipher = cipher();
    let ana = ok(store.upsert_account(upsert(8301, "ana", &cipher), now())).await.account().clone();
    let ben = ok(store.upsert_account(upsert(8302, "ben", &cipher), now())).await.account().clone();
    let live = VideoId("live-forget".into());
    for who in [&ana, &ben] {
        ok(store.record_titles_set(&live, &who.id, now())).await;
        ok(store.append_event(NewEvent::now(EventKind::AccountConnected, format!("{} connected", who.display_name)).for_account(&who.id)))
            .await;
    }
    ok(store.append_event(NewEvent::now(EventKind::LiveDetected, "Live detected"))).await;
    assert!(ok(store.forget_account(&ana.id)).await);
    assert!(!ok(store.forget_account(&ana.id)).await);
    assert_eq!(ok(store.account(&ana.id)).await, None);
    assert_eq!(ok(store.titled_accounts(&live)).await, vec![ben.id.clone()]);
    let left: Vec<String> = ok(store.events(&EventQuery::newest(50))).await.events.into_iter().map(|e| e.event.message).collect();
    assert_eq!(left, ["Live detected", "ben connected"], "nothing names ana any more; the rest stays");
}

async fn a_declined_signup_is_deleted_at_once(store: SharedStore) {
    let cipher = cipher();
    ok(store.insert_pending_signup(&pending("declined-state", now(), Duration::minutes(15), &cipher))).await;
    assert!(ok(store.delete_pending_signup("declined-state")).await);
    assert!(!ok(store.delete_pending_signup("declined-state")).await);
    assert_eq!(ok(store.take_pending_signup("declined-state", now())).await, PendingTake::Unknown);
}

async fn repeated_events_are_counted_not_repeated(store: SharedStore) {
    let account = AccountId::from_stored("a-failing-account");
    let failed =
        |at| NewEvent { at, ..NewEvent::now(EventKind::DestinationFailed, "Ana could not be prepared: 500").for_account(&account) };
    let t0 = now();
    let first = ok(store.record_event(failed(t0), Duration::minutes(10))).await;
    let again = ok(store.record_event(failed(t0 + Duration::minutes(1)), Duration::minutes(10))).await;
    assert_eq!((again.id, again.repeats, again.last_at), (first.id, 2, t0 + Duration::minutes(1)));
    // Another message, another account, or too long after: a new event.
    let other = NewEvent::now(EventKind::DestinationFailed, "Ana could not be prepared: 401").for_account(&account);
    assert_ne!(ok(store.record_event(other, Duration::minutes(10))).await.id, first.id);
    let later = ok(store.record_event(failed(t0 + Duration::minutes(30)), Duration::minutes(10))).await;
    assert_eq!(later.repeats, 1);
    let page = ok(store.events(&EventQuery::newest(10))).await;
    assert_eq!(page.events.len(), 3);
    // Something else in between keeps both: a timeline is not folded.
    let joined = || NewEvent::now(EventKind::DestinationJoined, "Ana joined the live").for_account(&account);
    let first_join = ok(store.record_event(joined(), Duration::minutes(10))).await;
    ok(store.record_event(
        NewEvent::now(EventKind::DestinationLeft, "Ana left the live (paused)").for_account(&account),
        Duration::minutes(10),
    ))
    .await;
    assert_ne!(ok(store.record_event(joined(), Duration::minutes(10))).await.id, first_join.id, "joined, left, joined: three events");
    let counted = page.events.iter().find(|e| e.id == first.id).map(|e| (e.repeats, e.last_at));
    assert_eq!(counted, Some((2, t0 + Duration::minutes(1))), "the count is kept");
}

async fn events_recorded_at_once_are_all_kept(store: SharedStore) {
    let writes = (0..40).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let event = NewEvent::now(EventKind::DestinationJoined, format!("volunteer {n} joined"))
                .for_account(&AccountId::from_stored(format!("account-{n}")));
            store.record_event(event, Duration::minutes(10)).await
        })
    });
    for write in futures::future::join_all(writes).await {
        write.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("a concurrent write failed: {e}"));
    }
    assert_eq!(ok(store.events(&EventQuery::newest(100))).await.events.len(), 40);
}

async fn events_beyond_their_retention_are_purged(store: SharedStore) {
    let t0 = now();
    for day in 0..5 {
        let event = NewEvent { at: t0 - Duration::days(100 - day), ..NewEvent::now(EventKind::LiveDetected, format!("old {day}")) };
        ok(store.append_event(event)).await;
    }
    for n in 0..5 {
        ok(store.append_event(NewEvent { at: t0, ..NewEvent::now(EventKind::LiveDetected, format!("new {n}")) })).await;
    }
    let purged = ok(store.purge_events(Retention { max_age: Duration::days(90), max_count: 3 }, t0)).await;
    assert_eq!(purged, 7, "five too old, then two over the count");
    let left: Vec<String> = ok(store.events(&EventQuery::newest(50))).await.events.into_iter().map(|e| e.event.message).collect();
    assert_eq!(left, ["new 4", "new 3", "new 2"]);
}

fn cipher() -> Cipher {
    Cipher::new(&MasterKey::generate())
}

fn upsert(user: i64, name: &str, cipher: &Cipher) -> AccountUpsert {
    AccountUpsert {
        display_name: name.to_string(),
        email: format!("{name}@example.org"),
        channels: VolunteerChannels {
            youtube: Some(format!("https://www.youtube.com/@{name}")),
            twitch: None,
            x: Some(format!("https://x.com/{name}")),
            facebook: None,
        },
        restream: RestreamProfile {
            user_id: RestreamUserId(user),
            username: format!("{name}-rs"),
            email: format!("{name}@restream.example"),
        },
        restream_channels: vec![RestreamChannel {
            id: user * 10,
            platform_id: 5,
            platform: "YouTube".into(),
            display_name: format!("{name} on YouTube"),
            url: Some(format!("https://www.youtube.com/@{name}")),
            enabled: true,
        }],
        tokens: SealedTokens {
            access: cipher.seal_secret(Purpose::AccessToken, &Secret::new(format!("access-{name}"))),
            refresh: cipher.seal_secret(Purpose::RefreshToken, &Secret::new(format!("refresh-{name}"))),
            access_expires_at: now() + Duration::hours(1),
        },
    }
}

pub(super) async fn ok<T>(result: impl Future<Output = Result<T, StoreError>>) -> T {
    result.await.unwrap_or_else(|e| panic!("store call failed: {e}"))
}

async fn accounts_create_read_update_delete(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    let created = ok(store.upsert_account(upsert(101, "ana", &cipher), t0)).await;
    let Upserted::Created(account) = created else { panic!("first upsert must create: {created:?}") };
    assert_eq!(account.display_name, "ana");
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.created_at, t0);
    assert_eq!(account.updated_at, t0);
    assert_eq!(account.restream.user_id, RestreamUserId(101));

    assert_eq!(ok(store.account(&account.id)).await.as_ref(), Some(&account));
    assert_eq!(ok(store.account_by_restream_user(RestreamUserId(101))).await.as_ref(), Some(&account));
    assert_eq!(ok(store.account_by_restream_user(RestreamUserId(999))).await, None);
    assert_eq!(ok(store.account(&AccountId::random())).await, None);

    let tokens = account.tokens.clone().unwrap_or_else(|| panic!("tokens stored"));
    let access = cipher.open_secret(Purpose::AccessToken, &tokens.access).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(access.expose(), "access-ana");

    let t1 = t0 + Duration::seconds(5);
    assert!(ok(store.set_account_status(&account.id, AccountStatus::Paused, t1)).await);
    let paused = ok(store.account(&account.id)).await.unwrap_or_else(|| panic!("still there"));
    assert_eq!((paused.status, paused.updated_at), (AccountStatus::Paused, t1));
    assert!(!ok(store.set_account_status(&AccountId::random(), AccountStatus::Paused, t1)).await);

    assert!(ok(store.set_account_tokens(&account.id, None, t1)).await);
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.tokens), None, "tokens deleted");
    let fresh = upsert(101, "ana", &cipher).tokens;
    assert!(ok(store.set_account_tokens(&account.id, Some(fresh.clone()), t1)).await);
    assert_eq!(ok(store.account(&account.id)).await.and_then(|a| a.tokens), Some(fresh));

    ok(store.upsert_account(upsert(102, "ben", &cipher), t1)).await;
    let names: Vec<String> = ok(store.accounts()).await.into_iter().map(|a| a.display_name).collect();
    assert_eq!(names, ["ana", "ben"], "oldest first");

    assert!(ok(store.delete_account(&account.id)).await);
    assert!(!ok(store.delete_account(&account.id)).await);
    assert_eq!(ok(store.account(&account.id)).await, None);
    assert_eq!(ok(store.accounts()).await.len(), 1);
}

async fn reconnect_updates_the_account_and_never_duplicates(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    let first = ok(store.upsert_account(upsert(7, "cara", &cipher), t0)).await.account().clone();
    ok(store.set_account_status(&first.id, AccountStatus::NeedsReconnect, t0)).await;

    let t1 = t0 + Duration::minutes(3);
    let mut again = upsert(7, "cara", &cipher);
    again.display_name = "Cara's Channel".into();
    again.channels.twitch = Some("https://twitch.tv/cara".into());
    let second = ok(store.upsert_account(again.clone(), t1)).await;
    let Upserted::Updated(updated) = second else { panic!("a reconnect must update: {second:?}") };
    assert_eq!(updated.id, first.id, "same account");
    assert_eq!(updated.created_at, t0, "connected-since is kept");
    assert_eq!(updated.updated_at, t1);
    assert_eq!(updated.display_name, "Cara's Channel");
    assert_eq!(updated.channels, again.channels);
    assert_eq!(updated.status, AccountStatus::Active, "a reconnect makes the account active again");
    assert_eq!(updated.tokens, Some(again.tokens));
    assert_eq!(ok(store.accounts()).await.len(), 1);
}

async fn concurrent_first_connections_make_one_account(store: SharedStore) {
    let cipher = Arc::new(cipher());
    let at = now();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, cipher) = (store.clone(), cipher.clone());
            tokio::spawn(async move { store.upsert_account(upsert(55, &format!("dan{i}"), &cipher), at).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = Vec::new();
    for task in tasks {
        let outcome = task.await.unwrap_or_else(|e| panic!("task: {e}")).unwrap_or_else(|e| panic!("upsert: {e}"));
        created += usize::from(matches!(outcome, Upserted::Created(_)));
        ids.push(outcome.account().id.clone());
    }
    assert_eq!(created, 1, "exactly one upsert creates");
    ids.dedup();
    assert_eq!(ids.len(), 1, "every upsert saw the same account");
    assert_eq!(ok(store.accounts()).await.len(), 1);
}

fn pending(state: &str, created_at: OffsetDateTime, ttl: Duration, cipher: &Cipher) -> PendingSignup {
    PendingSignup {
        state: state.to_string(),
        details: crate::signup::validate::ValidSignup {
            display_name: "Eve".into(),
            email: "eve@example.org".into(),
            channels: VolunteerChannels { twitch: Some("https://www.twitch.tv/eve".into()), ..Default::default() },
        },
        pkce_verifier: Some(cipher.seal_secret(Purpose::PkceVerifier, &Secret::new("verifier"))),
        created_at,
        expires_at: created_at + ttl,
    }
}

async fn pending_signup_is_taken_exactly_once(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    let signup = pending("state-one", t0, Duration::minutes(10), &cipher);
    ok(store.insert_pending_signup(&signup)).await;

    assert_eq!(ok(store.take_pending_signup("state-one", t0 + Duration::seconds(30))).await, PendingTake::Taken(Box::new(signup)));
    assert_eq!(ok(store.take_pending_signup("state-one", t0 + Duration::seconds(31))).await, PendingTake::AlreadyUsed);
    assert_eq!(ok(store.take_pending_signup("never-issued", t0)).await, PendingTake::Unknown);
}

async fn pending_signup_expires_and_is_purged(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    ok(store.insert_pending_signup(&pending("old", t0, Duration::minutes(10), &cipher))).await;
    ok(store.insert_pending_signup(&pending("young", t0 + Duration::minutes(9), Duration::minutes(10), &cipher))).await;

    let later = t0 + Duration::minutes(11);
    assert_eq!(ok(store.take_pending_signup("old", later)).await, PendingTake::Expired);
    assert_eq!(ok(store.purge_pending_signups(later)).await, 1, "only the expired one goes");
    assert_eq!(ok(store.take_pending_signup("old", later)).await, PendingTake::Unknown);
    assert!(matches!(ok(store.take_pending_signup("young", later)).await, PendingTake::Taken(_)));
}

async fn concurrent_callbacks_take_a_signup_once(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    ok(store.insert_pending_signup(&pending("raced", t0, Duration::minutes(10), &cipher))).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_pending_signup("raced", t0 + Duration::seconds(1)).await })
        })
        .collect();
    let mut taken = 0;
    for task in tasks {
        let outcome = task.await.unwrap_or_else(|e| panic!("task: {e}")).unwrap_or_else(|e| panic!("take: {e}"));
        match outcome {
            PendingTake::Taken(_) => taken += 1,
            PendingTake::AlreadyUsed => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(taken, 1);
}

async fn lives_are_replaced_by_video_id_and_listed_newest_first(store: SharedStore) {
    let t0 = now();
    let mut live = Live {
        video_id: VideoId("abc123DEF45".into()),
        title: "Morning satsang — a very long title that is kept whole, never cut at sixteen characters".into(),
        state: LiveState::Detected,
        detected_at: t0,
        started_at: None,
        ended_at: None,
        peak_destinations: 0,
        failures: 0,
    };
    ok(store.put_live(&live)).await;
    assert_eq!(ok(store.live(&live.video_id)).await.as_ref(), Some(&live));

    live.state = LiveState::Streaming;
    live.started_at = Some(t0 + Duration::seconds(4));
    live.peak_destinations = 212;
    live.failures = 3;
    ok(store.put_live(&live)).await;
    assert_eq!(ok(store.live(&live.video_id)).await.as_ref(), Some(&live));

    let newer = Live { video_id: VideoId("zzz".into()), detected_at: t0 + Duration::hours(2), ..live.clone() };
    ok(store.put_live(&newer)).await;
    let recent = ok(store.recent_lives(10)).await;
    assert_eq!(recent, vec![newer.clone(), live.clone()]);
    assert_eq!(ok(store.recent_lives(1)).await, vec![newer.clone()]);
    assert_eq!(ok(store.live(&VideoId("missing".into()))).await, None);

    // Paged: one detected at the same moment as `live` sorts after it by video id.
    let twin = Live { video_id: VideoId("zzz-twin".into()), ..live.clone() };
    ok(store.put_live(&twin)).await;
    let first = ok(store.lives_before(None, 2)).await;
    assert_eq!(first, vec![newer.clone(), live.clone()]);
    let cursor = LiveCursor::after(&first[1]);
    assert_eq!(LiveCursor::from_text(&cursor.to_text()), Some(cursor.clone()), "the cursor reads back");
    assert_eq!(ok(store.lives_before(Some(&cursor), 2)).await, vec![twin.clone()], "the next page goes on after it");
    assert_eq!(ok(store.lives_before(Some(&LiveCursor::after(&twin)), 2)).await, vec![], "and ends");
    assert_eq!(ok(store.lives_before(Some(&LiveCursor::after(&newer)), 5)).await, vec![live, twin]);
}

async fn events_page_newest_first_with_filters(store: SharedStore) {
    let account = AccountId::random();
    let t0 = now();
    for i in 0..25_i64 {
        let kind = if i % 5 == 0 { EventKind::LiveDetected } else { EventKind::AccountStatusChanged };
        let mut event = NewEvent::now(kind, format!("event {i}"));
        event.at = t0 + Duration::seconds(i);
        if i % 2 == 0 {
            event = event.for_account(&account);
        }
        let recorded = ok(store.append_event(event.clone())).await;
        assert_eq!(recorded.event, event);
    }

    let mut query = EventQuery::newest(10);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = ok(store.events(&query)).await;
        pages += 1;
        seen.extend(page.events.iter().map(|e| e.event.message.clone()));
        assert!(page.events.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        match page.next_before {
            Some(next) => query.before = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).rev().map(|i| format!("event {i}")).collect();
    assert_eq!(seen, expected, "every event once, in order");

    let by_kind = ok(store.events(&EventQuery { kind: Some(EventKind::LiveDetected), ..EventQuery::newest(100) })).await;
    let messages: Vec<_> = by_kind.events.iter().map(|e| e.event.message.as_str()).collect();
    assert_eq!(messages, ["event 20", "event 15", "event 10", "event 5", "event 0"]);
    assert_eq!(by_kind.next_before, None);

    let by_account = ok(store.events(&EventQuery { account_id: Some(account.clone()), ..EventQuery::newest(100) })).await;
    assert_eq!(by_account.events.len(), 13);
    assert!(by_account.events.iter().all(|e| e.event.account_id.as_ref() == Some(&account)));

    let zero = ok(store.events(&EventQuery::newest(0))).await;
    assert_eq!(zero.events.len(), 1, "a page holds at least one event");
}

async fn meta_is_set_only_when_absent(store: SharedStore) {
    assert_eq!(ok(store.meta("k")).await, None);
    assert!(ok(store.put_meta_if_absent("k", b"first")).await);
    assert!(!ok(store.put_meta_if_absent("k", b"second")).await);
    assert_eq!(ok(store.meta("k")).await, Some(b"first".to_vec()));
}

async fn meta_is_replaced_and_deleted(store: SharedStore) {
    ok(store.set_meta("profile", Some(b"480p"))).await;
    assert_eq!(ok(store.meta("profile")).await, Some(b"480p".to_vec()));
    ok(store.set_meta("profile", Some(b"copy"))).await;
    assert_eq!(ok(store.meta("profile")).await, Some(b"copy".to_vec()));
    ok(store.set_meta("profile", None)).await;
    assert_eq!(ok(store.meta("profile")).await, None);
    ok(store.set_meta("profile", None)).await;
    assert!(ok(store.put_meta_if_absent("profile", b"720p")).await, "deleted means absent");
}

async fn direct_destinations_create_replace_list_delete(store: SharedStore) {
    let cipher = cipher();
    let t0 = now();
    assert_eq!(ok(store.direct_destinations()).await, Vec::new());
    let mut first = DirectDestination {
        id: DirectId::random(),
        label: "Church Facebook".into(),
        server: "rtmps://live-api-s.facebook.com:443/rtmp".into(),
        key: cipher.seal(Purpose::StreamKey, b"FB-1234-secret"),
        enabled: true,
        created_at: t0,
        updated_at: t0,
    };
    let second = DirectDestination {
        id: DirectId::random(),
        label: "Backup".into(),
        server: "rtmp://backup.example.org/live".into(),
        key: cipher.seal(Purpose::StreamKey, b"backup-key"),
        enabled: false,
        created_at: t0 + Duration::seconds(1),
        updated_at: t0 + Duration::seconds(1),
    };
    ok(store.put_direct_destination(&second)).await;
    ok(store.put_direct_destination(&first)).await;
    assert_eq!(ok(store.direct_destinations()).await, vec![first.clone(), second.clone()], "oldest first");

    first.label = "Church Facebook page".into();
    first.enabled = false;
    first.updated_at = t0 + Duration::seconds(9);
    ok(store.put_direct_destination(&first)).await;
    let listed = ok(store.direct_destinations()).await;
    assert_eq!(listed, vec![first.clone(), second.clone()], "replaced in place, not duplicated");
    assert_eq!(cipher.open(Purpose::StreamKey, &listed[0].key).ok().map(|key| key.to_vec()), Some(b"FB-1234-secret".to_vec()));

    assert!(ok(store.delete_direct_destination(&first.id)).await);
    assert!(!ok(store.delete_direct_destination(&first.id)).await);
    assert_eq!(ok(store.direct_destinations()).await, vec![second]);
}

async fn store_is_tied_to_the_key_its_secrets_were_sealed_with(store: SharedStore) {
    let key = MasterKey::generate();
    let cipher = Cipher::new(&key);
    assert_eq!(ok(verify_key(store.as_ref(), &cipher)).await, None, "a new store has no key check");
    assert_eq!(ok(ensure_key_matches(store.as_ref(), &cipher)).await, KeyCheck::Adopted);
    assert_eq!(ok(ensure_key_matches(store.as_ref(), &cipher)).await, KeyCheck::Matches);

    let other = Cipher::new(&MasterKey::generate());
    match ensure_key_matches(store.as_ref(), &other).await {
        Err(StoreError::Key(SecretsError::WrongKey { sealed_with, configured })) => {
            assert_eq!(sealed_with, key.id());
            assert_eq!(configured, other.key_id());
        }
        outcome => panic!("a different key must be refused, got {outcome:?}"),
    }
}

async fn titles_set_for_a_live_are_remembered_once_per_account(store: SharedStore) {
    let live = VideoId("live-one".into());
    let other = VideoId("live-two".into());
    let (a, b) = (AccountId::from_stored("a-account"), AccountId::from_stored("b-account"));
    assert_eq!(ok(store.titled_accounts(&live)).await, Vec::<AccountId>::new());
    ok(store.record_titles_set(&live, &b, now())).await;
    ok(store.record_titles_set(&live, &a, now())).await;
    ok(store.record_titles_set(&live, &a, now())).await;
    ok(store.record_titles_set(&other, &a, now())).await;
    assert_eq!(ok(store.titled_accounts(&live)).await, vec![a.clone(), b]);
    assert_eq!(ok(store.titled_accounts(&other)).await, vec![a]);
}
