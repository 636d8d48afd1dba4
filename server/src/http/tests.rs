//! The HTTP face in-process: the whole [`router`] over a real [`AppState`] (SQLite in a
//! temporary directory), driven with `oneshot` — no socket, no binary, no browser. The gate, the
//! guards, the canonical-path refusal and the handlers, each as a client sees them. The
//! real-binary integration tests (`server/tests`) keep the engine paths and the listener.

use std::net::SocketAddr;

use app::model::AccountStatus;
use app::secrets::Purpose;
use app::secrets::Secret;
use app::store::{AccountUpsert, RestreamChannel, RestreamProfile, RestreamUserId, SealedTokens, Upserted, VolunteerChannels, now};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::router;
use crate::config::{ConfigArgs, validate};
use crate::state::AppState;

/// The admin the tests sign in as.
const ADMIN: &str = "ada";
/// Her password.
const PASSWORD: &str = "correct horse battery staple";
/// The address the state is told it is bound to (nothing listens there).
const BOUND: &str = "127.0.0.1:3000";

/// A router over a fresh state, with what it was built from.
struct Face {
    router: Router,
    state: AppState,
    _data: tempfile::TempDir,
}

/// What came back.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
    bytes: axum::body::Bytes,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

impl Face {
    /// A face configured as `configure` says, on top of nothing configured but one admin and a
    /// Restream app (whose API nothing here calls).
    async fn new(configure: impl FnOnce(&mut ConfigArgs)) -> Self {
        let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut args = crate::config::tests::defaults(&data.path().join("data"));
        let hash = crate::access::users::hash_password(PASSWORD).unwrap_or_else(|e| panic!("{e}"));
        args.admin_users = Some(format!("{ADMIN}:{hash}"));
        args.restream_client_id = Some("fanout-test".into());
        args.restream_client_secret = Some(Secret::new("client-secret".to_string()));
        args.restream_api_url = "http://127.0.0.1:9".into();
        configure(&mut args);
        let validated = validate(&args);
        let settings = validated.settings.unwrap_or_else(|| panic!("test settings must validate:\n{}", validated.findings));
        let bound: SocketAddr = BOUND.parse().unwrap_or_else(|e| panic!("{e}"));
        let state = AppState::start(settings, bound).await.unwrap_or_else(|e| panic!("{e}"));
        Self { router: router(state.clone()), state, _data: data }
    }

    /// Sends `request` as if from `peer`.
    async fn send_from(&self, peer: &str, mut request: Request<Body>) -> Answer {
        let peer: SocketAddr = peer.parse().unwrap_or_else(|e| panic!("{e}"));
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 4 << 20).await.unwrap_or_else(|e| panic!("{e}"));
        Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        self.send_from("127.0.0.1:50000", request).await
    }

    /// Signs the admin in; the session cookie and its CSRF token.
    async fn sign_in(&self) -> (String, String) {
        let answer = self.send(form("/admin/login", &[("name", ADMIN), ("password", PASSWORD)])).await;
        assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/admin"), "{}", answer.body);
        let cookie = answer.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no session cookie"));
        let pair = cookie.split(';').next().unwrap_or_default().to_string();
        let token = pair.split_once('=').map(|(_, t)| t.to_string()).unwrap_or_default();
        let session = self.state.admin.sessions.get(&token).unwrap_or_else(|| panic!("the cookie names no session"));
        (pair, session.csrf.clone())
    }

    /// A connected account, as a finished sign-up leaves it.
    async fn account(&self) -> app::store::Account {
        let cipher = &self.state.cipher;
        let upsert = AccountUpsert {
            display_name: "Grace".into(),
            email: "grace@example.org".into(),
            channels: VolunteerChannels { youtube: Some("https://www.youtube.com/@grace".into()), twitch: None, x: None, facebook: None },
            restream: RestreamProfile { user_id: RestreamUserId(7), username: "grace-rs".into(), email: "grace@restream.example".into() },
            restream_channels: vec![RestreamChannel {
                id: 70,
                platform_id: 5,
                platform: "YouTube".into(),
                display_name: "Grace on YouTube".into(),
                url: None,
                enabled: true,
            }],
            tokens: SealedTokens {
                access: cipher.seal_secret(Purpose::AccessToken, &Secret::new("access".to_string())),
                refresh: cipher.seal_secret(Purpose::RefreshToken, &Secret::new("refresh".to_string())),
                access_expires_at: now() + time::Duration::hours(1),
            },
        };
        match self.state.store.upsert_account(upsert, now()).await.unwrap_or_else(|e| panic!("{e}")) {
            Upserted::Created(account) | Upserted::Updated(account) => account,
        }
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap_or_else(|e| panic!("{e}"))
}

fn form(path: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn with_header(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap_or_else(|e| panic!("{e}")));
    request
}

#[tokio::test]
async fn health_and_readiness_answer_with_the_store_named() {
    let face = Face::new(|_| {}).await;
    let health = face.send(get("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.body.contains(r#""status":"ok""#), "{}", health.body);
    let ready = face.send(get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.body.contains(r#""store":"SQLite""#), "{}", ready.body);
}

#[tokio::test]
async fn paths_read_two_ways_are_refused_before_the_gate_and_canonical_ones_pass() {
    let face = Face::new(|_| {}).await;
    for path in ["/./admin", "/x/../admin", "//admin", "/%61dmin", "/admin%2fstatus", "/admin\\x", "/api/%2e%2e/api/admin_dashboard"] {
        let answer = face.send(get(path)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.body);
        assert!(answer.body.starts_with("Bad request: the path"), "{path}: {}", answer.body);
    }
    // The same routes, spelled canonically, reach the gate.
    assert_eq!(face.send(get("/admin")).await.location(), "/admin/login");
    assert_eq!(face.send(get("/healthz")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn without_a_session_pages_go_to_the_login_and_everything_else_is_refused() {
    let face = Face::new(|_| {}).await;
    for page in ["/admin", "/admin/", "/ADMIN", "/admin/status/stream"] {
        let answer = face.send(get(page)).await;
        assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/admin/login"), "{page}");
    }
    for (method, path) in [
        (Method::POST, "/api/admin_dashboard"),
        (Method::GET, "/api/admin_dashboard"),
        (Method::POST, "/admin/control/stop"),
        (Method::POST, "/admin/logout"),
        (Method::POST, "/admin/direct"),
    ] {
        let request = Request::builder().method(method.clone()).uri(path).body(Body::empty()).unwrap_or_else(|e| panic!("{e}"));
        let answer = face.send(request).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}: {}", answer.body);
    }
    let login = face.send(get("/admin/login")).await;
    assert_eq!(login.status, StatusCode::OK, "the login page itself is open");
    assert!(login.body.contains(r#"action="/admin/login""#), "{}", login.body);
}

#[tokio::test]
async fn a_wrong_password_goes_back_to_the_login_without_a_session() {
    let face = Face::new(|_| {}).await;
    let answer = face.send(form("/admin/login", &[("name", ADMIN), ("password", "not her password at all")])).await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/admin/login?failed=1"));
    assert!(answer.headers.get(header::SET_COOKIE).is_none());
    let unknown = face.send(form("/admin/login", &[("name", "mallory"), ("password", PASSWORD)])).await;
    assert_eq!(unknown.location(), "/admin/login?failed=1", "an unknown name fails the same way");
}

#[tokio::test]
async fn a_signed_in_admin_sees_the_dashboard_and_changes_nothing_without_her_form_token() {
    let face = Face::new(|_| {}).await;
    let (cookie, csrf) = face.sign_in().await;
    let dashboard = face.send(with_header(get("/admin"), "cookie", &cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(dashboard.body.contains(&csrf), "the page's forms carry the session's token");

    let account = face.account().await;
    let pause = format!("/admin/accounts/{}/pause", account.id);
    for fields in [vec![], vec![("csrf", "forged")]] {
        let answer = face.send(with_header(form(&pause, &fields), "cookie", &cookie)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{fields:?}: {}", answer.body);
    }
    let stored = face.state.store.account(&account.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|a| a.status), Some(AccountStatus::Active), "a refused action changes nothing");

    let answer = face.send(with_header(form(&pause, &[("csrf", &csrf)]), "cookie", &cookie)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(answer.location().starts_with("/admin"), "{}", answer.location());
    let stored = face.state.store.account(&account.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|a| a.status), Some(AccountStatus::Paused));

    let out = face.send(with_header(form("/admin/logout", &[("csrf", &csrf)]), "cookie", &cookie)).await;
    assert_eq!(out.location(), "/admin/login?out=1");
    assert_eq!(face.send(with_header(get("/admin"), "cookie", &cookie)).await.location(), "/admin/login", "the session is over");
}

/// The `points` of the first `<polyline` after `marker` in `html`, counted.
fn points_after(html: &str, marker: &str) -> usize {
    let from = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let line = &html[from..];
    let points = line.find("<polyline").and_then(|at| line[at..].split_once(r#"points=""#)).map(|(_, rest)| rest);
    let points = points.and_then(|rest| rest.split_once('"')).map(|(points, _)| points).unwrap_or_else(|| panic!("no points"));
    points.split_whitespace().count()
}

#[tokio::test]
async fn a_past_lives_report_shows_its_charts_and_worst_destination_to_the_admin_only() {
    use app::model::{DestinationId, DirectId, LiveState};
    use app::store::{DestinationTally, Live, LiveSample, VideoId};
    let face = Face::new(|_| {}).await;
    let store = &face.state.store;
    let video = VideoId("RepLive0001".into());
    let t0 = now() - time::Duration::hours(1);
    let live = Live {
        video_id: video.clone(),
        title: "Day 12 — the report".into(),
        state: LiveState::Ended,
        detected_at: t0,
        started_at: Some(t0),
        ended_at: Some(t0 + time::Duration::seconds(60)),
        peak_destinations: 2,
        failures: 1,
    };
    store.put_live(&live).await.unwrap_or_else(|e| panic!("{e}"));
    for i in 0..7 {
        let sample = LiveSample {
            at: t0 + time::Duration::seconds(10 * i),
            streaming: if i == 3 { 1 } else { 2 },
            destinations: 2,
            egress_bps: 3_000_000,
            reconnects: u32::from(i == 4),
            slate: i == 5,
            grace: false,
        };
        store.add_live_sample(&video, &sample, 8640).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let tally = |id: DestinationId, name: &str, down_secs| DestinationTally {
        id,
        name: name.into(),
        down_secs,
        reconnects: 1,
        lowest_bps: Some(1_400_000),
    };
    let tallies = [
        tally(DestinationId::Direct(DirectId::from_stored("steady")), "Steady Studio", 0),
        tally(DestinationId::Direct(DirectId::from_stored("flaky")), "Flaky Volunteer", 12),
    ];
    store.add_destination_tallies(&video, &tallies).await.unwrap_or_else(|e| panic!("{e}"));
    let path = "/admin/lives/RepLive0001";

    let refused = face.send(get(path)).await;
    assert_eq!((refused.status, refused.location()), (StatusCode::SEE_OTHER, "/admin/login"), "no session, no report");
    assert_eq!(face.send(get("/api/admin_live_report?video=RepLive0001")).await.status, StatusCode::UNAUTHORIZED);

    let (cookie, _) = face.sign_in().await;
    let page = face.send(with_header(get(path), "cookie", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("Day 12 — the report"), "the title: {body}");
    assert!(body.matches("<svg").count() >= 2, "two charts: {body}");
    assert_eq!(points_after(body, r#"id="chart-streaming""#), 7, "one point per sample");
    assert_eq!(points_after(body, r#"id="chart-egress""#), 7);
    assert_eq!(body.matches(r#"class="reconnect""#).count(), 2, "the reconnect marked on both charts");
    let worst = body.find(r#"id="worst""#).unwrap_or_else(|| panic!("no worst table: {body}"));
    let (flaky, steady) = (body[worst..].find("Flaky Volunteer"), body[worst..].find("Steady Studio"));
    assert!(flaky.is_some() && flaky < steady, "the worst destination first: {body}");
    assert!(!body.contains(" style="), "no inline style (the CSP allows none)");
    let policy = page.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(policy.contains("style-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");

    let dashboard = face.send(with_header(get("/admin"), "cookie", &cookie)).await;
    assert!(dashboard.body.contains(r#"href="/admin/lives/RepLive0001""#), "History links the report: {}", dashboard.body);
    let unknown = face.send(with_header(get("/admin/lives/NoSuchLive1"), "cookie", &cookie)).await;
    assert!(unknown.body.contains("No such live"), "{}", unknown.body);
}

#[tokio::test]
async fn state_changes_from_other_sites_are_refused_and_fanouts_own_pass() {
    let face = Face::new(|_| {}).await;
    let account = face.account().await;
    let link = face.state.links.issue(&account.id, account.link_epoch, now());
    let pause = format!("/manage/{link}/pause");
    for (name, value) in [("sec-fetch-site", "cross-site"), ("sec-fetch-site", "same-site"), ("origin", "https://evil.example")] {
        let answer = face.send(with_header(form(&pause, &[]), name, value)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{name}: {value}");
    }
    let stored = face.state.store.account(&account.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|a| a.status), Some(AccountStatus::Active));

    let answer = face.send(with_header(form(&pause, &[]), "origin", &format!("http://{BOUND}"))).await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, format!("/manage/{link}?done=paused").as_str()));
    let stored = face.state.store.account(&account.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|a| a.status), Some(AccountStatus::Paused));
}

#[tokio::test]
async fn a_forged_or_unknown_manage_action_changes_nothing() {
    let face = Face::new(|_| {}).await;
    let account = face.account().await;
    let link = face.state.links.issue(&account.id, account.link_epoch, now());
    let forged = format!("{}x", &link[..link.len() - 1]);
    let answer = face.send(form(&format!("/manage/{forged}/disconnect"), &[])).await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, format!("/manage/{forged}").as_str()), "the page explains");
    let unknown = face.send(form(&format!("/manage/{link}/explode"), &[])).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let stored = face.state.store.account(&account.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|a| a.status), Some(AccountStatus::Active));
}

#[tokio::test]
async fn public_actions_are_limited_per_address_with_a_page_and_retry_after() {
    let face = Face::new(|args| args.rate_limit = 2).await;
    for _ in 0..2 {
        let answer = face.send_from("192.0.2.10:1000", form("/manage/nothing/pause", &[])).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
    }
    let limited = face.send_from("192.0.2.10:1001", form("/manage/nothing/pause", &[])).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    assert!(limited.body.contains("<html"), "a page, not a bare status: {}", limited.body);
    let other = face.send_from("192.0.2.11:1000", form("/manage/nothing/pause", &[])).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another address has its own budget");
}

#[tokio::test]
async fn a_signup_form_with_mistakes_comes_back_with_them_and_an_oversized_one_with_413() {
    let face = Face::new(|_| {}).await;
    let answer = face.send(form("/", &[("display_name", ""), ("email", "not-an-address")])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.body.contains("<form"), "the form comes back");
    assert!(answer.body.contains(r#"role="alert""#) || answer.body.contains("aria-invalid"), "with its messages: {}", answer.body);
    let recorded = face.state.store.purge_pending_signups(now() + time::Duration::days(365)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recorded, 0, "no sign-up is recorded");

    let huge = "x".repeat(100 * 1024);
    let oversized = face.send(form("/", &[("display_name", &huge)])).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(oversized.body.contains("<form"), "{}", &oversized.body[..oversized.body.len().min(400)]);
}

#[tokio::test]
async fn metrics_need_their_token_once_one_is_set() {
    let face = Face::new(|args| args.metrics_token = Some(Secret::new("metrics-token-0123456789".to_string()))).await;
    let refused = face.send(get("/metrics")).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Bearer"));
    let wrong = face.send(with_header(get("/metrics"), "authorization", "Bearer metrics-token-9876543210")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let allowed = face.send(with_header(get("/metrics"), "authorization", "Bearer metrics-token-0123456789")).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
}

#[tokio::test]
async fn answers_carry_the_security_headers() {
    let face = Face::new(|_| {}).await;
    for path in ["/", "/healthz", "/admin"] {
        let answer = face.send(get(path)).await;
        for name in [header::REFERRER_POLICY, header::X_CONTENT_TYPE_OPTIONS, header::CONTENT_SECURITY_POLICY] {
            assert!(answer.headers.contains_key(&name), "{path} lacks {name}");
        }
        let policy = answer.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'") || policy.contains("default-src"), "{path}: {policy}");
    }
}

/// Runs `program` with `args` on `input` (the real tools: `gzip`, `brotli`); its output.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} (scripts/setup installs it): {e}"));
    child.stdin.take().map(|mut stdin| stdin.write_all(input)).transpose().unwrap_or_else(|e| panic!("{e}"));
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success(), "{program} {args:?}");
    output.stdout
}

/// A built site in miniature, as a release build leaves it: the pages' files under hashed names
/// with `hash.txt`, each beside its `.br` and `.gz` twins, and a plain public file.
fn release_site(root: &std::path::Path) -> Vec<u8> {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap_or_else(|e| panic!("{e}"));
    let wasm: Vec<u8> = (0..40_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
    let write = |path: std::path::PathBuf, bytes: &[u8]| std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
    for (kind, hash) in [("js", "AAAAAAAAAAAAAAAAAAAAAA"), ("wasm", "BBBBBBBBBBBBBBBBBBBBBB"), ("css", "CCCCCCCCCCCCCCCCCCCCCC")] {
        let name = pkg.join(format!("fanout.{hash}.{kind}"));
        write(name.with_extension(format!("{kind}.gz")), &pipe("gzip", &["-9", "-c"], &wasm));
        write(name.with_extension(format!("{kind}.br")), &pipe("brotli", &["-c"], &wasm));
        write(name, &wasm);
    }
    write(root.join("hash.txt"), b"js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: CCCCCCCCCCCCCCCCCCCCCC\n");
    write(root.join("favicon.svg"), b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    wasm
}

#[tokio::test]
async fn the_sites_files_come_precompressed_as_asked_and_hashed_ones_are_cached_for_good() {
    let site = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let original = release_site(site.path());
    let root = site.path().to_path_buf();
    let face = Face::new(move |args| args.site_root = root).await;
    let wasm = "/pkg/fanout.BBBBBBBBBBBBBBBBBBBBBB.wasm";

    for (accept, encoding) in [
        (Some("br"), "br"),
        (Some("gzip"), "gzip"),
        (Some("gzip, deflate, br"), "br"),
        (Some("br;q=0.5, gzip"), "gzip"),
        (None, "identity"),
        (Some("identity"), "identity"),
    ] {
        let request = match accept {
            Some(accept) => with_header(get(wasm), "accept-encoding", accept),
            None => get(wasm),
        };
        let answer = face.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{accept:?}");
        let header = |name| answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("identity").to_string();
        assert_eq!(header(header::CONTENT_ENCODING), encoding, "Accept-Encoding {accept:?}");
        assert_eq!(header(header::CONTENT_TYPE), "application/wasm", "the type of the file, not of its twin");
        assert_eq!(header(header::VARY), "accept-encoding");
        assert_eq!(header(header::CACHE_CONTROL), "public, max-age=31536000, immutable", "a hashed name is kept for good");
        let body = match encoding {
            "br" => pipe("brotli", &["-d", "-c"], &answer.bytes),
            "gzip" => pipe("gzip", &["-d", "-c"], &answer.bytes),
            _ => answer.bytes.to_vec(),
        };
        assert!(encoding == "identity" || answer.bytes.len() < original.len() / 2, "{encoding}: the compressed twin was sent");
        assert!(body == original, "{accept:?}: the same bytes once decompressed");
    }

    // The pages' files under plain names are revalidated, other public files kept a day; pages
    // are never stored.
    std::fs::copy(site.path().join("pkg/fanout.AAAAAAAAAAAAAAAAAAAAAA.js"), site.path().join("pkg/fanout.js"))
        .unwrap_or_else(|e| panic!("{e}"));
    for (path, policy) in [("/pkg/fanout.js", "no-cache"), ("/favicon.svg", "public, max-age=86400")] {
        let answer = face.send(with_header(get(path), "accept-encoding", "br")).await;
        assert_eq!(
            (answer.status, answer.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok())),
            (StatusCode::OK, Some(policy))
        );
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING), "{path}: no twin, no encoding");
    }
    for page in ["/", "/admin/login", "/pkg/fanout.DDDDDDDDDDDDDDDDDDDDDD.wasm"] {
        let answer = face.send(with_header(get(page), "accept-encoding", "br")).await;
        assert_eq!(answer.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"), "{page}");
    }
    // The page links the hashed files, and its policy stays as strict.
    let page = face.send(get("/")).await;
    for file in
        ["/pkg/fanout.AAAAAAAAAAAAAAAAAAAAAA.js", "/pkg/fanout.BBBBBBBBBBBBBBBBBBBBBB.wasm", "/pkg/fanout.CCCCCCCCCCCCCCCCCCCCCC.css"]
    {
        assert!(page.body.contains(file), "the page links {file}:\n{}", page.body);
    }
    let policy = page.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(policy.contains("script-src 'self' 'nonce-") && !policy.contains("unsafe-inline"), "{policy}");
}

#[tokio::test]
async fn pages_are_compressed_as_they_are_sent_and_nothing_else_is() {
    let face = Face::new(|_| {}).await;
    let plain = face.send(get("/")).await;
    assert!(!plain.headers.contains_key(header::CONTENT_ENCODING), "no encoding for a client that asks for none");
    for (encoding, decompress) in [("br", "brotli"), ("gzip", "gzip")] {
        let answer = face.send(with_header(get("/"), "accept-encoding", encoding)).await;
        assert_eq!(answer.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()), Some(encoding));
        let page = pipe(decompress, &["-d", "-c"], &answer.bytes);
        assert!(answer.bytes.len() * 2 < page.len(), "{encoding}: {} bytes for a page of {}", answer.bytes.len(), page.len());
        // The same page but for its nonce (as long as any other).
        assert!(page.starts_with(b"<!DOCTYPE html>") && page.len() == plain.bytes.len(), "{encoding}: the page whole");
    }
    let health = face.send(with_header(get("/healthz"), "accept-encoding", "br")).await;
    assert!(!health.headers.contains_key(header::CONTENT_ENCODING), "JSON goes as it is");
    // The dashboard carries the CSRF token beside text its address chooses: never compressed.
    let (cookie, _) = face.sign_in().await;
    for path in ["/admin", "/admin/login", "/admin?kind=AdminAction"] {
        let answer = face.send(with_header(with_header(get(path), "cookie", &cookie), "accept-encoding", "br, gzip")).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING), "{path} goes uncompressed");
    }
}

mod api;
