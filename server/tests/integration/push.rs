//! The push ingest end to end: the broadcaster's encoder (ffmpeg, real) publishes to Fanout's
//! push listener with the key the admin made in Settings, and the live reaches every nginx-rtmp
//! sink (ffprobe at the sink); a wrong key and a second publisher are refused alike; RTMPS with
//! the operator's certificate; and with both sources on, the pushed stream takes over when the
//! pull stops, and the pull when the push stops, the sinks' byte counters never stalling long.
//! Figures (publish → first frame at every sink, the failover gaps) are printed.

use std::time::{Duration, Instant};

use app::model::{EventKind, LiveState};
use app::store::{Store, VideoId};
use fanout_testworld::source::{LiveSource, probe_codecs};

use super::controls::Admin;
use super::engine::{LiveWorld, TITLE, VIDEO, events_of};
use super::*;

/// A world whose Fanout accepts a pushed live (`source`: `push` or `both`) on a free loopback
/// port; returns it and that port.
async fn push_world(source: &str, grace_secs: u64, extra: &[(&str, &str)]) -> (LiveWorld, u16) {
    let port = fanout_testworld::ports::free_port().unwrap_or_else(|e| panic!("{e}"));
    let listen = format!("127.0.0.1:{port}");
    let mut env = vec![("FANOUT_SOURCE", source), ("FANOUT_PUSH_LISTEN", listen.as_str())];
    env.extend_from_slice(extra);
    (LiveWorld::start_with(grace_secs, &env).await, port)
}

/// Makes a push key in Settings as the admin would; returns the key the dashboard showed once.
async fn make_push_key(admin: &Admin) -> String {
    let said = admin.post("/admin/push-key", &[]).await.unwrap_or_else(|e| panic!("a push key: {e}"));
    said.split("stream key ").nth(1).and_then(|rest| rest.split(['.', ' ']).next()).unwrap_or_default().to_string()
}

/// Publishes a few seconds of test pattern to `url` and returns whether ffmpeg succeeded.
async fn publish_briefly(url: &str) -> bool {
    let mut command = tokio::process::Command::new("ffmpeg");
    command
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "4"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-f", "flv", url])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(30), command.status()).await;
    status.unwrap_or_else(|_| panic!("ffmpeg did not give up on {url}")).is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_live_reaches_every_sink_and_a_wrong_key_or_a_second_publisher_is_refused() {
    let (live, port) = push_world("push", 8, &[]).await;
    let (ana, _) = live.volunteer(9951, "Ana").await;
    let (bo, _) = live.volunteer(9952, "Bo").await;
    let admin = Admin::sign_in(&live).await;
    let cookie = live.admin_cookie().await;
    let store = live.store().await;

    // YouTube shows the live, but in push mode that alone starts nothing.
    live.go_live();
    eventually(30, "YouTube's live is seen", || async { live.dashboard(&cookie).await.on_air.is_some() }).await;
    let looks = live.youtube.requests();
    eventually(30, "three more looks at the channel", || async { live.youtube.requests() >= looks + 3 }).await;
    assert!(store.live(&VideoId(VIDEO.into())).await.unwrap_or_default().is_none(), "no live without a publisher");

    // Before a key is made, and with a wrong one, nothing is accepted — the same way.
    let base = format!("rtmp://127.0.0.1:{port}/ingest");
    assert!(!publish_briefly(&format!("{base}/no-key-made-yet-0123456789")).await, "no key yet: refused");
    let key = make_push_key(&admin).await;
    assert!(key.len() >= 43, "a long random key: {key:?}");
    assert!(!publish_briefly(&format!("{base}/{}x", key)).await, "a wrong key is refused");

    let dir = temp_dir();
    let started = Instant::now();
    let encoder = LiveSource::rtmp(dir.path(), &format!("{base}/{key}")).await.unwrap_or_else(|e| panic!("{e}"));
    let mut first_frame = Vec::new();
    for who in [&ana, &bo] {
        eventually(60, &format!("{} receives the pushed live", who.username), || async { live.sink.bytes_in(&who.stream_key).await > 0 })
            .await;
        first_frame.push(started.elapsed());
    }
    live.wait_receiving(&[&ana.stream_key, &bo.stream_key], 60).await;
    eprintln!(
        "push ingest: publish → first media at every sink in {:.2} s ({} sinks)",
        first_frame.iter().max().copied().unwrap_or_default().as_secs_f64(),
        first_frame.len()
    );
    for who in [&ana, &bo] {
        assert_eq!(probe_codecs(&live.sink.url(&who.stream_key)).await.unwrap_or_default(), ["aac", "h264"], "{}", who.username);
    }
    let stored = store.live(&VideoId(VIDEO.into())).await.unwrap_or_default().unwrap_or_else(|| panic!("YouTube's live was joined"));
    assert_eq!(stored.title, TITLE, "its title is YouTube's");
    let status = live.dashboard(&cookie).await;
    assert!(status.input_pushed && status.ingest_state.is_none(), "fed by the push alone, no pull");

    // A second publisher with the right key is refused; the first goes on.
    let before = live.sink.bytes_in(&ana.stream_key).await;
    assert!(!publish_briefly(&format!("{base}/{key}")).await, "one publisher at a time");
    eventually(20, "the first publisher goes on", || async { live.sink.bytes_in(&ana.stream_key).await > before + 50_000 }).await;
    let log = live.world.fanout.log();
    assert!(!log.contains(&key), "the push key is never logged");

    // The encoder stops: after the grace, the live ends.
    drop(encoder);
    eventually(60, "the live ends after the grace", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Ended)
    })
    .await;
    assert!(!events_of(&store, EventKind::AdminAction).await.iter().any(|e| e.contains(&key)), "nor in an event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_live_over_rtmps_with_the_operators_certificate_and_its_own_title_when_youtube_shows_none() {
    let dir = temp_dir();
    let (cert, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(&key_file)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(made.status.success(), "{}", text(&made.stderr));
    let (cert_path, key_path) = (cert.display().to_string(), key_file.display().to_string());
    let (live, port) = push_world(
        "push",
        8,
        &[
            ("FANOUT_PUSH_TLS_CERT", cert_path.as_str()),
            ("FANOUT_PUSH_TLS_KEY", key_path.as_str()),
            ("FANOUT_PUSH_TITLE", "Evening satsang"),
        ],
    )
    .await;
    let (ana, _) = live.volunteer(9961, "Ana").await;
    let admin = Admin::sign_in(&live).await;
    let key = make_push_key(&admin).await;
    assert!(!publish_briefly(&format!("rtmp://127.0.0.1:{port}/ingest/{key}")).await, "plain RTMP on the RTMPS port is refused");
    let encoder = LiveSource::rtmp(dir.path(), &format!("rtmps://127.0.0.1:{port}/ingest/{key}")).await.unwrap_or_else(|e| panic!("{e}"));
    live.wait_receiving(&[&ana.stream_key], 90).await;
    assert_eq!(probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default(), ["aac", "h264"]);
    let store = live.store().await;
    let lives = store.recent_lives(5).await.unwrap_or_default();
    let pushed = lives.first().unwrap_or_else(|| panic!("a live"));
    assert_eq!(pushed.title, "Evening satsang", "YouTube showed nothing: the configured title");
    assert!(live.patches().await > 0, "the channels were titled");
    drop(encoder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_sources_each_takes_over_when_the_other_stops_and_the_sink_never_stalls_long() {
    let (mut live, port) = push_world("both", 30, &[]).await;
    let (ana, _) = live.volunteer(9971, "Ana").await;
    let admin = Admin::sign_in(&live).await;
    let cookie = live.admin_cookie().await;
    let key = make_push_key(&admin).await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;
    assert!(!live.dashboard(&cookie).await.input_pushed, "the pull came first and feeds the live");

    let dir = temp_dir();
    let encoder = LiveSource::rtmp(dir.path(), &format!("rtmp://127.0.0.1:{port}/ingest/{key}")).await.unwrap_or_else(|e| panic!("{e}"));
    eventually(30, "the push stands by", || async { live.world.fanout.log().contains("a broadcaster is pushing the live") }).await;
    assert!(!live.dashboard(&cookie).await.input_pushed, "a backup while the pull delivers");

    // The pull's source stops: the push takes over.
    live.source.stop().await;
    let to_push = live
        .longest_stall(&ana.stream_key, async {
            eventually(30, "the pushed stream takes over", || async { live.dashboard(&cookie).await.input_pushed }).await;
            let at = live.sink.bytes_in(&ana.stream_key).await;
            eventually(20, "media flows from the push", || async { live.sink.bytes_in(&ana.stream_key).await > at + 100_000 }).await;
        })
        .await;

    // The pull's source comes back and its pull stands by; the push stops: the pull takes over.
    live.source.start().await.unwrap_or_else(|e| panic!("{e}"));
    eventually(60, "the pull runs again, standing by", || async {
        live.dashboard(&cookie).await.ingest_state == Some(app::model::IngestState::Running)
    })
    .await;
    let to_pull = live
        .longest_stall(&ana.stream_key, async {
            drop(encoder);
            eventually(60, "the pull feeds the live again", || async { !live.dashboard(&cookie).await.input_pushed }).await;
            let at = live.sink.bytes_in(&ana.stream_key).await;
            eventually(30, "media flows from the pull", || async { live.sink.bytes_in(&ana.stream_key).await > at + 100_000 }).await;
        })
        .await;
    eprintln!(
        "failover at the sink: pull → push {:.2} s, push → pull {:.2} s (longest time its byte counter stood still)",
        to_push.as_secs_f64(),
        to_pull.as_secs_f64()
    );
    let store = live.store().await;
    assert!(to_push < Duration::from_secs(30) && to_pull < Duration::from_secs(30), "within the grace");
    let live_record = store.live(&VideoId(VIDEO.into())).await.unwrap_or_default().unwrap_or_else(|| panic!("the live"));
    assert_ne!(live_record.state, LiveState::Ended, "one live throughout");
    assert_eq!(live.sink.publishes(&ana.stream_key), 1, "nginx saw one publish through both failovers");
    assert_eq!(probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default(), ["aac", "h264"], "still playable");
}
