//! Tokens and API calls against the Restream stand-in: one refresh for many callers, the rotated
//! pair stored before use, a refused refresh marking only its account, 429s waited out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{AccountStatus, EventKind};
use app::secrets::{Cipher, MasterKey, Purpose};
use app::store::{EventQuery, SharedStore};
use server::restream::api::RestreamApi;
use server::restream::oauth::RestreamOAuth;
use server::restream::tokens::{TokenError, TokenKeeper};
use server::restream::{Endpoints, http_client};

use super::signup::World;

/// The keeper and API client Fanout would build, over the world's store and key.
async fn keeper(world: &World) -> (TokenKeeper, RestreamApi, SharedStore, Arc<Cipher>) {
    let store: SharedStore = Arc::new(world.store().await);
    let key = MasterKey::read_file(&world.fanout.data_dir().join("secret.key")).ok().flatten().unwrap_or_else(|| panic!("key"));
    let cipher = Arc::new(Cipher::new(&key));
    let endpoints = Endpoints::new(url::Url::parse(&world.restream.url()).unwrap_or_else(|e| panic!("{e}")));
    let redirect = url::Url::parse(&format!("{}/oauth/restream/callback", world.fanout.url())).unwrap_or_else(|e| panic!("{e}"));
    let http = http_client().unwrap_or_else(|e| panic!("{e}"));
    let secret = app::secrets::Secret::new("fanout-it-secret-9f2c");
    let oauth = RestreamOAuth::new(&endpoints, "fanout-it-client", &secret, &redirect, http.clone()).unwrap_or_else(|e| panic!("{e}"));
    (TokenKeeper::new(store.clone(), Arc::clone(&cipher), oauth, Default::default()), RestreamApi::new(endpoints, http), store, cipher)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_after_a_401_share_one_refresh_and_its_pair_is_stored() {
    let world = World::start(&[]).await;
    world.user(8001, "Ana");
    world.connect("Ana", 8001).await;
    let (keeper, api, store, cipher) = keeper(&world).await;
    let account = store.accounts().await.ok().and_then(|a| a.first().map(|a| a.id.clone())).unwrap_or_else(|| panic!("account"));

    let stale = keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));
    world.restream.expire_access_tokens(8001);
    assert!(api.profile(&stale).await.is_err(), "Restream now refuses the old token");

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (keeper, account, stale) = (keeper.clone(), account.clone(), stale.clone());
            tokio::spawn(async move { keeper.access_token(&account, Some(&stale)).await })
        })
        .collect();
    let mut fresh = Vec::new();
    for call in calls {
        fresh.push(call.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(world.restream.refresh_count(8001), 1, "single flight: one refresh for eight callers");
    assert!(fresh.windows(2).all(|w| w[0] == w[1]), "all got the same new token");
    assert!(api.profile(&fresh[0]).await.is_ok(), "and it works");

    let stored = store.account(&account).await.ok().flatten().and_then(|a| a.tokens).unwrap_or_else(|| panic!("tokens"));
    let current = world.restream.tokens_of(8001).unwrap_or_else(|| panic!("pair"));
    let opened = cipher.open_secret(Purpose::RefreshToken, &stored.refresh).map(|s| s.expose().to_string()).ok();
    assert_eq!(opened, Some(current.refresh), "the rotated pair is what Fanout stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_marks_only_that_account_for_reconnecting() {
    let world = World::start(&[]).await;
    for (id, name) in [(8101, "Ana"), (8102, "Ben")] {
        world.user(id, name);
        world.connect(name, id).await;
    }
    let (keeper, _, store, _) = keeper(&world).await;
    let accounts = store.accounts().await.unwrap_or_default();
    let (ana, ben) = (accounts[0].id.clone(), accounts[1].id.clone());
    // Ana revoked Fanout on Restream's side: her refresh token is dead.
    let pair = world.restream.tokens_of(8101).unwrap_or_else(|| panic!("pair"));
    world.http.post(format!("{}/oauth/revoke", world.restream.url())).form(&[("token", pair.refresh.as_str())]).send().await.ok();
    let stale = keeper.access_token(&ana, None).await.unwrap_or_else(|e| panic!("{e}"));

    assert!(matches!(keeper.access_token(&ana, Some(&stale)).await, Err(TokenError::NeedsReconnect)));
    assert_eq!(store.account(&ana).await.ok().flatten().map(|a| a.status), Some(AccountStatus::NeedsReconnect));
    let events = store.events(&EventQuery { kind: Some(EventKind::AccountStatusChanged), ..EventQuery::newest(10) }).await;
    assert!(events.is_ok_and(|page| page.events.iter().any(|e| e.event.message.contains("must connect again"))));
    assert!(keeper.access_token(&ben, None).await.is_ok(), "the others go on");
    assert_eq!(store.account(&ben).await.ok().flatten().map(|a| a.status), Some(AccountStatus::Active));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_are_waited_out_as_retry_after_says() {
    let world = World::start(&[]).await;
    let user = world.user(8201, "Ana");
    world.connect("Ana", 8201).await;
    let (keeper, api, store, _) = keeper(&world).await;
    let account = store.accounts().await.ok().and_then(|a| a.first().map(|a| a.id.clone())).unwrap_or_else(|| panic!("account"));
    let token = keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));

    world.restream.throttle_next(2);
    let started = Instant::now();
    api.update_channel_meta(&token, user.channels[0].id, "Patient title", "after two 429s").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(started.elapsed() >= Duration::from_secs(2), "two Retry-After: 1 waits");
    assert_eq!(world.restream.channel_meta(user.channels[0].id).map(|m| m.title).as_deref(), Some("Patient title"));
    let statuses: Vec<u16> = world.restream.calls().iter().filter(|c| c.method == "PATCH").map(|c| c.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_while_a_refresh_is_answered_leaves_no_grant_behind() {
    let world = World::start(&[]).await;
    world.user(8401, "Ana");
    let link = world.connect("Ana", 8401).await;
    let (keeper, _, store, _) = keeper(&world).await;
    let account = store.accounts().await.ok().and_then(|a| a.first().map(|a| a.id.clone())).unwrap_or_else(|| panic!("account"));
    let stale = keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));
    world.restream.expire_access_tokens(8401);
    // Restream rotates the pair at once but its answer takes 2 s; meanwhile the volunteer
    // disconnects (through the running Fanout, which holds its own locks).
    world.restream.slow_down("/oauth/token", Some(Duration::from_secs(2)));
    let refresh = tokio::spawn({
        let (keeper, account) = (keeper.clone(), account.clone());
        async move { keeper.access_token(&account, Some(&stale)).await }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while world.restream.refresh_count(8401) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.restream.slow_down("/oauth/token", None);
    let disconnected =
        world.http.post(format!("{}{link}/disconnect", world.fanout.url())).header("origin", world.fanout.url()).send().await;
    assert_eq!(disconnected.map(|r| r.status().as_u16()).unwrap_or(0), 303);
    let outcome = refresh.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(outcome, Err(TokenError::NoTokens)), "the refresh lost to the disconnect: {outcome:?}");
    let stored = store.account(&account).await.ok().flatten().unwrap_or_else(|| panic!("account"));
    assert_eq!((stored.tokens, stored.status), (None, AccountStatus::Disconnected), "nothing was stored over the disconnect");
    let revoked = world.restream.calls().iter().filter(|c| c.path == "/oauth/revoke").count();
    assert!(revoked >= 2, "the disconnect revoked the old grant and the refresh revoked the new one ({revoked} revocations)");
    assert!(world.restream.tokens_of(8401).is_none(), "no live grant is left at Restream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_after_a_refresh_keeps_the_new_pair_until_it_is_stored() {
    let world = World::start(&[]).await;
    world.user(8501, "Ben");
    world.connect("Ben", 8501).await;
    let (keeper, api, store, cipher) = keeper(&world).await;
    let account = store.accounts().await.ok().and_then(|a| a.first().map(|a| a.id.clone())).unwrap_or_else(|| panic!("account"));
    let stale = keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));
    world.restream.expire_access_tokens(8501);
    // The store refuses token writes for a while (a trigger stands in for a failing disk).
    let path = world.store().await.path().to_path_buf();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap_or_else(|e| panic!("{e}"));
    let trigger =
        "CREATE TRIGGER fail_token_writes BEFORE UPDATE OF refresh_token ON accounts BEGIN SELECT RAISE(ABORT, 'disk failing'); END";
    sqlx::query(trigger).execute(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    let fresh = keeper.access_token(&account, Some(&stale)).await.unwrap_or_else(|e| panic!("a rotated pair is usable even unstored: {e}"));
    assert!(api.profile(&fresh).await.is_ok(), "the new access token works");
    let current = world.restream.tokens_of(8501).unwrap_or_else(|| panic!("pair"));
    let stored_refresh = |store: SharedStore, account| {
        let cipher = Arc::clone(&cipher);
        async move {
            let tokens = store.account(&account).await.ok().flatten().and_then(|a| a.tokens);
            tokens.and_then(|t| cipher.open_secret(Purpose::RefreshToken, &t.refresh).ok()).map(|s| s.expose().to_string())
        }
    };
    assert_ne!(stored_refresh(store.clone(), account.clone()).await, Some(current.refresh.clone()), "not stored yet");
    let again = keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, fresh, "kept in memory, used again without another refresh");
    assert_eq!(world.restream.refresh_count(8501), 1);
    sqlx::query("DROP TRIGGER fail_token_writes").execute(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    keeper.access_token(&account, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored_refresh(store.clone(), account.clone()).await, Some(current.refresh), "stored at the next use");
}
