//! The admin dashboard's door, through the real binary: every admin route refuses without a
//! session, a wrong password is refused and slowed, the right one opens a session cookie,
//! state-changing admin requests need the session's CSRF token, logout closes the door again,
//! and with no admin configured the login page says how to create one.

use super::*;

const PASSWORD: &str = "correct horse battery staple";

/// Every admin route: pages, the logout action, admin server functions and streams.
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/"),
    ("GET", "/admin/accounts"),
    ("GET", "/admin/events"),
    ("GET", "/admin/stream"),
    ("GET", "/admin/status/stream"),
    ("GET", "/api/admin_dashboard"),
    ("GET", "/api/admin_identity"),
    ("GET", "/api/admin_accounts"),
    ("POST", "/admin/accounts/some-account/pause"),
    ("POST", "/admin/control/stop"),
    ("POST", "/admin/control/start"),
    ("POST", "/admin/control/retitle"),
    ("POST", "/admin/destinations/some-destination/retry"),
    ("POST", "/admin/profile"),
    ("POST", "/admin/direct"),
    ("POST", "/admin/direct/some-direct"),
    ("POST", "/admin/direct/some-direct/delete"),
    ("GET", "/api/admin_lives"),
    ("GET", "/admin/lives/LiveVideo01"),
    ("GET", "/api/admin_live_report?video=LiveVideo01"),
    ("GET", "/api/admin_direct"),
    ("GET", "/api/admin_settings"),
    ("POST", "/admin/logout"),
    ("POST", "/api/admin_status"),
    ("GET", "/api/admin_events"),
];

/// `fanout serve` with one admin, `ana`, whose password is [`PASSWORD`].
async fn with_admin_ana() -> (tempfile::TempDir, FanoutServer) {
    let dir = temp_dir();
    let users = format!("ana:{}", hash(PASSWORD).await);
    let fanout = serve(dir.path(), options().env("FANOUT_ADMIN_USERS", users)).await;
    (dir, fanout)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"))
}

async fn hash(password: &str) -> String {
    let output = run_with_stdin(&["hash-password"], password).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

async fn run_with_stdin(args: &[&str], input: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let dir = temp_dir();
    let mut command = fanout_command(Some(Path::new(FANOUT)), args, dir.path(), &[]);
    command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(format!("{input}\n").as_bytes()).await;
    }
    child.wait_with_output().await.unwrap_or_else(|e| panic!("{e}"))
}

/// Posts a same-origin form (as the browser would).
async fn post_form(client: &reqwest::Client, base: &str, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client.post(format!("{base}{path}")).header("origin", base).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// The dashboard's HTML, as the admin with `cookie` sees it.
async fn dashboard_page(client: &reqwest::Client, base: &str, cookie: &str) -> String {
    let response = client.get(format!("{base}/admin")).header("cookie", cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    response.text().await.unwrap_or_default()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn assert_every_admin_route_refuses(client: &reqwest::Client, base: &str, cookie: Option<&str>) {
    for (method, path) in ADMIN_ROUTES {
        let mut request = match *method {
            "GET" => client.get(format!("{base}{path}")).header("accept", "text/html"),
            _ => client.post(format!("{base}{path}")).header("origin", base).form(&[("csrf", "x")]),
        };
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let refused = status == 401 || (status == 303 && location(&response) == "/admin/login");
        assert!(refused, "{method} {path} answered {status} without a session");
    }
}

#[tokio::test]
async fn admin_routes_refuse_without_a_session_and_a_login_opens_them_until_logout() {
    let (_dir, fanout) = with_admin_ana().await;
    let base = fanout.url().to_string();
    let client = client();

    assert_every_admin_route_refuses(&client, &base, None).await;
    assert_every_admin_route_refuses(&client, &base, Some("fanout_admin=forged")).await;

    let login = client.get(format!("{base}/admin/login")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(login.status().as_u16(), 200);
    let page = login.text().await.unwrap_or_default();
    assert!(page.contains(r#"action="/admin/login""#) && !page.contains("no-admin"), "{page}");

    let wrong = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", "wrong password here")]).await;
    assert_eq!((wrong.status().as_u16(), location(&wrong)), (303, "/admin/login?failed=1".to_string()));
    assert!(wrong.headers().get("set-cookie").is_none(), "no session for a wrong password");

    let right = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", PASSWORD)]).await;
    assert_eq!((right.status().as_u16(), location(&right)), (303, "/admin".to_string()));
    let set_cookie = right.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http here: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();

    let admin = client.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(admin.status().as_u16(), 200, "the dashboard opens with the session");
    let dashboard = admin.text().await.unwrap_or_default();
    assert!(
        dashboard.contains(r#"id="now""#) && dashboard.contains("No live right now") && dashboard.contains("No destination yet"),
        "{dashboard}"
    );

    // The live status stream sends the dashboard's state at once, as a `status` event.
    let mut stream =
        client.get(format!("{base}/admin/status/stream")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stream.status().as_u16(), 200);
    assert!(stream.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream")));
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
        .unwrap_or_default();
    let first = String::from_utf8_lossy(&first).to_string();
    assert!(first.contains("event: status") && first.contains(r#""destinations":[]"#), "{first}");
    drop(stream);

    let no_token = post_form(&client, &base, "/admin/logout", Some(&cookie), &[]).await;
    assert_eq!(no_token.status().as_u16(), 403, "a state-changing admin request needs its CSRF token");
    let bad_token = post_form(&client, &base, "/admin/logout", Some(&cookie), &[("csrf", "guess")]).await;
    assert_eq!(bad_token.status().as_u16(), 403);
    for (_, path) in ADMIN_ROUTES.iter().filter(|(method, path)| *method == "POST" && !path.starts_with("/api/")) {
        let forged = post_form(&client, &base, path, Some(&cookie), &[("csrf", "guess")]).await;
        assert_eq!(forged.status().as_u16(), 403, "POST {path} with a session but a forged CSRF token");
    }
    let still = client.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(still.status().as_u16(), 200, "refused actions changed nothing");
    let page = still.text().await.unwrap_or_default();
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the dashboard carries its CSRF token in the logout form:\n{page}"))
        .to_string();

    let out = post_form(&client, &base, "/admin/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!((out.status().as_u16(), location(&out)), (303, "/admin/login?out=1".to_string()));
    assert_every_admin_route_refuses(&client, &base, Some(&cookie)).await;

    let log = fanout.log();
    assert!(
        !log.contains(PASSWORD) && !log.contains(&csrf) && !log.contains(cookie.trim_start_matches("fanout_admin=")),
        "no secret in the log"
    );
}

#[tokio::test]
async fn failed_logins_slow_down_per_user() {
    let (_dir, fanout) = with_admin_ana().await;
    let base = fanout.url().to_string();
    let client = client();
    for _ in 0..5 {
        let wrong = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", "not the password")]).await;
        assert_eq!(location(&wrong), "/admin/login?failed=1");
    }
    // Now even the right password must wait.
    let waiting = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", PASSWORD)]).await;
    assert!(location(&waiting).starts_with("/admin/login?wait="), "{}", location(&waiting));
    assert!(waiting.headers().get("set-cookie").is_none());
    let page =
        client.get(format!("{base}{}", location(&waiting))).send().await.unwrap_or_else(|e| panic!("{e}")).text().await.unwrap_or_default();
    assert!(page.contains("Too many failed attempts"), "{page}");
}

#[tokio::test]
async fn with_no_admin_the_dashboard_stays_closed_and_says_how_to_open_it() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;
    let base = fanout.url().to_string();
    let client = client();
    assert_every_admin_route_refuses(&client, &base, None).await;
    let page = client.get(format!("{base}/admin/login")).send().await.unwrap_or_else(|e| panic!("{e}")).text().await.unwrap_or_default();
    assert!(page.contains("no-admin") && page.contains("fanout hash-password") && page.contains("FANOUT_ADMIN_USERS"), "{page}");
    let attempt = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", PASSWORD)]).await;
    assert!(attempt.headers().get("set-cookie").is_none(), "nobody can sign in");
}

#[tokio::test]
async fn hash_password_refuses_a_short_password_and_a_bad_list_stops_serve() {
    let short = run_with_stdin(&["hash-password"], "short").await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    let dir = temp_dir();
    let output = run(&["check"], dir.path(), &[("FANOUT_ADMIN_USERS", "ana:hunter2")]).await;
    let report = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && report.contains("FANOUT_ADMIN_USERS"), "{report}");
    assert!(!report.contains("hunter2"), "{report}");
}

#[tokio::test]
async fn an_admin_pauses_and_resumes_a_volunteer_from_the_dashboard_and_it_is_recorded() {
    use app::model::{AccountStatus, EventKind};
    use app::store::{AccountId, EventQuery, Store};
    let users = format!("ana:{}", hash(PASSWORD).await);
    let world = signup::World::start(&[("FANOUT_ADMIN_USERS", users.as_str())]).await;
    world.user(8801, "Vera");
    world.connect("Vera", 8801).await;
    let base = world.fanout.url().to_string();
    let client = client();
    let login = post_form(&client, &base, "/admin/login", None, &[("name", "ana"), ("password", PASSWORD)]).await;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let page = dashboard_page(&client, &base, &cookie).await;
    assert!(page.contains("Vera") && page.contains(r#"data-status="active""#), "the account is listed:\n{page}");
    let csrf = page.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
    let store = world.store().await;
    let accounts = store.accounts().await.unwrap_or_default();
    let vera = accounts.first().map(|a| a.id.to_string()).unwrap_or_default();

    let forged = post_form(&client, &base, &format!("/admin/accounts/{vera}/pause"), Some(&cookie), &[("csrf", "forged")]).await;
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(
        store.accounts().await.unwrap_or_default().first().map(|a| a.status),
        Some(AccountStatus::Active),
        "a forged request changes nothing"
    );

    let paused = post_form(&client, &base, &format!("/admin/accounts/{vera}/pause"), Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(paused.status().as_u16(), 303);
    assert_eq!(location(&paused), "/admin#accounts");
    let page = dashboard_page(&client, &base, &cookie).await;
    assert!(page.contains(r#"id="flash""#) && page.contains("Vera paused"), "the dashboard says what was done:\n{page}");
    let crafted = client.get(format!("{base}/admin?notice=Call+555&problem=Call+555")).header("cookie", &cookie).send().await;
    let crafted = crafted.unwrap_or_else(|e| panic!("{e}")).text().await.unwrap_or_default();
    assert!(!crafted.contains("Call 555") && !crafted.contains(r#"id="flash""#), "a crafted address cannot put words on the dashboard");
    assert_eq!(store.accounts().await.unwrap_or_default().first().map(|a| a.status), Some(AccountStatus::Paused));
    let resumed = post_form(&client, &base, &format!("/admin/accounts/{vera}/resume"), Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(resumed.status().as_u16(), 303);
    assert_eq!(store.accounts().await.unwrap_or_default().first().map(|a| a.status), Some(AccountStatus::Active));
    let unknown = post_form(&client, &base, "/admin/accounts/no-such-account/pause", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(unknown.status().as_u16(), 404);

    // An account Restream refused is listed with the link to send the volunteer.
    let rows = |client: reqwest::Client| {
        let (base, cookie) = (base.clone(), cookie.clone());
        async move {
            let response = client.get(format!("{base}/api/admin_accounts")).header("cookie", cookie).send().await;
            response.unwrap_or_else(|e| panic!("{e}")).json::<Vec<app::dashboard::AccountRow>>().await.unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert_eq!(rows(client.clone()).await[0].manage_link, None, "only a refused account carries its link");
    store
        .set_account_status(&AccountId::from_stored(vera.clone()), AccountStatus::NeedsReconnect, app::store::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let link = rows(client.clone()).await[0].manage_link.clone().unwrap_or_else(|| panic!("a refused account carries its manage link"));
    assert!(link.starts_with(&format!("{}/manage/", base.trim_end_matches('/'))), "{link}");
    let page = client.get(&link).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap_or_default().contains("Sign up again"), "the page tells the volunteer how to connect again");

    let query = EventQuery { kind: Some(EventKind::AccountStatusChanged), limit: 50, before: None, account_id: None };
    let events = store.events(&query).await.map(|p| p.events).unwrap_or_default();
    let by_admin: Vec<&str> =
        events.iter().map(|e| e.event.message.as_str()).filter(|m| m.contains("by admin ana from the dashboard")).collect();
    assert_eq!(by_admin.len(), 2, "pause and resume are recorded with the admin's name: {by_admin:?}");
}
