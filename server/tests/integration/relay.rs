//! The relay with real media: ffmpeg publishes to it, nginx-rtmp sinks receive, ffprobe checks.

use std::time::{Duration, Instant};

use fanout_testworld::nginx::NginxSink;
use fanout_testworld::source::{LiveSource, probe_codecs};
use server::relay::{DestinationPolicy, DestinationState, Relay, RtmpTarget};

use super::*;

/// Waits until `check` holds, or fails the test after `seconds`.
async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("not within {seconds} s: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ingest_reaches_every_destination_as_h264_and_aac() {
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "a").await.unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::start(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let keys = ["one", "two", "three"];
    for key in keys {
        relay.add(key, RtmpTarget::parse(&sink.url(key)).unwrap_or_else(|e| panic!("{e}")));
    }
    let _source = LiveSource::rtmp(dir.path(), relay.ingest_url().expose()).await.unwrap_or_else(|e| panic!("{e}"));

    for key in keys {
        eventually(30, &format!("sink stream {key} receives"), || async { sink.bytes_in(key).await > 100_000 }).await;
    }
    for key in keys {
        let codecs = probe_codecs(&sink.url(key)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(codecs, ["aac", "h264"], "stream {key}");
    }
    let statuses = relay.statuses();
    assert!(statuses.values().all(|s| s.state == DestinationState::Streaming), "{statuses:?}");
    assert!(relay.input().borrow().publishing);
    relay.shutdown();
}
