//! What a soak measures while it runs — when each dropped destination is back, Fanout's memory
//! and open files, the idle connections the server closed, the login bursts' answers — and the
//! report at the end, with the invariants judged: no panic, every destination back within
//! [`RECOVERY_LIMIT`] of its sink's return, memory and open files not growing after the warm-up,
//! titles set at most once per live and channel.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use crate::nginx::SinkStream;
use crate::usage::resident_kib;

use super::SoakWorld;

/// The longest a destination may take to stream again after its sink returns.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(5);
/// What a destination must have received since its return to count as streaming again.
const BACK_BYTES: u64 = 10_000;
/// How often memory and open files are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The most memory or open files may drift after the warm-up (a fraction).
const FLAT_WITHIN: f64 = 0.10;
/// How many idle connections the schedule opens at a time.
const IDLE_BATCH: f64 = 20.0;

/// What is gathered while the soak runs.
#[derive(Debug)]
pub struct Measurements {
    started: Instant,
    pid: Option<u32>,
    keys: Vec<String>,
    streaming: HashMap<String, bool>,
    waiting: HashMap<String, Instant>,
    recoveries: Vec<Duration>,
    samples: Vec<(Duration, u64, usize, bool)>,
    last_sample: Option<Instant>,
    idle_opened: usize,
    idle_closed: usize,
    logins: BTreeMap<u16, usize>,
    notes: Vec<String>,
    problems: Vec<String>,
}

impl Measurements {
    /// Measurements of `world`, from now.
    pub fn new(world: &SoakWorld) -> Self {
        Self {
            started: Instant::now(),
            pid: world.fanout.pid(),
            keys: world.keys(),
            streaming: HashMap::new(),
            waiting: HashMap::new(),
            recoveries: Vec::new(),
            samples: Vec::new(),
            last_sample: None,
            idle_opened: 0,
            idle_closed: 0,
            logins: BTreeMap::new(),
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Reads the sink's streams (and, now and then, Fanout's memory and open files).
    pub fn sample(&mut self, _world: &SoakWorld, streams: &[SinkStream]) {
        let now = Instant::now();
        for key in &self.keys {
            let stream = streams.iter().find(|s| &s.name == key);
            let on = stream.is_some_and(|s| s.publishing && s.bytes_in >= BACK_BYTES);
            self.streaming.insert(key.clone(), on);
            if on && let Some(since) = self.waiting.remove(key) {
                self.recoveries.push(now.saturating_duration_since(since));
            }
        }
        if self.last_sample.is_none_or(|at| now.saturating_duration_since(at) >= SAMPLE_EVERY)
            && let Some(pid) = self.pid
        {
            let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(Iterator::count).unwrap_or(0);
            let streaming = self.all_streaming();
            self.samples.push((self.started.elapsed(), resident_kib(pid).unwrap_or(0), fds, streaming));
            self.last_sample = Some(now);
        }
    }

    /// Whether every destination is streaming now.
    pub fn all_streaming(&self) -> bool {
        !self.keys.is_empty() && self.keys.iter().all(|k| self.streaming.get(k).copied().unwrap_or(false))
    }

    /// Destination `key`'s sink takes it again from `at`.
    pub fn restored(&mut self, key: &str, at: Instant) {
        self.streaming.insert(key.to_string(), false);
        self.waiting.insert(key.to_string(), at);
    }

    /// Something worth a line in the report.
    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Something that went wrong with the world itself.
    pub fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// `count` idle connections were opened.
    pub fn idle_opened(&mut self, count: usize) {
        self.idle_opened += count;
    }

    /// `count` idle connections were found closed by the server.
    pub fn idle_closed(&mut self, count: usize) {
        self.idle_closed += count;
    }

    /// A login burst's answers.
    pub fn logins(&mut self, statuses: &[u16]) {
        for status in statuses {
            *self.logins.entry(*status).or_default() += 1;
        }
    }

    /// The report, from what was measured and what the world recorded.
    pub async fn finish(mut self, world: &SoakWorld, setup: Duration, duration: Duration) -> Report {
        for key in std::mem::take(&mut self.waiting).into_keys() {
            self.problems.push(format!("destination {} never came back", key.chars().take(12).collect::<String>()));
        }
        let log = world.fanout.log();
        let panics = log.matches("panicked").count();
        let events = count_events(world).await;
        // Titles: successful PATCHes per (title, channel).
        let mut titles: HashMap<(String, String), usize> = HashMap::new();
        for call in world.restream.calls().iter().filter(|c| c.method == "PATCH" && c.status < 300) {
            let title = call.body.get("title").and_then(|t| t.as_str()).unwrap_or_default().to_string();
            *titles.entry((title, call.path.clone())).or_default() += 1;
        }
        let lives_titled = titles.keys().map(|(title, _)| title.clone()).collect::<std::collections::BTreeSet<_>>().len();
        let titled_twice = titles.values().filter(|n| **n > 1).count();
        let mut recoveries = self.recoveries.clone();
        recoveries.sort();
        Report {
            setup,
            duration,
            destinations: self.keys.len(),
            panics,
            recoveries,
            samples: self.samples,
            events,
            lives: world.live,
            lives_titled,
            titles_set: titles.len(),
            titled_twice,
            idle_opened: self.idle_opened,
            idle_closed: self.idle_closed,
            logins: self.logins,
            notes: self.notes,
            problems: self.problems,
        }
    }
}

async fn count_events(world: &SoakWorld) -> i64 {
    let path = world.fanout.data_dir().join("fanout.db");
    let Ok(pool) = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", path.display())).await else { return -1 };
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events").fetch_one(&pool).await.unwrap_or(-1);
    pool.close().await;
    count
}

/// A soak's outcome.
#[derive(Debug, Clone)]
pub struct Report {
    /// How long the world took to stand up (volunteers signed up included).
    pub setup: Duration,
    /// How long the soak ran.
    pub duration: Duration,
    /// How many destinations.
    pub destinations: usize,
    /// Panics in Fanout's log.
    pub panics: usize,
    /// How long each dropped destination took to stream again after its sink returned, sorted.
    pub recoveries: Vec<Duration>,
    /// (time, resident KiB, open files, whether every destination streamed) of Fanout, every
    /// few seconds.
    pub samples: Vec<(Duration, u64, usize, bool)>,
    /// Events in the store at the end.
    pub events: i64,
    /// Lives the channel showed.
    pub lives: u32,
    /// Lives whose titles were set.
    pub lives_titled: usize,
    /// (live, channel) titles set.
    pub titles_set: usize,
    /// (live, channel) titles set more than once.
    pub titled_twice: usize,
    /// Idle connections opened to Fanout.
    pub idle_opened: usize,
    /// Of them, closed by Fanout.
    pub idle_closed: usize,
    /// The login bursts' answers, by status.
    pub logins: BTreeMap<u16, usize>,
    /// What happened, in order.
    pub notes: Vec<String>,
    /// What went wrong with the world.
    pub problems: Vec<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The median of a slice of numbers.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

impl Report {
    /// Medians of the first and the last third of the samples after the warm-up (the first five
    /// minutes, a full cycle of faults; half of a shorter run): (memory KiB, open files) each.
    /// Open files are compared between samples taken while every destination streamed: a live
    /// holds sockets (destinations, Restream's streaming updates) that an idle Fanout does not,
    /// so a live early against no live late would be no sign of a leak, nor the other way round.
    pub fn trend(&self) -> ((f64, f64), (f64, f64)) {
        let warm = if self.duration > Duration::from_secs(600) { Duration::from_secs(300) } else { self.duration / 2 };
        let after: Vec<_> = self.samples.iter().filter(|s| s.0 >= warm).collect();
        type Sample = (Duration, u64, usize, bool);
        fn thirds<'a>(part: &[&'a Sample]) -> (Vec<&'a Sample>, Vec<&'a Sample>) {
            let third = (part.len() / 3).max(1);
            (part[..third.min(part.len())].to_vec(), part[part.len().saturating_sub(third)..].to_vec())
        }
        let memory = |part: &[&(Duration, u64, usize, bool)]| median(part.iter().map(|s| s.1 as f64).collect());
        let files = |part: &[&(Duration, u64, usize, bool)]| median(part.iter().map(|s| s.2 as f64).collect());
        let (first, last) = thirds(&after);
        let live: Vec<_> = self.samples.iter().filter(|s| s.3).collect();
        let (live_first, live_last) = if live.len() >= 2 { thirds(&live) } else { (first.clone(), last.clone()) };
        ((memory(&first), memory(&last)), (files(&live_first), files(&live_last)))
    }

    /// What the soak must show, each with whether it holds.
    pub fn invariants(&self) -> Vec<(String, bool)> {
        let max = self.recoveries.last().copied().unwrap_or_default();
        let ((m0, m1), (f0, f1)) = self.trend();
        let drift = |a: f64, b: f64| if a > 0.0 { (b - a) / a } else { 0.0 };
        vec![
            (format!("no panic ({})", self.panics), self.panics == 0),
            (
                format!(
                    "every dropped destination back within {} s (max {:.1} s over {})",
                    RECOVERY_LIMIT.as_secs(),
                    max.as_secs_f64(),
                    self.recoveries.len()
                ),
                !self.recoveries.is_empty() && max <= RECOVERY_LIMIT,
            ),
            // A leak grows; a live ending (its ingest, its destinations' sockets) makes both fall,
            // and that is no leak.
            (format!("memory not growing after the warm-up ({:+.1} %)", drift(m0, m1) * 100.0), drift(m0, m1) <= FLAT_WITHIN),
            // The idle connections the schedule opens (20 at a time, closed by Fanout within
            // its header deadline) come and go: within one batch is flat.
            (
                format!("open files not growing after the warm-up ({f0:.0} → {f1:.0})"),
                drift(f0, f1) <= FLAT_WITHIN || f1 - f0 <= IDLE_BATCH + 4.0,
            ),
            (
                format!("titles set at most once per live and channel ({} twice)", self.titled_twice),
                self.titled_twice == 0 && self.titles_set > 0,
            ),
            (
                format!("idle connections closed by Fanout ({} of {})", self.idle_closed, self.idle_opened),
                self.idle_opened == 0 || self.idle_closed > 0,
            ),
            (format!("the world held up ({} problems)", self.problems.len()), self.problems.is_empty()),
        ]
    }

    /// Whether every invariant holds.
    pub fn passed(&self) -> bool {
        self.invariants().iter().all(|(_, ok)| *ok)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p50, p95, max) =
            (percentile(&self.recoveries, 0.5), percentile(&self.recoveries, 0.95), self.recoveries.last().copied().unwrap_or_default());
        let ((m0, m1), (f0, f1)) = self.trend();
        writeln!(
            f,
            "soak: {} destinations for {} s (world ready in {} s), {} lives",
            self.destinations,
            self.duration.as_secs(),
            self.setup.as_secs(),
            self.lives
        )?;
        writeln!(f, "  panics: {}", self.panics)?;
        writeln!(
            f,
            "  back after a sink drop: p50 {:.2} s, p95 {:.2} s, max {:.2} s ({} drops)",
            p50.as_secs_f64(),
            p95.as_secs_f64(),
            max.as_secs_f64(),
            self.recoveries.len()
        )?;
        writeln!(
            f,
            "  resident memory after warm-up: {:.1} MiB → {:.1} MiB; open files while streaming {f0:.0} → {f1:.0}",
            m0 / 1024.0,
            m1 / 1024.0
        )?;
        let timeline: Vec<String> =
            self.samples.iter().map(|(at, _, files, live)| format!("{}s:{files}{}", at.as_secs(), if *live { "" } else { "·" })).collect();
        writeln!(f, "  open files over time (· not every destination streaming): {}", timeline.join(" "))?;
        writeln!(f, "  events in the store: {}", self.events)?;
        writeln!(
            f,
            "  titles: {} (live, channel) set, {} lives titled, {} set twice",
            self.titles_set, self.lives_titled, self.titled_twice
        )?;
        writeln!(f, "  idle HTTP connections: {} opened, {} closed by Fanout", self.idle_opened, self.idle_closed)?;
        writeln!(f, "  login bursts: {:?}", self.logins)?;
        for note in &self.notes {
            writeln!(f, "  · {note}")?;
        }
        for problem in &self.problems {
            writeln!(f, "  ! {problem}")?;
        }
        for (what, ok) in self.invariants() {
            writeln!(f, "  [{}] {what}", if ok { "ok" } else { "FAILED" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A passing two-minute report whose open files go from `from` to `to` after the warm-up,
    /// every destination streaming throughout.
    fn with_files(from: usize, to: usize) -> Report {
        with_samples(|at| (if at < Duration::from_secs(90) { from } else { to }, true))
    }

    /// A passing two-minute report whose samples are `sample(at)`: (open files, all streaming).
    fn with_samples(sample: impl Fn(Duration) -> (usize, bool)) -> Report {
        let samples = (0..24u64)
            .map(|i| {
                let at = Duration::from_secs(i * 5);
                let (files, streaming) = sample(at);
                (at, 100_000, files, streaming)
            })
            .collect();
        Report {
            setup: Duration::from_secs(4),
            duration: Duration::from_secs(120),
            destinations: 20,
            panics: 0,
            recoveries: vec![Duration::from_secs(3)],
            samples,
            events: 10,
            lives: 2,
            lives_titled: 2,
            titles_set: 40,
            titled_twice: 0,
            idle_opened: 40,
            idle_closed: 40,
            logins: BTreeMap::new(),
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn open_files_may_fall_when_a_live_ends_but_not_grow() {
        assert!(with_files(85, 85).passed());
        assert!(with_files(85, 59).passed(), "a live ending closes its sockets: no leak");
        assert!(with_files(85, 100).passed(), "within one batch of idle connections");
        assert!(!with_files(85, 140).passed(), "growth past a batch is a leak");
    }

    #[test]
    fn open_files_are_compared_between_moments_a_live_streams() {
        // No live from 60 to 95 s (36 files), a live before and after (100): not a leak.
        let between_lives = with_samples(|at| if (60..95).contains(&at.as_secs()) { (36, false) } else { (100, true) });
        assert!(between_lives.passed(), "{:?}", between_lives.trend());
        // The second live holds far more than the first: a leak, whatever the idle moments say.
        let leaking = with_samples(|at| match at.as_secs() {
            60..95 => (36, false),
            0..60 => (100, true),
            _ => (190, true),
        });
        assert!(!leaking.passed(), "{:?}", leaking.trend());
    }
}
