//! The fan-out benchmark: Fanout's relay against nginx-rtmp `push`, the ffmpeg `tee` muxer and
//! the floor (the bare writes), each fed the same real-time source and sending to the same sinks, measured from outside
//! (`/proc` for the contender's CPU and memory, the sinks for bytes and per-frame lag). The
//! `fanout-bench` binary drives it and prints BENCHMARKS.md's tables; the integration tests run
//! it small to prove every sink gets every byte.

pub mod contender;
pub mod figures;
pub mod floor;
pub mod ledger;
pub mod replay;
pub mod sink;
pub mod source;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use contender::{Contender, Kind, Setup};
pub use figures::{Figures, TABLE_HEADER, row};
use ledger::Ledger;
use sink::SinkServer;
use source::Tag;

use crate::WorldError;
use crate::usage::{tree_cpu_seconds, tree_peak_kib};

/// One measurement: a contender, a number of destinations, a bitrate.
#[derive(Debug, Clone)]
pub struct Run {
    /// Which contender.
    pub kind: Kind,
    /// How many destinations.
    pub sinks: usize,
    /// The source's bitrate.
    pub kbps: u32,
    /// How long the source plays.
    pub seconds: u64,
    /// How many of the destinations read at 10 % of the bitrate.
    pub slow: usize,
}

/// An encoded source: its file and its tags.
type Encoded = (PathBuf, Arc<Vec<Tag>>);

/// The bench's fixed parts: the sinks, the binaries, the cache of encoded sources.
#[derive(Debug)]
pub struct Bench {
    sinks: SinkServer,
    fanout: PathBuf,
    floor: PathBuf,
    cache: PathBuf,
    work: tempfile::TempDir,
    sources: HashMap<(u32, u64), Encoded>,
    /// Where to write a `perf` profile of the next Fanout run (taken during its window).
    pub profile: Option<PathBuf>,
}

/// How long a source file lasts beyond the longest run (so a replay never runs out).
const SOURCE_MARGIN_SECONDS: u64 = 15;

impl Bench {
    /// Starts the sinks; `fanout` is the binary measured (`fanout-floor` is looked for beside
    /// it), `cache` keeps encoded sources.
    pub async fn new(fanout: PathBuf, cache: PathBuf) -> Result<Self, WorldError> {
        let work = tempfile::tempdir().map_err(|source| WorldError::Io { what: "make the bench's work directory".into(), source })?;
        let floor = fanout.with_file_name("fanout-floor");
        Ok(Self { sinks: SinkServer::start().await?, fanout, floor, cache, work, sources: HashMap::new(), profile: None })
    }

    /// The source at `kbps` lasting at least `seconds`: its file and its tags.
    async fn source(&mut self, kbps: u32, seconds: u64) -> Result<Encoded, WorldError> {
        // Sources are encoded in steps of a minute, so runs of similar length share one file.
        let length = (seconds + SOURCE_MARGIN_SECONDS).div_ceil(60) * 60;
        if let Some((path, tags)) = self.sources.get(&(kbps, length)) {
            return Ok((path.clone(), Arc::clone(tags)));
        }
        let path = source::ensure(&self.cache, kbps, length).await?;
        let bytes = std::fs::read(&path).map_err(|source| WorldError::Io { what: format!("read {}", path.display()), source })?;
        let tags = Arc::new(
            source::read_tags(&bytes)
                .map_err(|e| WorldError::Io { what: format!("read {}", path.display()), source: std::io::Error::other(e) })?,
        );
        self.sources.insert((kbps, length), (path.clone(), Arc::clone(&tags)));
        Ok((path, tags))
    }

    fn setup<'a>(&'a self, source: &'a std::path::Path, seconds: u64) -> Setup<'a> {
        Setup { fanout: &self.fanout, floor: &self.floor, source, seconds }
    }

    fn keys(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("s{i}")).collect()
    }

    async fn wait_until(&self, what: impl Fn(&SinkServer) -> bool, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if what(&self.sinks) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Runs one measurement.
    pub async fn run(&mut self, run: &Run) -> Result<Figures, WorldError> {
        let (source, tags) = self.source(run.kbps, run.seconds).await?;
        self.sinks.reset();
        let keys = Self::keys(run.sinks);
        let slow: HashSet<String> = keys.iter().rev().take(run.slow).cloned().collect();
        for key in &slow {
            self.sinks.make_slow(key, u64::from(run.kbps) * 1000 / 8 / 10);
        }
        let urls: Vec<String> = keys.iter().map(|k| self.sinks.url(k)).collect();
        let dir = self.work.path().join(format!("{:?}-{}-{}", run.kind, run.sinks, run.kbps));
        let contender = Contender::start(run.kind, &dir, &urls, self.setup(&source, run.seconds)).await?;
        let pid = contender
            .pid()
            .ok_or_else(|| WorldError::Io { what: "read the contender's pid".into(), source: std::io::Error::other("gone") })?;
        if run.kind.connects_first() {
            self.wait_until(|s| s.published() >= run.sinks, Duration::from_secs(60)).await;
        }
        let ledger = Arc::new(Ledger::default());
        let replay = if run.kind.plays_itself() {
            contender.go()?;
            let (tags, ledger, seconds) = (Arc::clone(&tags), Arc::clone(&ledger), run.seconds);
            tokio::spawn(async move {
                replay::pace(&tags, seconds, &ledger).await;
                Ok(())
            })
        } else {
            let publisher = replay::connect_publisher(&contender.ingest, Duration::from_secs(20)).await?;
            let (tags, ledger, seconds) = (Arc::clone(&tags), Arc::clone(&ledger), run.seconds);
            tokio::spawn(async move { replay::replay(publisher, &tags, seconds, &ledger).await })
        };
        // The window opens once every destination has a picture (or after 15 s regardless).
        self.wait_until(|s| s.with_keyframe() >= run.sinks, Duration::from_secs(15)).await;
        let (start, cpu_start) = (Instant::now(), tree_cpu_seconds(pid));
        let profiler = match (&self.profile, run.kind) {
            (Some(path), Kind::Fanout) => {
                let mut perf = tokio::process::Command::new("perf");
                perf.args(["record", "-F", "999", "-g", "-p", &pid.to_string(), "-o"])
                    .arg(path)
                    .args(["--", "sleep", &run.seconds.saturating_sub(20).max(5).to_string()])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                self.profile = None;
                perf.spawn().ok()
            }
            _ => None,
        };
        // Sampled while the source plays, not only at its end: a contender may exit as soon as
        // its input ends (ffmpeg does), taking its /proc figures with it.
        let (mut cpu_seconds, mut peak_rss_kib) = (0.0_f64, 0_u64);
        let mut sample = tokio::time::interval(Duration::from_millis(500));
        let mut replay = replay;
        let replayed = loop {
            tokio::select! {
                done = &mut replay => break done,
                _ = sample.tick() => {
                    cpu_seconds = cpu_seconds.max(tree_cpu_seconds(pid) - cpu_start);
                    peak_rss_kib = peak_rss_kib.max(tree_peak_kib(pid));
                }
            }
        };
        let replayed = replayed.map_err(|e| WorldError::Io { what: "replay".into(), source: std::io::Error::other(e) })?;
        let window = figures::Window {
            start,
            end: Instant::now(),
            cpu_seconds: cpu_seconds.max(tree_cpu_seconds(pid) - cpu_start),
            peak_rss_kib: peak_rss_kib.max(tree_peak_kib(pid)),
        };
        if let Some(mut perf) = profiler {
            let _ = perf.wait().await;
        }
        // What is in flight arrives.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let records = self.sinks.records();
        let log = contender.stop().await;
        if records.len() < run.sinks || std::env::var_os("FANOUT_BENCH_LOGS").is_some() {
            eprintln!("{}: only {} of {} sinks were published to; its log ends:\n{log}", run.kind.label(), records.len(), run.sinks);
        }
        if let Err(error) = replayed {
            return Err(WorldError::Io {
                what: format!("replay to {} (its log: {log})", run.kind.label()),
                source: std::io::Error::other(error.to_string()),
            });
        }
        Ok(figures::figures(run.kind, run.kbps, &keys, &slow, &records, &ledger.sent(), &window))
    }

    /// Destinations joining one by one during a live (Fanout): for each, the time from its
    /// join to its first keyframe at the sink, in ms, sorted.
    pub async fn joins(&mut self, count: usize, kbps: u32, every: Duration) -> Result<Vec<f64>, WorldError> {
        let seconds = (every.as_secs_f64() * count as f64) as u64 + 15;
        let (source, tags) = self.source(kbps, seconds).await?;
        self.sinks.reset();
        let dir = self.work.path().join(format!("joins-{count}"));
        let contender = Contender::start(Kind::Fanout, &dir, &[], self.setup(&source, seconds)).await?;
        let publisher = replay::connect_publisher(&contender.ingest, Duration::from_secs(20)).await?;
        let ledger = Arc::new(Ledger::default());
        let replay = tokio::spawn(async move { replay::replay(publisher, &tags, seconds, &ledger).await });
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut joined = HashMap::new();
        for key in Self::keys(count) {
            contender.join(&self.sinks.url(&key))?;
            joined.insert(key, Instant::now());
            tokio::time::sleep(every).await;
        }
        self.wait_until(|s| s.with_keyframe() >= count, Duration::from_secs(15)).await;
        let records = self.sinks.records();
        let _ = contender.stop().await;
        replay.abort();
        let mut times: Vec<f64> = joined
            .iter()
            .map(|(key, at)| {
                records
                    .get(key)
                    .and_then(|r| r.first_keyframe_at)
                    .map_or(f64::INFINITY, |k| k.saturating_duration_since(*at).as_secs_f64() * 1000.0)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        Ok(times)
    }
}
