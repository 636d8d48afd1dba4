//! The defects the hardening review found at the web face, each proved through the real binary:
//! non-canonical paths that leaked the admin's data, the login flood, a stranger locking the
//! admin out, the status stream outliving its session, `/metrics` and cookies on https, manage
//! links that could not be revoked, personal data that could not be deleted, a declined
//! sign-up's details kept, and an oversized form answered in plain text.

use std::time::{Duration, Instant};

use app::store::{EventQuery, Store};
use fanout_testworld::restream::Consent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::engine::{ADMIN_PASSWORD, admin_users};
use super::signup::World;
use super::*;

/// A volunteer whose name and e-mail must never leak.
const PRIVATE: &str = "Veraprivatename";

/// `GET path` over a raw socket (no client normalises the path), as `cookie` if given; the
/// status and the whole answer.
async fn raw_get(base: &str, path: &str, cookie: Option<&str>) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap_or_else(|e| panic!("{e}"));
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/html\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "GET {path}: no answer within 20 s");
    let answer = text(&answer);
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn non_canonical_paths_are_refused_before_any_route_and_leak_nothing() {
    let world = World::start(&[("FANOUT_ADMIN_USERS", &admin_users())]).await;
    world.user(9101, PRIVATE);
    world.connect(PRIVATE, 9101).await;
    let base = world.fanout.url().to_string();
    let cookie = world.admin_cookie(ADMIN_PASSWORD).await;
    let (status, page) = raw_get(&base, "/admin", Some(&cookie)).await;
    assert!(status == 200 && page.contains(PRIVATE), "the admin sees the volunteer (so the checks below can fail): {status}");

    for path in [
        "/./admin",
        "/x/../admin",
        "/%2e/admin",
        "/%2E%2E/admin",
        "/.%2e/admin",
        "//admin",
        "/admin/.",
        "/admin/./",
        "/%61dmin",
        "/admin%2f",
        "/api/../admin",
        "/./api/admin_accounts",
        "/%2e/api/admin_accounts",
        "/ADMIN",
        "/Admin/",
        "/api/Admin_accounts",
    ] {
        let (status, answer) = raw_get(&base, path, None).await;
        let refused = (400..500).contains(&status) || (status == 303 && answer.contains("location: /admin/login"));
        assert!(refused, "GET {path} answered {status}:\n{answer}");
        assert!(
            !answer.contains(PRIVATE) && !answer.contains("@example.org") && !answer.contains("/manage/"),
            "GET {path} leaked:\n{answer}"
        );
    }
}

#[tokio::test]
async fn a_burst_of_logins_is_refused_with_429_and_memory_stays_bounded() {
    use fanout_testworld::usage::resident_kib;
    let dir = temp_dir();
    let env =
        options().env("FANOUT_ADMIN_USERS", admin_users()).env("FANOUT_TRUST_FORWARDED_FOR", "true").env("FANOUT_RATE_LIMIT", "10000");
    let fanout = serve(dir.path(), env).await;
    let pid = fanout.pid().unwrap_or_else(|| panic!("pid"));
    let base = fanout.url().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
    // Warm up: the first checks and pages allocate what every later one reuses.
    for n in 0..6 {
        let _ = http
            .post(format!("{base}/admin/login"))
            .header("origin", &base)
            .header("x-forwarded-for", format!("192.0.2.{n}"))
            .form(&[("name", "admin"), ("password", "warming up the checks")])
            .send()
            .await;
        let _ = http.get(format!("{base}/admin/login")).send().await;
    }
    let before = resident_kib(pid).unwrap_or(0);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = {
        let peak = std::sync::Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(resident_kib(pid).unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // 300 at once, each from its own address (so no per-address limit stops them first).
    let attempts = (0..300u32).map(|n| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let forwarded = format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256);
            let response = http
                .post(format!("{base}/admin/login"))
                .header("origin", &base)
                .header("x-forwarded-for", forwarded)
                .form(&[("name", "admin"), ("password", "a wrong password of decent length")])
                .send()
                .await;
            response.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    sampling.abort();
    let grown_mib = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(before) / 1024;
    let busy = statuses.iter().filter(|s| **s == 429).count();
    let checked = statuses.iter().filter(|s| **s == 303).count();
    eprintln!("300 concurrent logins: {checked} checked, {busy} refused as busy (429); resident memory grew {grown_mib} MiB at most");
    assert!(busy > 0, "a burst beyond the checks' capacity is refused with 429: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 429 || *s == 303), "{statuses:?}");
    assert!(grown_mib < 100, "a few password checks at once, not hundreds (argon2 takes 19 MiB each): grew {grown_mib} MiB");
    let health = http.get(format!("{base}/healthz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    assert_eq!(health, 200, "the server is still up");

    // Without a proxy vouching for addresses, the public rate limit applies to logins too.
    let dir = temp_dir();
    let limited = serve(dir.path(), options().env("FANOUT_ADMIN_USERS", admin_users())).await;
    let base = limited.url().to_string();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let response =
            http.post(format!("{base}/admin/login")).header("origin", &base).form(&[("name", "x"), ("password", "y")]).send().await;
        statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    assert_eq!(statuses.last(), Some(&429), "past 20 a minute from one address: {statuses:?}");
}

/// Posts the login form as `address` (through a trusted `X-Forwarded-For`).
async fn login_from(http: &reqwest::Client, base: &str, address: &str, password: &str) -> reqwest::Response {
    http.post(format!("{base}/admin/login"))
        .header("origin", base)
        .header("x-forwarded-for", address)
        .form(&[("name", "admin"), ("password", password)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn location_of(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_strangers_failures_do_not_lock_the_admin_out_from_another_address() {
    let dir = temp_dir();
    let env = options().env("FANOUT_ADMIN_USERS", admin_users()).env("FANOUT_TRUST_FORWARDED_FOR", "true").env("FANOUT_RATE_LIMIT", "1000");
    let fanout = serve(dir.path(), env).await;
    let base = fanout.url().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..12 {
        login_from(&http, &base, "203.0.113.9", "guessing the admin password").await;
    }
    let stranger = login_from(&http, &base, "203.0.113.9", ADMIN_PASSWORD).await;
    assert!(location_of(&stranger).starts_with("/admin/login?wait="), "the stranger's address waits: {}", location_of(&stranger));
    let admin = login_from(&http, &base, "198.51.100.4", ADMIN_PASSWORD).await;
    assert_eq!(location_of(&admin), "/admin", "the admin elsewhere signs in at once");
    assert!(admin.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn the_status_stream_ends_when_its_session_does() {
    let world = World::start(&[("FANOUT_ADMIN_USERS", &admin_users())]).await;
    let cookie = world.admin_cookie(ADMIN_PASSWORD).await;
    let base = world.fanout.url().to_string();
    let page = world.http.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    let csrf = page.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
    let mut stream =
        world.http.get(format!("{base}/admin/status/stream")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.ok().and_then(Result::ok).flatten();
    assert!(first.is_some_and(|c| text(&c).contains("event: status")));
    let out = world
        .http
        .post(format!("{base}/admin/logout"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await;
    assert_eq!(out.map(|r| r.status().as_u16()).unwrap_or(0), 303);
    let ended = async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    };
    assert!(tokio::time::timeout(Duration::from_secs(15), ended).await.is_ok(), "the stream ends after the sign-out");
}

#[tokio::test]
async fn metrics_need_their_token_and_cookies_on_https_are_host_only() {
    let dir = temp_dir();
    let token = "metrics-token-0123456789";
    let env = options()
        .env("FANOUT_ADMIN_USERS", admin_users())
        .env("FANOUT_METRICS_TOKEN", token)
        .env("FANOUT_PUBLIC_URL", "https://fanout.example.org");
    let fanout = serve(dir.path(), env).await;
    let base = fanout.url().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
    let open = http.get(format!("{base}/metrics")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    let wrong = http.get(format!("{base}/metrics")).bearer_auth("metrics-token-0123456780").send().await.map(|r| r.status().as_u16());
    let right = http.get(format!("{base}/metrics")).bearer_auth(token).send().await.map(|r| r.status().as_u16());
    assert_eq!((open, wrong.unwrap_or(0), right.unwrap_or(0)), (401, 401, 200));

    let login = http
        .post(format!("{base}/admin/login"))
        .header("origin", "https://fanout.example.org")
        .form(&[("name", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let set_cookie = login.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(
        set_cookie.starts_with("__Host-fanout_admin=") && set_cookie.contains("; Secure") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );
    assert!(!set_cookie.to_ascii_lowercase().contains("domain="), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or_default();
    let admin = http.get(format!("{base}/api/admin_identity")).header("cookie", cookie).send().await.map(|r| r.status().as_u16());
    assert_eq!(admin.unwrap_or(0), 200, "the __Host- cookie opens the door");
    let plain = cookie.trim_start_matches("__Host-");
    let refused = http.get(format!("{base}/api/admin_identity")).header("cookie", plain).send().await.map(|r| r.status().as_u16());
    assert_eq!(refused.unwrap_or(0), 401, "the unprefixed name does not, on https");
}

#[tokio::test]
async fn manage_links_can_be_revoked_and_a_volunteers_data_deleted() {
    let world = World::start(&[]).await;
    world.user(9201, PRIVATE);
    let first = world.connect(PRIVATE, 9201).await;
    assert_eq!(world.get(&first).await.0, 200);

    let renewed = world.http.post(format!("{}{first}/new_link", world.fanout.url())).header("origin", world.fanout.url()).send().await;
    let second = location_of(&renewed.unwrap_or_else(|e| panic!("{e}")));
    assert!(second.starts_with("/manage/") && second.ends_with("?done=new_link"), "{second}");
    let (status, page) = world.get(&first).await;
    assert!(status == 403 && page.contains("This link was replaced"), "the old link is revoked: {status}");
    let (status, page) = world.get(&second).await;
    assert!(status == 200 && page.contains("every link given before no longer works"), "{status}");
    let second = second.trim_end_matches("?done=new_link").to_string();

    let disconnected =
        world.http.post(format!("{}{second}/disconnect", world.fanout.url())).header("origin", world.fanout.url()).send().await;
    let third = location_of(&disconnected.unwrap_or_else(|e| panic!("{e}")));
    assert!(third.ends_with("?done=disconnected"), "{third}");
    assert_eq!(world.get(&second).await.0, 403, "a disconnect revokes the links given before");
    assert_eq!(world.get(&third).await.0, 200, "the one it answers with works");
    let third = third.trim_end_matches("?done=disconnected").to_string();

    let deleted = world.http.post(format!("{}{third}/delete", world.fanout.url())).header("origin", world.fanout.url()).send().await;
    assert_eq!(location_of(&deleted.unwrap_or_else(|e| panic!("{e}"))), "/signup/problem?reason=deleted");
    assert_eq!(world.get(&third).await.0, 404, "nothing is left to manage");
    let store = world.store().await;
    assert!(store.accounts().await.unwrap_or_default().is_empty());
    let events = store.events(&EventQuery::newest(100)).await.map(|p| p.events).unwrap_or_default();
    assert!(!events.is_empty());
    for event in &events {
        assert!(
            event.event.account_id.is_none() && !event.event.message.contains(PRIVATE),
            "an event still names the volunteer: {event:?}"
        );
    }
    assert!(!world.fanout.log().contains('\u{1b}'), "no colour codes in a log that is not a terminal");
}

#[tokio::test]
async fn a_declined_sign_up_is_deleted_at_once() {
    let world = World::start(&[]).await;
    world.restream.set_consent(Consent::DenyBlank);
    let form = [("display_name", PRIVATE), ("email", "vera@example.org"), ("twitch", "twitch.tv/somestreamer"), ("consent", "on")];
    let to_restream = world.post_form(&form).await;
    let cookie = to_restream.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(cookie.starts_with("fanout_signup=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let authorize = location_of(&to_restream);
    let back = location_of(&world.http.get(&authorize).send().await.unwrap_or_else(|e| panic!("{e}")));
    assert!(!back.contains('?'), "Restream sends a volunteer who declines back with no parameters: {back}");
    let path = world.store().await.path().to_path_buf();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap_or_else(|e| panic!("{e}"));
    let pending = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pending_signups").fetch_one(&pool).await.unwrap_or(-1) };
    assert_eq!(pending().await, 1);
    let answer =
        world.http.get(&back).header("cookie", cookie.split(';').next().unwrap_or_default()).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(location_of(&answer), "/signup/problem?reason=denied");
    let cleared = answer.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(cleared.starts_with("fanout_signup=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(pending().await, 0, "the declined sign-up's name, e-mail and channels are gone");
}

#[tokio::test]
async fn an_oversized_form_is_answered_with_the_form_and_a_message() {
    let world = World::start(&[]).await;
    let huge = "x".repeat(70 * 1024);
    let response = world.post_form(&[("display_name", huge.as_str()), ("consent", "on")]).await;
    assert_eq!(response.status().as_u16(), 413);
    assert!(response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html")));
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains("The form was too large") && page.contains(r#"name="display_name""#), "{page}");
    assert!(page.contains(r#"maxlength="80""#) && page.contains(r#"maxlength="254""#), "the inputs say how long they may be");
    let started = Instant::now();
    assert_eq!(world.get("/healthz").await.0, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}
