//! Fanout's Nimble backend (`fanout-nimble`) against the management-API stand-in: the hash,
//! rule sync (from empty, churn, foreign rules, adoption after a restart), typed failures and
//! events, and stats mapped to per-destination status.

use std::time::Duration;

use fanout_nimble::{
    BackendConfig, BackendEvent, Destination, NimbleBackend, NimbleClient, NimbleError, RepublishState, Secret, Source, auth,
    remove_all_owned, status, sync,
};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::*;

const TOKEN: &str = "Zq8-v1NfT3xK0pLr9aWm";

/// Computed by hand: `printf '123456/s3cr3t-token' | openssl md5 -binary | base64`.
const WORKED_EXAMPLE: (&str, &str, &str) = ("123456", "s3cr3t-token", "hOHkhtFf3DIeBn0WSneFAA==");

async fn nimble() -> (NimbleStandIn, NimbleClient) {
    let stand_in = NimbleStandIn::start(TOKEN).await.unwrap_or_else(|e| panic!("start: {e}"));
    let client = NimbleClient::new(&stand_in.url(), Secret::new(TOKEN)).unwrap_or_else(|e| panic!("{e}"));
    (stand_in, client)
}

fn source() -> Source {
    Source { app: "fanout".into(), stream: "live".into() }
}

fn destination(id: &str) -> Destination {
    Destination {
        id: id.into(),
        host: "live.restream.example".into(),
        port: 1935,
        app: "live".into(),
        stream_key: Secret::new(format!("re_key_{id}")),
        tls: false,
    }
}

fn foreign_rule(stream: &str) -> serde_json::Value {
    json!({
        "src_app": "fanout", "src_stream": "live", "dest_addr": "a.rtmp.youtube.com", "dest_port": 1935, "dest_app": "live2",
        "dest_stream": stream, "dest_app_params": "", "dest_stream_params": "", "auth_schema": "NONE", "dest_login": "",
        "dest_password": "", "keep_src_stream_params": false, "ssl": false,
    })
}

fn count(stand_in: &NimbleStandIn, method: &str, path_prefix: &str) -> usize {
    stand_in.calls().iter().filter(|c| c.method == method && c.path.starts_with(path_prefix) && (200..300).contains(&c.status)).count()
}

fn marked(stand_in: &NimbleStandIn) -> Vec<String> {
    let mut ids: Vec<String> =
        stand_in.rules().iter().filter_map(|r| r["dest_stream_params"].as_str().and_then(fanout_nimble::ownership::marked_id)).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_hash_matches_the_worked_example_and_the_stand_in_accepts_it() {
    let (salt, token, expected) = WORKED_EXAMPLE;
    assert_eq!(auth::hash(salt, &Secret::new(token)), expected);
    let stand_in = NimbleStandIn::start(token).await.unwrap_or_else(|e| panic!("{e}"));
    let http = reqwest::Client::new();
    let url = format!("{}/manage/server_status", stand_in.url());
    let right = http.get(&url).query(&[("salt", salt), ("hash", expected)]).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(right.status(), reqwest::StatusCode::OK);
    let wrong = http.get(&url).query(&[("salt", "123457"), ("hash", expected)]).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrong.status(), reqwest::StatusCode::FORBIDDEN, "a hash for another salt is refused");
    let none = http.get(&url).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(none.status(), reqwest::StatusCode::FORBIDDEN, "no hash is refused");
}

#[tokio::test]
async fn sync_from_empty_creates_one_marked_rule_per_destination() {
    let (stand_in, client) = nimble().await;
    let report = sync(&client, &source(), &[destination("acc-1"), destination("acc-2")]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.created, ["acc-1", "acc-2"]);
    assert!(report.is_clean());
    assert_eq!(marked(&stand_in), ["acc-1", "acc-2"]);
    let rule = &stand_in.rules()[0];
    assert_eq!((rule["src_app"].as_str(), rule["src_stream"].as_str()), (Some("fanout"), Some("live")));
    assert_eq!((rule["dest_addr"].as_str(), rule["dest_port"].as_u64()), (Some("live.restream.example"), Some(1935)));
    assert_eq!((rule["dest_app"].as_str(), rule["dest_stream"].as_str()), (Some("live"), Some("re_key_acc-1")));
    assert_eq!(rule["ssl"], json!(false));
    assert!(stand_in.calls().iter().all(|c| c.authorized), "every call carried a right hash");
}

#[tokio::test]
async fn one_destination_leaving_and_one_joining_is_exactly_one_delete_and_one_create() {
    let (stand_in, client) = nimble().await;
    sync(&client, &source(), &[destination("a"), destination("b")]).await.unwrap_or_else(|e| panic!("{e}"));
    stand_in.clear_calls();
    let report = sync(&client, &source(), &[destination("a"), destination("c")]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count(&stand_in, "POST", "/manage/rtmp/republish"), 1);
    assert_eq!(count(&stand_in, "DELETE", "/manage/rtmp/republish/"), 1);
    assert_eq!(report.created, ["c"]);
    assert_eq!(report.deleted.iter().map(|r| r.destination.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(marked(&stand_in), ["a", "c"]);
}

#[tokio::test]
async fn foreign_rules_are_left_untouched_by_sync_and_clean_up() {
    let (stand_in, client) = nimble().await;
    let foreign_same_source = stand_in.add_rule(foreign_rule("someone-elses-key"));
    let mut other = foreign_rule("another-key");
    other["dest_stream_params"] = json!("token=abc");
    let foreign_with_params = stand_in.add_rule(other);
    sync(&client, &source(), &[destination("a")]).await.unwrap_or_else(|e| panic!("{e}"));
    sync(&client, &source(), &[]).await.unwrap_or_else(|e| panic!("{e}"));
    sync(&client, &source(), &[destination("b")]).await.unwrap_or_else(|e| panic!("{e}"));
    let removed = remove_all_owned(&client).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(removed.deleted.len(), 1);
    let ids: Vec<String> = stand_in.rules().iter().filter_map(|r| r["id"].as_str().map(String::from)).collect();
    assert_eq!(ids, [foreign_same_source.clone(), foreign_with_params.clone()], "only the foreign rules remain");
    let deleted: Vec<String> = stand_in.calls().iter().filter(|c| c.method == "DELETE").map(|c| c.path.clone()).collect();
    assert!(deleted.iter().all(|p| !p.ends_with(&foreign_same_source) && !p.ends_with(&foreign_with_params)), "{deleted:?}");
}

#[tokio::test]
async fn a_restarted_fanout_adopts_its_rules_without_duplicating_them() {
    let (stand_in, client) = nimble().await;
    let desired = [destination("a"), destination("b")];
    sync(&client, &source(), &desired).await.unwrap_or_else(|e| panic!("{e}"));
    drop(client);
    stand_in.clear_calls();
    // A new process: a fresh client, nothing remembered but what Nimble lists.
    let fresh = NimbleClient::new(&stand_in.url(), Secret::new(TOKEN)).unwrap_or_else(|e| panic!("{e}"));
    let report = sync(&fresh, &source(), &desired).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.kept, ["a", "b"], "adopted");
    assert!(report.created.is_empty() && report.deleted.is_empty());
    assert_eq!(count(&stand_in, "POST", "/manage/rtmp/republish"), 0, "no duplicate");
    assert_eq!(marked(&stand_in), ["a", "b"]);
}

#[tokio::test]
async fn a_changed_key_replaces_the_rule_and_a_nimble_restart_is_repaired() {
    let (stand_in, client) = nimble().await;
    sync(&client, &source(), &[destination("a")]).await.unwrap_or_else(|e| panic!("{e}"));
    let mut rekeyed = destination("a");
    rekeyed.stream_key = Secret::new("re_key_new");
    let report = sync(&client, &source(), std::slice::from_ref(&rekeyed)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((report.created.len(), report.deleted.len()), (1, 1));
    assert_eq!(stand_in.rules().len(), 1);
    assert_eq!(stand_in.rules()[0]["dest_stream"], json!("re_key_new"));
    stand_in.restart();
    let report = sync(&client, &source(), std::slice::from_ref(&rekeyed)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.created, ["a"], "Nimble forgot API-made rules; the next sync restores them");
}

#[tokio::test]
async fn a_wrong_token_is_a_typed_error_without_the_token() {
    let (stand_in, _) = nimble().await;
    let wrong = NimbleClient::new(&stand_in.url(), Secret::new("Wrong-token-0123456789")).unwrap_or_else(|e| panic!("{e}"));
    let error = sync(&wrong, &source(), &[destination("a")]).await.err();
    assert!(matches!(error, Some(NimbleError::WrongToken { status: 403, .. })), "{error:?}");
    let words = error.map(|e| format!("{e} {e:?}")).unwrap_or_default();
    assert!(words.contains("management_token") && !words.contains("Wrong-token-0123456789") && !words.contains(TOKEN), "{words}");
    assert!(stand_in.rules().is_empty());
    assert!(stand_in.calls().iter().all(|c| !c.authorized && c.status == 403));
}

#[tokio::test]
async fn an_unreachable_api_is_a_typed_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    drop(listener);
    let client = NimbleClient::new(&format!("http://{address}"), Secret::new(TOKEN)).unwrap_or_else(|e| panic!("{e}"));
    let error = client.server_status().await.err();
    assert!(error.as_ref().is_some_and(NimbleError::is_unreachable), "{error:?}");
    let words = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(words.contains("management_listen_interfaces") && !words.contains("hash="), "{words}");
}

#[tokio::test]
async fn stats_become_per_destination_status() {
    let (stand_in, client) = nimble().await;
    sync(&client, &source(), &[destination("a"), destination("b"), destination("c")]).await.unwrap_or_else(|e| panic!("{e}"));
    let foreign = stand_in.add_rule(foreign_rule("k"));
    let id_of = |who: &str| {
        stand_in
            .rules()
            .iter()
            .find(|r| r["dest_stream_params"].as_str() == Some(&format!("fanout={who}")))
            .and_then(|r| r["id"].as_str().map(String::from))
            .unwrap_or_default()
    };
    let steer =
        |state: &str, bandwidth, bytes_sent, retry_count| RepublishSteer { state: state.into(), bandwidth, bytes_sent, retry_count };
    stand_in.set_stats(&id_of("a"), steer("connected", 2_500_000, 50_000_000, 0));
    stand_in.set_stats(&id_of("b"), steer("reconnecting", 0, 1_000, 4));
    stand_in.set_stats(&foreign, steer("connected", 1_000_000, 1, 0));
    let rules = client.list_rules().await.unwrap_or_else(|e| panic!("{e}"));
    let stats = client.republish_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let by_destination = status::statuses(&rules, &stats);
    assert_eq!(by_destination.keys().collect::<Vec<_>>(), ["a", "b", "c"], "foreign rules are not Fanout's destinations");
    let a = &by_destination["a"];
    assert_eq!((a.state, a.bitrate_bps, a.bytes_sent, a.reconnects), (RepublishState::Streaming, 2_500_000, 50_000_000, 0));
    let b = &by_destination["b"];
    assert_eq!((b.state, b.reconnects), (RepublishState::Retrying, 4));
    assert!(b.last_error.is_some());
    assert_eq!(by_destination["c"].state, RepublishState::Connecting);
    let server = client.server_status().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.out_rate_bps, Some(3_500_000));
}

async fn next_event(events: &mut tokio::sync::broadcast::Receiver<BackendEvent>, wanted: impl Fn(&BackendEvent) -> bool) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => panic!("the backend stopped"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no such event within 10 s"))
}

fn fast(source: Source) -> BackendConfig {
    BackendConfig {
        sync_every: Duration::from_millis(200),
        stats_every: Duration::from_millis(100),
        cleanup_timeout: Duration::from_secs(5),
        ..BackendConfig::new(source)
    }
}

#[tokio::test]
async fn the_backend_follows_the_desired_set_reports_status_and_cleans_up() {
    let (stand_in, client) = nimble().await;
    let foreign = stand_in.add_rule(foreign_rule("k"));
    let (desired_tx, desired) = watch::channel(vec![destination("a")]);
    let cancel = CancellationToken::new();
    let backend = NimbleBackend::spawn(client, fast(source()), desired, cancel.clone());
    let mut events = backend.subscribe();
    let mut status = backend.status();
    tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.contains_key("a"))).await.ok();
    assert_eq!(marked(&stand_in), ["a"]);
    desired_tx.send_replace(vec![destination("a"), destination("b")]);
    next_event(&mut events, |e| matches!(e, BackendEvent::Synced { created, .. } if created == &["b"])).await;
    let b_id =
        stand_in.rules().iter().find(|r| r["dest_stream_params"] == json!("fanout=b")).and_then(|r| r["id"].as_str().map(String::from));
    stand_in.set_stats(
        &b_id.unwrap_or_default(),
        RepublishSteer { state: "connected".into(), bandwidth: 3_000_000, bytes_sent: 10, retry_count: 0 },
    );
    let streaming = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.get("b").is_some_and(|b| b.state == RepublishState::Streaming)),
    )
    .await
    .map(|s| s.map(|s| s.clone()));
    assert!(matches!(streaming, Ok(Ok(_))), "b is reported streaming");
    cancel.cancel();
    let cleaned = next_event(&mut events, |e| matches!(e, BackendEvent::Cleaned { .. } | BackendEvent::CleanupFailed { .. })).await;
    assert_eq!(cleaned, BackendEvent::Cleaned { removed: 2 });
    backend.stopped().await;
    let left: Vec<String> = stand_in.rules().iter().filter_map(|r| r["id"].as_str().map(String::from)).collect();
    assert_eq!(left, [foreign], "only the foreign rule is left");
}

#[tokio::test]
async fn the_backend_reports_a_refused_token_once_as_an_event_and_recovers() {
    let (stand_in, _) = nimble().await;
    stand_in.set_token("Another-token-0123456789");
    let client = NimbleClient::new(&stand_in.url(), Secret::new(TOKEN)).unwrap_or_else(|e| panic!("{e}"));
    let (_desired_tx, desired) = watch::channel(vec![destination("a")]);
    let cancel = CancellationToken::new();
    let backend = NimbleBackend::spawn(client, fast(source()), desired, cancel.clone());
    let mut events = backend.subscribe();
    let event = next_event(&mut events, |e| matches!(e, BackendEvent::AuthFailed { .. })).await;
    let BackendEvent::AuthFailed { message } = event else { unreachable!("filtered above") };
    assert!(message.contains("management_token") && !message.contains(TOKEN), "{message}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut repeats = 0;
    while let Ok(event) = events.try_recv() {
        repeats += usize::from(matches!(event, BackendEvent::AuthFailed { .. }));
    }
    assert_eq!(repeats, 0, "the same refusal is reported once");
    stand_in.set_token(TOKEN);
    next_event(&mut events, |e| matches!(e, BackendEvent::Recovered)).await;
    assert_eq!(marked(&stand_in), ["a"]);
    cancel.cancel();
    backend.stopped().await;
}
