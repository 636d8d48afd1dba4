//! The sign-up end to end against the Restream stand-in: form → Restream's authorize dialog →
//! callback → manage page; the failure paths; the rate limit; and what the logs must not hold.

use std::collections::HashMap;

use app::model::{AccountStatus, EventKind};
use app::store::{EventQuery, SqliteStore, Store};
use fanout_testworld::restream::{Consent, RestreamStandIn, StandInConfig, StandInUser};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

use super::*;

const CLIENT_ID: &str = "fanout-it-client";
const CLIENT_SECRET: &str = "fanout-it-secret-9f2c";

/// Fanout with a Restream app configured against a fresh stand-in.
pub(super) struct World {
    pub(super) _dir: tempfile::TempDir,
    pub(super) restream: RestreamStandIn,
    pub(super) fanout: FanoutServer,
    pub(super) http: reqwest::Client,
    options: FanoutOptions,
}

impl World {
    pub(super) async fn start(extra_env: &[(&str, &str)]) -> Self {
        let dir = temp_dir();
        let config = StandInConfig { client_id: CLIENT_ID.into(), client_secret: CLIENT_SECRET.into(), ..StandInConfig::default() };
        let restream = RestreamStandIn::start(config).await.unwrap_or_else(|e| panic!("stand-in: {e}"));
        let mut options = options()
            .env("RESTREAM_CLIENT_ID", CLIENT_ID)
            .env("RESTREAM_CLIENT_SECRET", CLIENT_SECRET)
            .env("RESTREAM_API_URL", restream.url())
            .env("FANOUT_RESTREAM_UPDATES_URL", restream.updates_url())
            .env("FANOUT_RESTREAM_CHAT_URL", restream.chat_url());
        for (name, value) in extra_env {
            options = options.env(name, *value);
        }
        let fanout = serve(dir.path(), options.clone()).await;
        restream.add_redirect_uri(&format!("{}/oauth/restream/callback", fanout.url()));
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("client: {e}"));
        let options = options.data_dir(fanout.data_dir());
        Self { _dir: dir, restream, fanout, http, options }
    }

    /// Kills Fanout with SIGKILL and starts it again on the same data directory and settings.
    pub(super) async fn kill_and_restart_fanout(&mut self) {
        self.fanout.process().signal(nix::sys::signal::Signal::SIGKILL).unwrap_or_else(|e| panic!("{e}"));
        assert!(self.fanout.process().wait(std::time::Duration::from_secs(10)).await.is_some(), "fanout died");
        self.start_fanout_again().await;
    }

    /// Starts Fanout again (after it stopped) on the same data directory and settings.
    pub(super) async fn start_fanout_again(&mut self) {
        let world = self._dir.path().join(format!("restart-{}", std::process::id()));
        std::fs::create_dir_all(&world).unwrap_or_else(|e| panic!("{e}"));
        self.fanout = serve(&world, self.options.clone()).await;
    }

    /// Signs `name` up (Restream user `user_id`, already added) and returns their manage link.
    pub(super) async fn connect(&self, name: &str, user_id: i64) -> String {
        self.restream.set_consent(Consent::Approve { user_id });
        let page = self.callback(&self.to_callback(name).await).await;
        assert!(page.starts_with("/manage/"), "{name} connected: {page}");
        page.trim_end_matches("?connected=1").to_string()
    }

    pub(super) fn user(&self, id: i64, name: &str) -> StandInUser {
        let user = StandInUser::sample(id, name);
        self.restream.add_user(user.clone());
        user
    }

    /// Posts the form (as a browser without JavaScript would) and returns the response.
    pub(super) async fn post_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}/", self.fanout.url())).form(fields).send().await.unwrap_or_else(|e| panic!("post form: {e}"))
    }

    /// Fills a valid form, follows Restream's dialog, and returns the callback URL it sent back.
    pub(super) async fn to_callback(&self, name: &str) -> String {
        let email = format!("{}@example.org", name.to_lowercase());
        let form = [("display_name", name), ("email", email.as_str()), ("twitch", "twitch.tv/somestreamer"), ("consent", "on")];
        let to_restream = self.post_form(&form).await;
        assert_eq!(to_restream.status(), StatusCode::SEE_OTHER);
        let authorize = location(&to_restream);
        assert!(authorize.starts_with(&format!("{}/login?", self.restream.url())), "{authorize}");
        let back = self.http.get(&authorize).send().await.unwrap_or_else(|e| panic!("authorize: {e}"));
        assert!(back.status().is_redirection(), "the dialog redirects back: {}", back.status());
        location(&back)
    }

    /// Follows a callback URL; returns where Fanout sends the volunteer.
    pub(super) async fn callback(&self, url: &str) -> String {
        let response = self.http.get(url).send().await.unwrap_or_else(|e| panic!("callback: {e}"));
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    pub(super) async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self.http.get(format!("{}{path}", self.fanout.url())).send().await.unwrap_or_else(|e| panic!("{e}"));
        (response.status(), response.text().await.unwrap_or_default())
    }

    /// Signs admin `admin` in with `password`; returns the session cookie.
    pub(super) async fn admin_cookie(&self, password: &str) -> String {
        let base = self.fanout.url();
        let response = self
            .http
            .post(format!("{base}/admin/login"))
            .header("origin", base)
            .form(&[("name", "admin"), ("password", password)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
        cookie.split(';').next().unwrap_or_default().to_string()
    }

    /// What the admin dashboard says now, to the admin with `cookie`.
    pub(super) async fn dashboard(&self, cookie: &str) -> app::dashboard::DashboardStatus {
        let url = format!("{}/api/admin_dashboard", self.fanout.url());
        let response = self.http.get(&url).header("cookie", cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
        response.json().await.unwrap_or_else(|e| panic!("the dashboard's JSON: {e}"))
    }

    pub(super) async fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.fanout.data_dir().join("fanout.db")).await.unwrap_or_else(|e| panic!("{e}"))
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(String::from).unwrap_or_else(|| panic!("no Location"))
}

fn query_of(url: &str) -> HashMap<String, String> {
    let parsed = url::Url::parse(url).or_else(|_| url::Url::parse(&format!("http://x{url}"))).unwrap_or_else(|e| panic!("{e}"));
    parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[tokio::test]
async fn a_volunteer_connects_and_lands_on_their_page_with_their_channels() {
    let world = World::start(&[]).await;
    let user = world.user(4101, "Ana");
    world.restream.set_consent(Consent::Approve { user_id: user.id });

    let callback = world.to_callback("Ana").await;
    let page = world.callback(&callback).await;
    assert!(page.starts_with("/manage/") && page.ends_with("?connected=1"), "{page}");

    let (status, html) = world.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("You're connected, Ana!"), "{html}");
    for channel in &user.channels {
        assert!(html.contains(&channel.display_name), "channel {} listed", channel.display_name);
    }

    let store = world.store().await;
    let accounts = store.accounts().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accounts.len(), 1);
    let account = &accounts[0];
    assert_eq!((account.restream.user_id.0, account.status), (user.id, AccountStatus::Active));
    assert_eq!(account.channels.twitch.as_deref(), Some("https://www.twitch.tv/somestreamer"));
    assert_eq!(account.restream_channels.len(), user.channels.len());
    assert!(account.tokens.is_some());
    let events = store.events(&EventQuery::newest(10)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(events.events.iter().any(|e| e.event.kind == EventKind::AccountConnected));
}

#[tokio::test]
async fn connecting_again_updates_the_same_account_and_a_replayed_callback_is_refused() {
    let world = World::start(&[]).await;
    let user = world.user(4102, "Ben");
    world.restream.set_consent(Consent::Approve { user_id: user.id });

    let first = world.callback(&world.to_callback("Ben").await).await;
    let replay = world.to_callback("Ben").await;
    let second = world.callback(&replay).await;
    assert!(second.starts_with("/manage/"), "{second}");
    let account_of = |page: &str| page.trim_start_matches("/manage/").split('.').next().map(String::from);
    assert_eq!(account_of(&first), account_of(&second), "the same account both times");

    assert_eq!(world.callback(&replay).await, "/signup/problem?reason=used", "a replayed callback is refused");
    let store = world.store().await;
    assert_eq!(store.accounts().await.map(|a| a.len()).ok(), Some(1));
    let events = store.events(&EventQuery::newest(10)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(events.events.iter().any(|e| e.event.kind == EventKind::AccountReconnected));
}

#[tokio::test]
async fn an_unknown_or_missing_state_is_refused_and_nothing_is_stored() {
    let world = World::start(&[]).await;
    let base = format!("{}/oauth/restream/callback", world.fanout.url());
    assert_eq!(world.callback(&format!("{base}?code=abc&state=never-issued")).await, "/signup/problem?reason=unknown");
    assert_eq!(world.callback(&format!("{base}?code=abc")).await, "/signup/problem?reason=incomplete");
    let (status, html) = world.get("/signup/problem?reason=unknown").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Try again"));
    assert_eq!(world.store().await.accounts().await.map(|a| a.len()).ok(), Some(0));
    assert!(world.restream.calls().iter().all(|c| c.path != "/oauth/token"), "no code exchange was attempted");
}

#[tokio::test]
async fn an_expired_sign_up_is_refused() {
    let world = World::start(&[]).await;
    let user = world.user(4103, "Cara");
    world.restream.set_consent(Consent::Approve { user_id: user.id });
    let callback = world.to_callback("Cara").await;
    let state = query_of(&callback).get("state").cloned().unwrap_or_default();
    // Age the pending sign-up past its 15 minutes, as the clock would.
    let store = world.store().await;
    sqlx_age_pending(&store, &state).await;
    assert_eq!(world.callback(&callback).await, "/signup/problem?reason=expired");
    assert_eq!(store.accounts().await.map(|a| a.len()).ok(), Some(0));
}

async fn sqlx_age_pending(store: &SqliteStore, state: &str) {
    let path = store.path().to_path_buf();
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
    let done = sqlx::query("UPDATE pending_signups SET expires_at = expires_at - 16 * 60 * 1000 WHERE state = ?")
        .bind(state)
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.rows_affected(), 1);
}

#[tokio::test]
async fn refusing_on_restream_shows_the_denied_page_either_way() {
    let world = World::start(&[]).await;
    world.user(4104, "Dev");
    for consent in [Consent::DenyBlank, Consent::DenyWithError] {
        world.restream.set_consent(consent);
        let callback = world.to_callback("Dev").await;
        assert_eq!(world.callback(&callback).await, "/signup/problem?reason=denied");
    }
    let (status, html) = world.get("/signup/problem?reason=denied").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("You did not grant access") && html.contains("Try again"));
    assert_eq!(world.store().await.accounts().await.map(|a| a.len()).ok(), Some(0));
}

#[tokio::test]
async fn a_failing_token_endpoint_shows_its_page_and_stores_nothing() {
    let world = World::start(&[]).await;
    let user = world.user(4105, "Eli");
    world.restream.set_consent(Consent::Approve { user_id: user.id });
    world.restream.fail_token_endpoint(Some(500));
    let callback = world.to_callback("Eli").await;
    let page = world.callback(&callback).await;
    assert!(page == "/signup/problem?reason=refused" || page == "/signup/problem?reason=unreachable", "{page}");
    let (status, html) = world.get(&page).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(html.contains("Try again"));
    assert_eq!(world.store().await.accounts().await.map(|a| a.len()).ok(), Some(0));
}

#[tokio::test]
async fn bad_input_is_answered_with_every_message_and_stores_nothing() {
    let world = World::start(&[]).await;
    let response = world.post_form(&[("display_name", ""), ("email", "nope"), ("youtube", "https://twitch.tv/x")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("There are 4 problems"), "{html}");
    assert!(html.contains("value=\"nope\""), "what was typed is kept");
    assert!(html.contains("That is not a YouTube address"));
    let store = world.store().await;
    assert_eq!(store.purge_pending_signups(app::store::now() + time::Duration::days(1)).await.ok(), Some(0));
}

#[tokio::test]
async fn the_manage_link_pauses_resumes_and_disconnects_and_refuses_a_tampered_copy() {
    let world = World::start(&[]).await;
    let user = world.user(4106, "Fay");
    world.restream.set_consent(Consent::Approve { user_id: user.id });
    let page = world.callback(&world.to_callback("Fay").await).await;
    let link = page.trim_end_matches("?connected=1").to_string();

    let act = |action: &'static str| {
        let url = format!("{}{link}/{action}", world.fanout.url());
        let http = world.http.clone();
        async move { http.post(url).send().await.unwrap_or_else(|e| panic!("{e}")) }
    };
    let paused = act("pause").await;
    assert_eq!(location(&paused), format!("{link}?done=paused"));
    let store = world.store().await;
    let status = || async { store.accounts().await.ok().and_then(|a| a.first().map(|a| a.status)) };
    assert_eq!(status().await, Some(AccountStatus::Paused));
    assert_eq!(location(&act("resume").await), format!("{link}?done=resumed"));
    assert_eq!(status().await, Some(AccountStatus::Active));
    // A disconnect revokes the links given before: the answer carries the new one.
    let renewed = location(&act("disconnect").await);
    assert!(renewed.starts_with("/manage/") && renewed.ends_with("?done=disconnected") && !renewed.starts_with(&link), "{renewed}");
    assert_eq!(status().await, Some(AccountStatus::Disconnected));
    assert!(store.accounts().await.ok().and_then(|a| a.first().map(|a| a.tokens.is_none())).unwrap_or(false), "tokens deleted");
    assert!(world.restream.calls().iter().any(|c| c.path == "/oauth/revoke"), "Restream was asked to revoke the grant");
    let (_, html) = world.get(&renewed).await;
    assert!(html.contains("revoke Fanout") && html.contains("Disconnected"), "{html}");
    assert_eq!(world.get(&link).await.0, StatusCode::FORBIDDEN, "the link from before the disconnect no longer works");
    let link = renewed.trim_end_matches("?done=disconnected").to_string();

    let tampered = format!("{}x", link);
    let (status_code, html) = world.get(&tampered).await;
    assert_eq!(status_code, StatusCode::FORBIDDEN);
    assert!(html.contains("This link does not work"));
    let refused = world.http.post(format!("{}{tampered}/pause", world.fanout.url())).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(location(&refused), tampered, "a tampered link changes nothing and shows its page");
}

#[tokio::test]
async fn too_many_attempts_from_one_address_get_a_429_page() {
    let world = World::start(&[("FANOUT_RATE_LIMIT", "3")]).await;
    let fields = [("display_name", "x")];
    for _ in 0..3 {
        assert_eq!(world.post_form(&fields).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let limited = world.post_form(&fields).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert!(limited.text().await.unwrap_or_default().contains("Too many attempts"));
    let (status, _) = world.get("/").await;
    assert_eq!(status, StatusCode::OK, "reading pages is not limited");
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let world = World::start(&[]).await;
    let forged = world
        .http
        .post(format!("{}/", world.fanout.url()))
        .header("origin", "https://evil.example")
        .form(&[("display_name", "x")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let same = world
        .http
        .post(format!("{}/", world.fanout.url()))
        .header("origin", world.fanout.url())
        .header("sec-fetch-site", "same-origin")
        .form(&[("display_name", "x")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(same.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let post_with = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = world.http.post(format!("{}/", world.fanout.url())).form(&[("display_name", "x")]);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let sibling = post_with(&[("sec-fetch-site", "same-site")]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sibling.status(), StatusCode::FORBIDDEN, "another site of the same domain is refused too");
    let null_origin = post_with(&[("origin", "null"), ("sec-fetch-site", "same-origin")]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(null_origin.status(), StatusCode::UNPROCESSABLE_ENTITY, "the browser's own word wins over an opaque origin");
    let opaque = post_with(&[("origin", "null")]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opaque.status(), StatusCode::FORBIDDEN, "an opaque origin alone is refused");
    let page = world.http.get(format!("{}/", world.fanout.url())).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.headers().get("referrer-policy").and_then(|v| v.to_str().ok()), Some("same-origin"));
}

#[tokio::test]
async fn the_log_never_holds_a_code_state_token_or_secret() {
    let world = World::start(&[("FANOUT_LOG", "debug")]).await;
    let user = world.user(4107, "Gus");
    world.restream.set_consent(Consent::Approve { user_id: user.id });
    let callback = world.to_callback("Gus").await;
    let page = world.callback(&callback).await;
    let query = query_of(&callback);
    let tokens = world.restream.tokens_of(user.id).unwrap_or_else(|| panic!("the stand-in issued tokens"));
    let link = page.trim_start_matches("/manage/").trim_end_matches("?connected=1");
    let log = world.fanout.log();
    assert!(log.contains("connected Restream user"), "the log says what happened:\n{log}");
    for (what, secret) in [
        ("code", query.get("code").cloned().unwrap_or_default()),
        ("state", query.get("state").cloned().unwrap_or_default()),
        ("access token", tokens.access.clone()),
        ("refresh token", tokens.refresh.clone()),
        ("client secret", CLIENT_SECRET.to_string()),
        ("manage link signature", link.rsplit('.').next().unwrap_or_default().to_string()),
    ] {
        assert!(secret.len() >= 8, "{what} is a real value");
        assert!(!log.contains(&secret), "the log holds the {what}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let world = World::start(&[]).await;
    let huge = "x".repeat(100 * 1024);
    let response = world.post_form(&[("display_name", huge.as_str())]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_server_function_shares_the_rate_limit_and_its_errors_are_typed() {
    let world = World::start(&[("FANOUT_RATE_LIMIT", "2")]).await;
    let call = || async {
        let response = world
            .http
            .post(format!("{}/api/start_signup", world.fanout.url()))
            .json(&serde_json::json!({ "form": { "display_name": "", "email": "nope" } }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        response.json::<serde_json::Value>().await.unwrap_or_default()
    };
    let first = call().await;
    assert!(first["Invalid"]["email"].as_str().is_some_and(|m| m.contains("name@example.org")), "{first}");
    call().await;
    let limited = call().await;
    assert!(limited["RateLimited"]["retry_after_secs"].as_u64().is_some_and(|s| s >= 1), "{limited}");
}

#[tokio::test]
async fn restream_unreachable_at_the_callback_shows_its_page() {
    let world = World::start(&[]).await;
    let user = world.user(4108, "Hal");
    world.restream.set_consent(Consent::Approve { user_id: user.id });
    let callback = world.to_callback("Hal").await;
    let World { _dir, restream, fanout, http, .. } = world;
    drop(restream); // Restream goes away between the dialog and the code exchange.
    let response = http.get(&callback).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(location(&response), "/signup/problem?reason=unreachable");
    let page = http.get(format!("{}/signup/problem?reason=unreachable", fanout.url())).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
    assert!(page.text().await.unwrap_or_default().contains("could not be reached"));
    let store = SqliteStore::open(&fanout.data_dir().join("fanout.db")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.accounts().await.map(|a| a.len()).ok(), Some(0));
}
