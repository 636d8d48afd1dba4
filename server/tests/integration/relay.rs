//! The relay with real media: ffmpeg publishes to it, nginx-rtmp sinks receive, ffprobe checks.

use fanout_testworld::nginx::NginxSink;
use fanout_testworld::source::{LiveSource, probe_codecs};
use server::relay::{DestinationPolicy, DestinationState, Relay, RtmpTarget};

use super::*;


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

/// A manifest that never changes (the HLS source's own playlist).
struct FixedManifest(url::Url);

#[async_trait::async_trait]
impl server::ingest::ManifestSource for FixedManifest {
    async fn manifest(&self, _fresh: bool) -> Result<url::Url, String> {
        Ok(self.0.clone())
    }
    fn watch_url(&self) -> url::Url {
        self.0.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_hls_is_pulled_copy_remuxed_into_the_relay_and_reaches_a_sink() {
    use server::ingest::{Ingest, IngestConfig, IngestState};
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "a").await.unwrap_or_else(|e| panic!("{e}"));
    let source = LiveSource::hls(dir.path()).await.unwrap_or_else(|e| panic!("{e}"));
    let manifest = url::Url::parse(&source.hls_url().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::start(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    relay.add("only", RtmpTarget::parse(&sink.url("only")).unwrap_or_else(|e| panic!("{e}")));
    let stop = tokio_util::sync::CancellationToken::new();
    let ingest = Ingest::start(IngestConfig::default(), std::sync::Arc::new(FixedManifest(manifest)), relay.ingest_url(), &stop);

    eventually(40, "the sink receives the pulled live", || async { sink.bytes_in("only").await > 100_000 }).await;
    assert_eq!(probe_codecs(&sink.url("only")).await.unwrap_or_default(), ["aac", "h264"]);
    assert_eq!(ingest.status().borrow().state, IngestState::Running);
    ingest.stop();
    eventually(10, "the ingest stops", || async { ingest.status().borrow().state == IngestState::Stopped }).await;
    relay.shutdown();
}
