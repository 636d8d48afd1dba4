//! Health from Restream's streaming updates, in a real live: the Restream stand-in's WebSockets
//! report what its ingest (the nginx sink) really receives, and the tests steer it — one
//! destination not received, a channel offline, a platform's connection expired, every socket
//! dropped, tokens rotated — while Fanout's dashboard JSON, its event log and the volunteer's
//! manage page are read. Timings are printed, never asserted.

use std::time::Instant;

use app::dashboard::{DashboardStatus, DestinationRow};
use app::model::EventKind;
use app::received::{ChannelState, HealthFlag};

use super::engine::{LiveWorld, events_of};
use super::*;

fn row<'a>(status: &'a DashboardStatus, name: &str) -> Option<&'a DestinationRow> {
    status.destinations.iter().find(|d| d.name == name)
}

/// Whether Restream reports receiving `name`'s destination, unflagged.
fn received(status: &DashboardStatus, name: &str) -> bool {
    row(status, name).is_some_and(|d| d.flag.is_none() && d.received.as_ref().is_some_and(|r| r.receiving))
}

/// The volunteer's manage page at `link`, as HTML, in lower case (the stand-in's platform list
/// spells it "Youtube").
async fn page(live: &LiveWorld, link: &str) -> String {
    let response = live.world.http.get(format!("{}{link}", live.world.fanout.url())).send().await;
    response.unwrap_or_else(|e| panic!("{e}")).text().await.unwrap_or_default().to_lowercase()
}

/// The stand-in's streaming-updates sockets opened for `user_id` so far.
fn streaming_sockets(live: &LiveWorld, user_id: i64) -> Vec<String> {
    live.world.restream.sockets().into_iter().filter(|s| s.user_id == user_id && s.feed == "streaming").map(|s| s.token).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_restream_does_not_receive_is_flagged_alone_and_recorded_once() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7601, "Ana").await;
    let (ben, _) = live.volunteer(7602, "Ben").await;
    // Restream receives nothing from Ben, whatever arrives at its ingest.
    live.world.restream.report_received(ben.id, false);
    let started = live.go_live();
    live.wait_receiving(&[&ana.stream_key, &ben.stream_key], 60).await;
    let cookie = live.admin_cookie().await;

    eventually(60, "Ben's row is flagged sent but not received", || async {
        row(&live.dashboard(&cookie).await, "Ben").is_some_and(|d| d.flag == Some(HealthFlag::SentNotReceived))
    })
    .await;
    eprintln!("live → Ben flagged: {:.1} s", started.elapsed().as_secs_f64());
    let status = live.dashboard(&cookie).await;
    assert!(received(&status, "Ana"), "Ana's row is not flagged: {status:?}");
    let ana_row = row(&status, "Ana").and_then(|d| d.received.clone()).unwrap_or_default();
    assert!(ana_row.incoming.as_ref().is_some_and(|i| i.bitrate_bps > 100_000), "Restream's incoming bitrate: {ana_row:?}");
    let youtube = ana_row.channels.iter().find(|c| c.id == ana.channels[0].id).cloned();
    assert!(youtube.is_some_and(|c| c.state == ChannelState::Online && c.viewers == Some(3)), "{ana_row:?}");
    let ben_row = row(&status, "Ben").unwrap_or_else(|| panic!("Ben's row"));
    assert_eq!(ben_row.state.as_str(), "streaming", "Fanout does send to Ben");
    let totals = status.restream_totals();
    assert_eq!((totals.received, totals.reported, totals.flagged), (1, 2, 1), "{totals:?}");

    let store = live.store().await;
    let about_ben =
        || async { events_of(&store, EventKind::RestreamHealth).await.into_iter().filter(|m| m.starts_with("Ben:")).collect::<Vec<_>>() };
    eventually(10, "the flag is an event", || async { !about_ben().await.is_empty() }).await;
    // Several more looks at the still-flagged row (the status is published twice a second).
    let before = live.sink.bytes_in(&ana.stream_key).await;
    eventually(20, "the live goes on for a while", || async { live.sink.bytes_in(&ana.stream_key).await > before + 300_000 }).await;
    let events = about_ben().await;
    assert_eq!(events.len(), 1, "once per change, not once per message: {events:?}");
    assert!(events[0].contains("has not received it for 15 s"), "{events:?}");
    assert!(events_of(&store, EventKind::RestreamHealth).await.iter().all(|m| !m.starts_with("Ana:")), "nothing about Ana");

    // Restream receives Ben again: the flag goes, once more an event.
    live.world.restream.report_received(ben.id, true);
    eventually(20, "Ben's row is received again", || async { received(&live.dashboard(&cookie).await, "Ben") }).await;
    eventually(10, "and that is recorded", || async { about_ben().await.iter().any(|m| m.contains("receives the live again")) }).await;
    let metrics = reqwest::get(format!("{}/metrics", live.world.fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let metrics = metrics.text().await.unwrap_or_default();
    assert!(metrics.contains("fanout_destination_received{") && metrics.contains("fanout_restream_channels_online"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_offline_shows_on_its_row_and_on_the_volunteers_page_and_an_expired_one_asks_to_reconnect() {
    let live = LiveWorld::start(30).await;
    let (ana, ana_link) = live.volunteer(7701, "Ana").await;
    let (ben, ben_link) = live.volunteer(7702, "Ben").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key, &ben.stream_key], 60).await;
    let cookie = live.admin_cookie().await;
    eventually(30, "Ana's page says Restream receives her live", || async {
        page(&live, &ana_link).await.contains("restream is receiving the live · youtube online")
    })
    .await;

    let youtube = ana.channels[0].id;
    live.world.restream.report_channel_online(youtube, false);
    let offline = Instant::now();
    let channel_state = |status: &DashboardStatus, name: &str| {
        row(status, name).and_then(|d| d.received.as_ref()).and_then(|r| r.channels.first().map(|c| c.state))
    };
    eventually(15, "Ana's row shows her YouTube channel offline", || async {
        channel_state(&live.dashboard(&cookie).await, "Ana") == Some(ChannelState::Offline)
    })
    .await;
    eprintln!("channel offline → shown on the dashboard: {:.1} s", offline.elapsed().as_secs_f64());
    let status = live.dashboard(&cookie).await;
    assert_eq!(channel_state(&status, "Ben"), Some(ChannelState::Online), "Ben's is untouched");
    assert!(received(&status, "Ana"), "Restream still receives Ana's stream: only the platform is offline");
    eventually(15, "Ana's page says so", || async {
        page(&live, &ana_link).await.contains("restream is receiving the live · youtube offline")
    })
    .await;
    assert!(page(&live, &ben_link).await.contains("restream is receiving the live · youtube online"), "Ben's page is his own");
    let store = live.store().await;
    eventually(40, "the channel offline during the live is an event", || async {
        events_of(&store, EventKind::RestreamHealth)
            .await
            .iter()
            .any(|m| m.to_lowercase().starts_with("ana: youtube channel") && m.contains("is offline"))
    })
    .await;

    // Restream's connection to the platform expired: the row and the page say what to do.
    live.world.restream.expire_channel_connection(youtube, true);
    eventually(15, "Ana's row asks her to reconnect her YouTube in Restream", || async {
        row(&live.dashboard(&cookie).await, "Ana")
            .and_then(|d| d.received.clone())
            .is_some_and(|r| r.reconnect.len() == 1 && r.reconnect[0].eq_ignore_ascii_case("youtube"))
    })
    .await;
    let html = page(&live, &ana_link).await;
    assert!(html.contains("reconnect your youtube in restream"), "{html}");
    assert!(!page(&live, &ben_link).await.contains("reconnect your"), "not on Ben's page");
    eventually(10, "recorded once", || async {
        events_of(&store, EventKind::RestreamHealth)
            .await
            .iter()
            .filter(|m| m.to_lowercase().contains("must reconnect their youtube"))
            .count()
            == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_comes_back_when_restream_drops_it_and_follows_the_tokens_when_they_rotate() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7801, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    let cookie = live.admin_cookie().await;
    eventually(30, "Restream's report of Ana is in", || async { received(&live.dashboard(&cookie).await, "Ana") }).await;
    let first = streaming_sockets(&live, ana.id);
    assert_eq!(first.len(), 1, "one streaming-updates socket per account");

    live.world.restream.drop_sockets();
    let dropped = Instant::now();
    eventually(30, "Fanout opens the socket again", || async { streaming_sockets(&live, ana.id).len() >= 2 }).await;
    eventually(15, "and hears Restream again", || async { received(&live.dashboard(&cookie).await, "Ana") }).await;
    eprintln!("sockets dropped → Fanout hears Restream again: {:.1} s", dropped.elapsed().as_secs_f64());
    eventually(15, "the chat socket is back too", || async { live.world.restream.socket_counts().0 == 2 }).await;
    assert_eq!(streaming_sockets(&live, ana.id).len(), 2, "one socket opened again, not more");

    // The tokens rotate during the live: Restream closes the socket of the old token; Fanout
    // refreshes once, through the single-flight path, and comes back with the new one.
    let old = live.world.restream.tokens_of(ana.id).unwrap_or_else(|| panic!("a pair")).access;
    assert_eq!(streaming_sockets(&live, ana.id).last(), Some(&old));
    live.world.restream.expire_access_tokens(ana.id);
    let rotated = Instant::now();
    eventually(30, "the socket follows the new token", || async {
        let current = live.world.restream.tokens_of(ana.id).map(|p| p.access);
        current.as_ref().is_some_and(|new| *new != old && streaming_sockets(&live, ana.id).last() == Some(new))
    })
    .await;
    eventually(15, "and Restream's report is back", || async { received(&live.dashboard(&cookie).await, "Ana") }).await;
    eprintln!("tokens rotated → the socket on the new token: {:.1} s", rotated.elapsed().as_secs_f64());
    assert_eq!(live.world.restream.refresh_count(ana.id), 1, "one refresh, shared by both sockets");
    let new = live.world.restream.tokens_of(ana.id).unwrap_or_else(|| panic!("a pair")).access;

    // The tokens never show: not in the log, the dashboard, the events or /metrics.
    let metrics = reqwest::get(format!("{}/metrics", live.world.fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let metrics = metrics.text().await.unwrap_or_default();
    let dashboard = serde_json::to_string(&live.dashboard(&cookie).await).unwrap_or_default();
    let store = live.store().await;
    let events = events_of(&store, EventKind::RestreamHealth).await.join("\n");
    for (what, text) in [("the log", live.world.fanout.log()), ("/metrics", metrics), ("the dashboard", dashboard), ("the events", events)]
    {
        assert!(!text.contains(&old) && !text.contains(&new), "a token in {what}");
    }
}

/// Hands out the tokens the stand-in minted (a benchmark needs no store).
struct MintedTokens(std::collections::HashMap<app::model::AccountId, app::secrets::Secret>);

#[async_trait::async_trait]
impl server::restream::updates::AccessTokens for MintedTokens {
    async fn access_token(
        &self,
        account: &app::model::AccountId,
        _failed: Option<&app::secrets::Secret>,
    ) -> Result<app::secrets::Secret, server::restream::tokens::TokenError> {
        self.0.get(account).cloned().ok_or(server::restream::tokens::TokenError::NoTokens)
    }
}

/// What the stand-in process says of its sockets.
async fn stand_in_sockets(http: &reqwest::Client, base: &str) -> serde_json::Value {
    let response = http.get(format!("{base}/__standin/updates/sockets")).send().await;
    match response {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

/// The connection count and memory of Fanout's listeners for many accounts, against the
/// Restream stand-in in a process of its own (so this process holds only the client side).
/// `FANOUT_BENCH_ACCOUNTS` (500) accounts; `FANOUT_BENCH_CHAT=0` leaves the chat sockets out;
/// `FANOUT_BENCH_TLS=1` puts a TLS front (nginx) before the stand-in, so every socket is
/// `wss://` as Restream's are, Fanout's rustls trusting the front's CA alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (prints figures): build the stand-in first, `cargo build -p fanout-testworld --bin testworld`"]
async fn many_accounts_each_get_one_task_and_socket_and_what_it_costs() {
    use std::sync::Arc;
    use std::time::Duration;

    use fanout_testworld::usage::{cpu_seconds, resident_kib};
    use server::restream::updates::{Limits, Listeners, UpdatesSetup};
    use tokio::io::AsyncBufReadExt;

    let accounts: usize = std::env::var("FANOUT_BENCH_ACCOUNTS").ok().and_then(|n| n.parse().ok()).unwrap_or(500);
    let with_chat = std::env::var("FANOUT_BENCH_CHAT").map_or(true, |v| v != "0");
    let binary = fanout_testworld::target_dir().join("debug/testworld");
    let mut child = tokio::process::Command::new(&binary)
        .args(["--restream-only", &accounts.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {} (build it first): {e}", binary.display()));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("the stand-in's stdout"));
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
    let line = line.ok().and_then(Result::ok).flatten().unwrap_or_else(|| panic!("the stand-in printed nothing"));
    let world: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let text = |key: &str| world[key].as_str().unwrap_or_default().to_string();
    let (base, stand_in_pid) = (text("restream"), world["pid"].as_u64().unwrap_or(0) as u32);
    let users = world["users"].as_array().cloned().unwrap_or_default();
    let tokens: std::collections::HashMap<_, _> = users
        .iter()
        .map(|u| {
            let account = app::model::AccountId::from_stored(format!("bench-{}", u["id"]));
            (account, app::secrets::Secret::new(u["token"].as_str().unwrap_or_default()))
        })
        .collect();
    let dir = temp_dir();
    let front = match std::env::var("FANOUT_BENCH_TLS").is_ok_and(|v| v == "1") {
        true => {
            let behind = url::Url::parse(&text("updates")).ok().and_then(|u| u.socket_addrs(|| None).ok()).and_then(|a| a.first().copied());
            let behind = behind.unwrap_or_else(|| panic!("the stand-in's address"));
            Some(fanout_testworld::tls_front::TlsFront::start(dir.path(), behind).await.unwrap_or_else(|e| panic!("{e}")))
        }
        false => None,
    };
    let (feed_url, tls) = match &front {
        Some(front) => {
            use rustls::pki_types::{CertificateDer, pem::PemObject};
            let pem = front.ca_pem().unwrap_or_else(|e| panic!("{e}"));
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                roots.add(cert.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap_or_else(|e| panic!("{e}"))
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            (Box::new(|key: &str| front.front_url(&text(key))) as Box<dyn Fn(&str) -> String>, Arc::new(config))
        }
        None => (Box::new(|key: &str| text(key)) as Box<dyn Fn(&str) -> String>, server::restream::updates::socket::tls_config()),
    };
    let setup = UpdatesSetup {
        tokens: Arc::new(MintedTokens(tokens.clone())),
        streaming_url: url::Url::parse(&feed_url("updates")).unwrap_or_else(|e| panic!("{e}")),
        chat_url: with_chat.then(|| url::Url::parse(&feed_url("chat")).unwrap_or_else(|e| panic!("{e}"))),
        limits: Limits::default(),
        tls,
    };
    let expected = accounts * if with_chat { 2 } else { 1 };
    let http = reqwest::Client::new();
    let me = std::process::id();
    let stop = tokio_util::sync::CancellationToken::new();
    let mut listeners = Listeners::new(Some(Arc::new(setup)), stop.clone());

    let (rss_before, stand_in_before) = (resident_kib(me).unwrap_or(0), resident_kib(stand_in_pid).unwrap_or(0));
    let started = Instant::now();
    listeners.follow(tokens.keys().cloned());
    eventually(120, "every socket is open at the stand-in", || async {
        stand_in_sockets(&http, &base).await["open"].as_u64() == Some(expected as u64)
    })
    .await;
    let opened = started.elapsed();
    eventually(30, "every listener knows its socket is open", || async { listeners.counts() == (accounts, accounts) }).await;
    let (rss_open, stand_in_open) = (resident_kib(me).unwrap_or(0), resident_kib(stand_in_pid).unwrap_or(0));
    // A measurement window (pings go out every 20 s): what the open sockets cost at rest.
    let (cpu_before, window) = (cpu_seconds(me).unwrap_or(0.0), Duration::from_secs(30));
    tokio::time::sleep(window).await;
    let cpu = cpu_seconds(me).unwrap_or(0.0) - cpu_before;
    let rss_rest = resident_kib(me).unwrap_or(0);
    let sockets = stand_in_sockets(&http, &base).await;
    assert_eq!(sockets["open"].as_u64(), Some(expected as u64), "still one socket per account and feed: {sockets}");
    assert_eq!(sockets["refused"].as_u64(), Some(0));
    let delta = rss_rest.saturating_sub(rss_before);
    eprintln!(
        "{accounts} accounts, {} feed(s){}: {expected} sockets open in {:.2} s ({} at once); Fanout's side: RSS {rss_before} → {rss_open} KiB \
         open → {rss_rest} KiB after {} s at rest (+{delta} KiB, {:.1} KiB per account, {:.1} KiB per socket), CPU {:.2} % at rest; \
         the stand-in's process: {stand_in_before} → {stand_in_open} KiB",
        if with_chat { 2 } else { 1 },
        if front.is_some() { " over wss:// (TLS)" } else { " over ws://" },
        opened.as_secs_f64(),
        Limits::default().connects_at_once,
        window.as_secs(),
        delta as f64 / accounts as f64,
        delta as f64 / expected as f64,
        cpu / window.as_secs_f64() * 100.0,
    );
    listeners.stop_all();
    eventually(30, "every socket closes with the listeners", || async { stand_in_sockets(&http, &base).await["open"].as_u64() == Some(0) })
        .await;
    drop(child);
}
