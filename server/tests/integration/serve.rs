//! `fanout serve`: starts on nothing, answers health checks, stops on SIGTERM, refuses a wrong key.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use app::model::EventKind;
use app::store::{EventQuery, SqliteStore, Store};
use nix::sys::signal::Signal;

use super::*;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn starts_with_no_configuration_and_says_what_is_missing() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;

    let (status, page) = get(&format!("{}/", fanout.url())).await;
    assert_eq!(status, 200);
    assert!(page.contains("Fanout is not fully configured yet"), "the page says so:\n{page}");
    assert!(page.contains("RESTREAM_CLIENT_ID") && page.contains("FANOUT_YOUTUBE_CHANNEL"));
    let site = server::http::site::SiteFiles::read(&fanout_testworld::site_root());
    for file in &site.files {
        assert!(page.contains(&format!("/{file}")), "the page links the site's {file} (hydration scripts, styles)");
    }

    let log = fanout.log();
    assert!(log.contains("FANOUT_YOUTUBE_CHANNEL") && log.contains("RESTREAM_CLIENT_ID"), "the log says so:\n{log}");
    assert!(log.contains("generated a new master key"), "{log}");

    let key = fanout.data_dir().join("secret.key");
    let mode = std::fs::metadata(&key).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode, 0o600, "the generated key is readable by its owner only");
    let dir_mode = std::fs::metadata(fanout.data_dir()).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(dir_mode, 0o700, "the data directory is private");
    assert!(fanout.data_dir().join("fanout.db").is_file(), "the embedded store is created");
}

#[tokio::test]
async fn health_and_readiness_answer_json() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;

    let (status, body) = get(&format!("{}/healthz", fanout.url())).await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    let (status, body) = get(&format!("{}/readyz", fanout.url())).await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], "SQLite");
}

#[tokio::test]
async fn unknown_paths_get_the_not_found_page_with_404() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;
    let (status, page) = get(&format!("{}/no/such/page", fanout.url())).await;
    assert_eq!(status, 404);
    assert!(page.contains("There is no page here"), "{page}");
}

#[tokio::test]
async fn sigterm_stops_it_cleanly_and_the_stop_is_recorded() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;
    let data_dir = fanout.data_dir().to_path_buf();
    let status = fanout.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(status.success(), "exit status {status}");

    let store = SqliteStore::open(&data_dir.join("fanout.db")).await.unwrap_or_else(|e| panic!("{e}"));
    let events = store.events(&EventQuery::newest(10)).await.unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<EventKind> = events.events.iter().map(|e| e.event.kind).collect();
    assert_eq!(kinds, [EventKind::ServerStopped, EventKind::ServerStarted]);
}

#[tokio::test]
async fn killed_with_sigkill_it_starts_again_on_the_same_store() {
    let dir = temp_dir();
    let mut fanout = serve(dir.path(), options()).await;
    let data_dir = fanout.data_dir().to_path_buf();
    fanout.process().signal(Signal::SIGKILL).unwrap_or_else(|e| panic!("{e}"));
    assert!(fanout.process().wait(Duration::from_secs(10)).await.is_some(), "it died");

    let second_world = temp_dir();
    let again = serve(second_world.path(), options().data_dir(&data_dir)).await;
    let (status, _) = get(&format!("{}/readyz", again.url())).await;
    assert_eq!(status, 200);
    assert!(!again.log().contains("generated a new master key"), "the same key is reused");
}

#[tokio::test]
async fn a_different_key_is_refused_at_start_with_a_clear_error() {
    let dir = temp_dir();
    let data_dir = data_dir_after_one_run(dir.path()).await;

    let other_key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let output = run(&["serve"], &data_dir, &[("FANOUT_SECRET_KEY", other_key)]).await;
    assert!(!output.status.success(), "it must not start");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("sealed with key") && stderr.contains("FANOUT_SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains(other_key), "the key is never printed");
}

#[tokio::test]
async fn invalid_configuration_stops_serve_before_it_listens() {
    let dir = temp_dir();
    let output = run(&["serve"], &dir.path().join("data"), &[("FANOUT_YOUTUBE_CHANNEL", "https://twitch.tv/x")]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("FANOUT_YOUTUBE_CHANNEL") && stderr.contains("fanout check"), "{stderr}");
    assert!(!text(&output.stdout).contains("listening"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_their_inline_scripts_the_policy_nonce() {
    let dir = temp_dir();
    let fanout = serve(dir.path(), options()).await;
    for path in ["/", "/admin/login"] {
        let response = reqwest::get(format!("{}{path}", fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let policy = header("content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'") && policy.contains("object-src 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "same-origin");
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or_default().to_string();
        assert!(nonce.len() >= 16, "{path}: a nonce per response: {policy}");
        let page = response.text().await.unwrap_or_default();
        let inline_scripts = page.matches("<script").count();
        let with_nonce = page.matches(&format!(r#"nonce="{nonce}""#)).count();
        assert!(
            inline_scripts > 0 && with_nonce == inline_scripts,
            "{path}: every script carries the nonce ({with_nonce} of {inline_scripts})"
        );
    }
    let second = reqwest::get(format!("{}/", fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let first_policy = second.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let third = reqwest::get(format!("{}/", fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let other_policy = third.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_ne!(first_policy, other_policy, "a fresh nonce each response");
    let health = reqwest::get(format!("{}/healthz", fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let policy = health.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("nonce"), "{policy}");
}

#[tokio::test]
async fn a_configured_node_holds_its_lease_while_it_serves_and_gives_it_up_on_sigterm() {
    let dir = temp_dir();
    let node = options()
        .env("FANOUT_NODE_NAME", "node-a")
        .env("FANOUT_NODE_RELAY_URL", "rtmp://127.0.0.1:19350/fanout")
        .env("FANOUT_PORT_MBPS", "100");
    let fanout = serve(dir.path(), node).await;
    let store = SqliteStore::open(&fanout.data_dir().join("fanout.db")).await.unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lease = loop {
        let nodes = store.live_nodes(app::store::now()).await.unwrap_or_else(|e| panic!("{e}"));
        if let Some(lease) = nodes.into_iter().next() {
            break lease;
        }
        assert!(std::time::Instant::now() < deadline, "no lease within 10 s:\n{}", fanout.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (lease.name().as_str(), lease.claim.relay_url.as_str(), lease.claim.capacity_mbps),
        ("node-a", "rtmp://127.0.0.1:19350/fanout", 100)
    );

    let status = fanout.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(status.success(), "exit status {status}");
    assert!(store.live_nodes(app::store::now()).await.unwrap_or_else(|e| panic!("{e}")).is_empty(), "the lease is given up at once");
}
