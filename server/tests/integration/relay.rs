//! The relay with real media: ffmpeg publishes to it, nginx-rtmp sinks receive, ffprobe checks.

use fanout_testworld::nginx::NginxSink;
use fanout_testworld::source::{LiveSource, probe_codecs};
use server::relay::{DestinationPolicy, DestinationState, Relay, RtmpTarget};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ingest_reaches_every_destination_as_h264_and_aac() {
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "a").await.unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::on_loopback(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let keys = ["one", "two", "three"];
    for key in keys {
        relay.add(key, RtmpTarget::parse(&sink.url(key)).unwrap_or_else(|e| panic!("{e}")));
    }
    let _source = LiveSource::rtmp(dir.path(), relay.ingest_url().unwrap_or_else(|| panic!("listening")).expose())
        .await
        .unwrap_or_else(|e| panic!("{e}"));

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

/// An HLS live, one sink and a relay sending to its stream `only`: what every pull test starts from.
struct PullWorld {
    _dir: tempfile::TempDir,
    sink: NginxSink,
    _source: LiveSource,
    playlist: url::Url,
    relay: Relay,
}

impl PullWorld {
    async fn start() -> Self {
        let dir = temp_dir();
        let sink = NginxSink::start(dir.path(), "a").await.unwrap_or_else(|e| panic!("{e}"));
        let source = LiveSource::hls(dir.path()).await.unwrap_or_else(|e| panic!("{e}"));
        let playlist = url::Url::parse(&source.hls_url().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        let relay = Relay::on_loopback(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
        relay.add("only", RtmpTarget::parse(&sink.url("only")).unwrap_or_else(|e| panic!("{e}")));
        Self { _dir: dir, sink, _source: source, playlist, relay }
    }
}

/// A manifest that never changes (the HLS source's own playlist); piped, yt-dlp reads it.
struct FixedManifest(url::Url);

#[async_trait::async_trait]
impl server::ingest::ManifestSource for FixedManifest {
    async fn manifest(&self, _fresh: bool) -> Result<url::Url, server::ingest::ResolveError> {
        Ok(self.0.clone())
    }
    fn feeder(&self) -> Result<server::ingest::Feeder, server::ingest::ResolveError> {
        let yt_dlp = server::youtube::ytdlp::YtDlp { program: fanout_testworld::user_tool("yt-dlp"), ..Default::default() };
        let mut command = server::child::command(&yt_dlp.program, &[]);
        command.args(yt_dlp.pipe_args(self.0.as_str(), None));
        Ok(server::ingest::Feeder { command, keep: None })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_hls_is_pulled_copy_remuxed_into_the_relay_and_reaches_a_sink() {
    use server::ingest::{Ingest, IngestConfig, IngestState};
    let PullWorld { sink, playlist, relay, .. } = &PullWorld::start().await;
    let stop = tokio_util::sync::CancellationToken::new();
    let ingest = Ingest::start(IngestConfig::default(), std::sync::Arc::new(FixedManifest(playlist.clone())), relay.feed(), &stop);

    eventually(40, "the sink receives the pulled live", || async { sink.bytes_in("only").await > 100_000 }).await;
    assert_eq!(probe_codecs(&sink.url("only")).await.unwrap_or_default(), ["aac", "h264"]);
    assert_eq!(ingest.status().borrow().state, IngestState::Running);
    ingest.stop();
    eventually(10, "the ingest stops", || async { ingest.status().borrow().state == IngestState::Stopped }).await;
    relay.shutdown();
}

/// The resident memory of this process (the relay runs in it), from /proc.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_that_never_read_cost_the_others_nothing_and_memory_stays_bounded() {
    use fanout_testworld::stall::{Stall, StallingSink};
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "healthy").await.unwrap_or_else(|e| panic!("{e}"));
    let silent = StallingSink::start(Stall::Silent).await.unwrap_or_else(|e| panic!("{e}"));
    let stuck = StallingSink::start(Stall::AfterPublish).await.unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::on_loopback(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    relay.add("healthy", RtmpTarget::parse(&sink.url("healthy")).unwrap_or_else(|e| panic!("{e}")));
    relay.add("silent", RtmpTarget::parse(&format!("{}/key", silent.ingest_base())).unwrap_or_else(|e| panic!("{e}")));
    relay.add("stuck", RtmpTarget::parse(&format!("{}/key", stuck.ingest_base())).unwrap_or_else(|e| panic!("{e}")));
    let _source = LiveSource::rtmp(dir.path(), relay.ingest_url().unwrap_or_else(|| panic!("listening")).expose())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually(30, "the healthy sink receives", || async { sink.bytes_in("healthy").await > 100_000 }).await;

    let start_memory = resident_kib();
    let mut last = sink.bytes_in("healthy").await;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        let now = sink.bytes_in("healthy").await;
        assert!(now > last, "the healthy destination never waits ({last} → {now})");
        last = now;
    }
    let grown = resident_kib().saturating_sub(start_memory);
    eprintln!("memory growth over 20 s with two stuck destinations: {grown} KiB");
    assert!(grown < 32 * 1024, "memory stays bounded (grew {grown} KiB)");

    let statuses = relay.statuses();
    assert_eq!(statuses.get("healthy").map(|s| s.state), Some(DestinationState::Streaming));
    assert_ne!(statuses.get("silent").map(|s| s.state), Some(DestinationState::Streaming), "the silent one never streams");
    let stuck_status = statuses.get("stuck").cloned().unwrap_or_default();
    assert!(
        stuck_status.reconnects > 0 && stuck_status.last_error.as_deref().is_some_and(|e| e.contains("stopped reading")),
        "and was dropped as stalled: {stuck_status:?}"
    );
    relay.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_yt_dlp_pull_mode_feeds_ffmpeg_through_a_pipe() {
    use server::ingest::{Ingest, IngestConfig, PullMode};
    let PullWorld { sink, playlist, relay, .. } = &PullWorld::start().await;
    let stop = tokio_util::sync::CancellationToken::new();
    let config = IngestConfig { mode: PullMode::YtDlpPipe, ..IngestConfig::default() };
    // yt-dlp's generic extractor reads the HLS playlist given as the "watch" URL.
    let ingest = Ingest::start(config, std::sync::Arc::new(FixedManifest(playlist.clone())), relay.feed(), &stop);
    eventually(60, "the sink receives what yt-dlp pulled", || async { sink.bytes_in("only").await > 100_000 }).await;
    assert_eq!(probe_codecs(&sink.url("only")).await.unwrap_or_default(), ["aac", "h264"]);
    ingest.stop();
    relay.shutdown();
}

/// A manifest that has expired (404) until asked for a fresh one.
struct ExpiringManifest {
    expired: url::Url,
    fresh: url::Url,
    fresh_asked: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl server::ingest::ManifestSource for ExpiringManifest {
    async fn manifest(&self, fresh: bool) -> Result<url::Url, server::ingest::ResolveError> {
        if fresh {
            self.fresh_asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.fresh.clone())
        } else {
            Ok(self.expired.clone())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_manifest_is_resolved_again_and_the_pull_goes_on() {
    use server::ingest::{Ingest, IngestConfig};
    let PullWorld { sink, playlist, relay, .. } = &PullWorld::start().await;
    let expired = playlist.join("expired/live.m3u8").unwrap_or_else(|e| panic!("{e}"));
    let manifest = std::sync::Arc::new(ExpiringManifest { expired, fresh: playlist.clone(), fresh_asked: Default::default() });
    let stop = tokio_util::sync::CancellationToken::new();
    let ingest = Ingest::start(IngestConfig::default(), manifest.clone(), relay.feed(), &stop);
    eventually(60, "the sink receives after the manifest was renewed", || async { sink.bytes_in("only").await > 100_000 }).await;
    assert!(manifest.fresh_asked.load(std::sync::atomic::Ordering::SeqCst) >= 1, "a fresh manifest was asked for");
    let status = ingest.status().borrow().clone();
    assert!(status.restarts >= 1 && status.last_error.as_deref().is_some_and(|e| e.contains("404")), "{status:?}");
    ingest.stop();
    relay.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_destination_skips_to_keyframes_while_the_others_keep_their_pace() {
    use fanout_testworld::stall::{Stall, StallingSink};
    let dir = temp_dir();
    let sink = NginxSink::start(dir.path(), "healthy").await.unwrap_or_else(|e| panic!("{e}"));
    // About a sixth of the stream's rate.
    let slow = StallingSink::start(Stall::Slow(20_000)).await.unwrap_or_else(|e| panic!("{e}"));
    let relay = Relay::on_loopback(DestinationPolicy::default()).await.unwrap_or_else(|e| panic!("{e}"));
    relay.add("healthy", RtmpTarget::parse(&sink.url("healthy")).unwrap_or_else(|e| panic!("{e}")));
    relay.add("slow", RtmpTarget::parse(&format!("{}/key", slow.ingest_base())).unwrap_or_else(|e| panic!("{e}")));
    let _source = LiveSource::rtmp(dir.path(), relay.ingest_url().unwrap_or_else(|| panic!("listening")).expose())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually(30, "the healthy sink receives", || async { sink.bytes_in("healthy").await > 100_000 }).await;
    let mut last = sink.bytes_in("healthy").await;
    for _ in 0..15 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = sink.bytes_in("healthy").await;
        assert!(now > last, "the healthy destination keeps its pace ({last} → {now})");
        last = now;
    }
    let slow_status = relay.statuses().get("slow").cloned().unwrap_or_default();
    assert!(slow_status.skips > 0, "the slow one skipped to keyframes: {slow_status:?}");
    assert_eq!(slow_status.reconnects, 0, "a slow reader is not dropped while it moves: {slow_status:?}");
    relay.shutdown();
}
