//! The defects the hardening review found in the engine, each proved during a real live (real
//! ffmpeg, nginx-rtmp sinks, the stand-ins): secrets in children's command lines and
//! environments, children outliving Fanout, an idle connection wedging the relay, Stop starved
//! by a slow Restream, a stalled pull never restarted, a transient Restream error costing a
//! minute, and a normal end of a live logged as a fault.

use std::time::{Duration, Instant};

use app::model::{EventKind, LiveState};
use app::store::{Store, VideoId};
use fanout_testworld::nginx::NginxSink;
use fanout_testworld::source::LiveSource;
use fanout_testworld::usage::tree;
use fanout_testworld::youtube::ChannelShows;
use server::relay::{DestinationPolicy, Relay, RtmpTarget};

use super::controls::Admin;
use super::engine::{LiveWorld, TITLE, VIDEO, events_of};
use super::*;

/// What a process was started with: its command line and its environment.
fn argv_and_environ(pid: u32) -> String {
    let read = |what: &str| std::fs::read(format!("/proc/{pid}/{what}")).map(|b| text(&b).replace('\0', " ")).unwrap_or_default();
    format!("{}\n{}", read("cmdline"), read("environ"))
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_child_and_no_child_outlives_fanout() {
    let secret_key = "q1Ng1HvFQ2WkqD5O4nS0m3oJ8mS1wVQ+3c3fQb1w0sA=";
    let mut live = LiveWorld::start_with(30, &[("FANOUT_SECRET_KEY", secret_key)]).await;
    let (ana, _) = live.volunteer(9301, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    let pid = live.world.fanout.pid().unwrap_or_else(|| panic!("pid"));
    let children: Vec<u32> = tree(pid).into_iter().filter(|p| *p != pid).collect();
    assert!(!children.is_empty(), "the ingest runs as a child");
    for child in &children {
        let seen = argv_and_environ(*child);
        for secret in [secret_key, "fanout-it-secret-9f2c", ana.stream_key.as_str(), "rtmp://", "FANOUT_", "RESTREAM_"] {
            assert!(!seen.contains(secret), "child {child} was given {secret:?}:\n{seen}");
        }
    }

    // SIGTERM: Fanout stops its children (as process groups) before it exits.
    live.world.fanout.process().signal(nix::sys::signal::Signal::SIGTERM).unwrap_or_else(|e| panic!("{e}"));
    assert!(live.world.fanout.process().wait(Duration::from_secs(20)).await.is_some(), "fanout stopped");
    eventually(5, "every child is gone after a clean stop", || async { children.iter().all(|c| !alive(*c)) }).await;

    // SIGKILL: the kernel ends the children (their parent-death signal).
    live.world.start_fanout_again().await;
    let pid = live.world.fanout.pid().unwrap_or_else(|| panic!("pid"));
    eventually(60, "the restarted Fanout runs its ingest", || async { tree(pid).len() > 1 }).await;
    let children: Vec<u32> = tree(pid).into_iter().filter(|p| *p != pid).collect();
    live.world.fanout.process().signal(nix::sys::signal::Signal::SIGKILL).unwrap_or_else(|e| panic!("{e}"));
    eventually(10, "no child outlives a killed Fanout", || async { children.iter().all(|c| !alive(*c)) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_to_the_relay_does_not_hold_up_the_live() {
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "a").await.unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::on_loopback(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    for key in ["one", "two"] {
        relay.add(key, RtmpTarget::parse(&sink.url(key)).unwrap_or_else(|e| panic!("{e}")));
    }
    let url = relay.ingest_url().unwrap_or_else(|| panic!("listening")).expose().to_string();
    let address = url.trim_start_matches("rtmp://").split('/').next().unwrap_or_default().to_string();
    // A local process connects and says nothing (and another sends half a handshake).
    let _idle = tokio::net::TcpStream::connect(&address).await.unwrap_or_else(|e| panic!("{e}"));
    let mut half = tokio::net::TcpStream::connect(&address).await.unwrap_or_else(|e| panic!("{e}"));
    tokio::io::AsyncWriteExt::write_all(&mut half, &[3, 0, 0, 0]).await.unwrap_or_else(|e| panic!("{e}"));
    let _source = LiveSource::rtmp(dir.path(), &url).await.unwrap_or_else(|e| panic!("{e}"));
    for key in ["one", "two"] {
        eventually(30, &format!("sink {key} receives despite the idle connections"), || async { sink.bytes_in(key).await > 100_000 }).await;
    }
    // A second publisher is refused while the first holds the input; the first goes on.
    let before = sink.bytes_in("one").await;
    let second = LiveSource::rtmp(dir.path(), &url).await;
    eventually(20, "the first publisher keeps the input", || async { sink.bytes_in("one").await > before + 100_000 }).await;
    drop(second);
    assert!(relay.input().borrow().publishing);
    relay.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_takes_effect_at_once_while_restream_is_slow() {
    let live = LiveWorld::start(30).await;
    for n in 0..12 {
        live.volunteer(9400 + n, &format!("Slow{n}")).await;
    }
    // Every stream-key and title call now takes 3 s to answer: preparing 12 accounts takes
    // longer than anyone should wait for Stop.
    live.world.restream.slow_down("/v2/user/", Some(Duration::from_secs(3)));
    let admin = Admin::sign_in(&live).await;
    live.go_live();
    let store = live.store().await;
    eventually(30, "the live is being prepared", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state != LiveState::Detected)
    })
    .await;
    let asked = Instant::now();
    let stopped = admin.post("/admin/control/stop", &[]).await;
    let took = asked.elapsed();
    eprintln!("stop answered in {:.2} s while Restream answers in 3 s", took.as_secs_f64());
    assert!(stopped.is_ok_and(|text| text.contains("stopped")), "stopped");
    assert!(took < Duration::from_secs(2), "Stop waited {took:?} behind preparation");
    eventually(5, "the live is stored ended", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Ended)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_pull_restarts_on_a_fresh_stream_and_the_live_goes_on() {
    let mut live = LiveWorld::start(60).await;
    let (ana, _) = live.volunteer(9501, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    // The manifest Fanout pulls stops growing (ffmpeg stays connected, waiting) while YouTube
    // goes on under a new one, as after an encoder reconnect.
    let dir = temp_dir();
    let other = LiveSource::hls(dir.path()).await.unwrap_or_else(|e| panic!("{e}"));
    live.source.stop().await;
    let store = live.store().await;
    eventually(20, "the stall is noticed", || async { !events_of(&store, EventKind::InputLost).await.is_empty() }).await;
    let manifest = other.hls_url().unwrap_or_default();
    live.youtube.show(ChannelShows::Live { video_id: VIDEO.into(), title: TITLE.into(), manifest });
    let before = live.sink.bytes_in(&ana.stream_key).await;
    eventually(45, "the sink receives the fresh stream", || async { live.sink.bytes_in(&ana.stream_key).await > before + 200_000 }).await;
    eventually(30, "the input is back within the grace", || async { !events_of(&store, EventKind::InputRestored).await.is_empty() }).await;
    assert_eq!(events_of(&store, EventKind::LiveDetected).await.len(), 1, "the same live");
    assert!(store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Streaming));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_restream_error_costs_a_volunteer_seconds_not_a_minute() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(9601, "Ana").await;
    live.world.restream.fail_next("/v2/user/streamKey", 2);
    let started = live.go_live();
    live.wait_receiving(&[&ana.stream_key], 30).await;
    eprintln!("two 500s on the stream key → first media at the sink: {:.1} s", started.elapsed().as_secs_f64());
    let failed = live.world.restream.calls().iter().filter(|c| c.path == "/v2/user/streamKey" && c.status == 500).count();
    assert_eq!(failed, 2, "Restream failed twice and was asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_end_of_a_live_is_not_logged_as_a_fault() {
    let mut live = LiveWorld::start(12).await;
    let (ana, _) = live.volunteer(9701, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    let ending = live.world.fanout.log().len();
    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    live.source.stop().await;
    let store = live.store().await;
    eventually(60, "the live ends", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Ended)
    })
    .await;
    let log = live.world.fanout.log();
    let after: Vec<&str> = log[ending..].lines().filter(|l| l.contains("WARN")).collect();
    assert!(after.is_empty(), "an ended source is not a fault, yet the log warned:\n{}", after.join("\n"));
}
