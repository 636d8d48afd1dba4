//! Turns one run's ledger and sink records into the figures the benchmark reports: CPU per
//! minute of stream, peak memory, bytes delivered against sent, missing frames, and lag
//! percentiles per sink (arrival minus the source's send of the same frame).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::contender::Kind;
use super::ledger::Sent;
use super::sink::SinkRecord;

/// What one contender did at one size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figures {
    /// Which contender.
    pub contender: &'static str,
    /// Destinations.
    pub sinks: usize,
    /// The source's bitrate.
    pub kbps: u32,
    /// Of which read slowly.
    pub slow_sinks: usize,
    /// CPU seconds (user + system, the contender's processes) per minute of stream.
    pub cpu_s_per_min: f64,
    /// Peak resident memory of the contender's processes, KiB.
    pub peak_rss_kib: u64,
    /// Healthy sinks that received anything.
    pub receiving: usize,
    /// Healthy sinks that missed a frame or got less than 99.9 % of the bytes sent.
    pub short: usize,
    /// Frames missing across healthy sinks.
    pub missing_frames: u64,
    /// Lowest delivered/sent byte ratio over healthy sinks.
    pub delivered_min: f64,
    /// Median of the healthy sinks' median lag, ms.
    pub lag_p50_ms: f64,
    /// Highest p95 lag of any healthy sink, ms.
    pub lag_p95_ms: f64,
    /// Highest lag of any frame at a healthy sink, ms.
    pub lag_max_ms: f64,
}

impl Figures {
    /// CPU milliseconds per minute of stream, per destination.
    pub fn cpu_ms_per_dest(&self) -> f64 {
        self.cpu_s_per_min * 1000.0 / self.sinks.max(1) as f64
    }

    /// Whether every healthy sink got every frame and byte with p95 lag under a second.
    pub fn kept_up(&self) -> bool {
        self.short == 0 && self.receiving + self.slow_sinks >= self.sinks && self.lag_p95_ms < 1000.0
    }
}

/// The measured window and what the contender used in it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// From.
    pub start: Instant,
    /// To (the source's last send).
    pub end: Instant,
    /// CPU seconds used in it.
    pub cpu_seconds: f64,
    /// Peak RSS at its end, KiB.
    pub peak_rss_kib: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// One sink's figures.
#[derive(Debug, Clone, Default)]
pub struct SinkFigures {
    /// Frames sent in the window after the sink's first frame that it never got.
    pub missing_frames: u64,
    /// Bytes received / bytes sent from its first frame on.
    pub delivered: f64,
    /// Lag percentiles, ms: p50, p95, max.
    pub lag_ms: [f64; 3],
    /// Whether it received anything.
    pub receiving: bool,
}

/// Figures of one sink against the ledger.
pub fn sink_figures(record: &SinkRecord, sent: &[Sent], index: &HashMap<u64, usize>, window: &Window) -> SinkFigures {
    let Some(first) = record.video.iter().find_map(|(fp, _)| index.get(fp).copied()) else {
        return SinkFigures::default();
    };
    let mut lags: Vec<f64> = Vec::with_capacity(record.video.len());
    let mut received = HashSet::with_capacity(record.video.len());
    for (fp, arrived) in &record.video {
        let Some(&i) = index.get(fp) else { continue };
        received.insert(i);
        let at = sent[i].at;
        if at >= window.start && at <= window.end {
            lags.push(arrived.saturating_duration_since(at).as_secs_f64() * 1000.0);
        }
    }
    lags.sort_by(f64::total_cmp);
    let from = sent[first].at;
    let mut missing = 0;
    let mut sent_bytes = 0u64;
    for (i, s) in sent.iter().enumerate().skip(first) {
        if s.sequence_header {
            continue;
        }
        sent_bytes += s.bytes as u64;
        if s.video && s.at >= window.start.max(from) && s.at <= window.end && !received.contains(&i) {
            missing += 1;
        }
    }
    SinkFigures {
        missing_frames: missing,
        delivered: record.media_bytes as f64 / sent_bytes.max(1) as f64,
        lag_ms: [percentile(&lags, 0.5), percentile(&lags, 0.95), lags.last().copied().unwrap_or(f64::NAN)],
        receiving: true,
    }
}

/// The run's figures over the sinks `keys`; those in `slow` are left out of the healthy ones.
pub fn figures(
    kind: Kind,
    kbps: u32,
    keys: &[String],
    slow: &HashSet<String>,
    records: &HashMap<String, SinkRecord>,
    sent: &[Sent],
    window: &Window,
) -> Figures {
    let index: HashMap<u64, usize> =
        sent.iter().enumerate().filter(|(_, s)| s.video && !s.sequence_header).map(|(i, s)| (s.fingerprint, i)).collect();
    let healthy: Vec<SinkFigures> = keys
        .iter()
        .filter(|key| !slow.contains(*key))
        .map(|key| records.get(key).map(|record| sink_figures(record, sent, &index, window)).unwrap_or_default())
        .collect();
    let mut p50s: Vec<f64> = healthy.iter().map(|f| f.lag_ms[0]).filter(|v| v.is_finite()).collect();
    p50s.sort_by(f64::total_cmp);
    let max_of = |pick: fn(&SinkFigures) -> f64| healthy.iter().map(pick).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let seconds = window.end.saturating_duration_since(window.start).max(Duration::from_millis(1)).as_secs_f64();
    Figures {
        contender: kind.label(),
        sinks: keys.len(),
        kbps,
        slow_sinks: slow.len(),
        cpu_s_per_min: window.cpu_seconds / seconds * 60.0,
        peak_rss_kib: window.peak_rss_kib,
        receiving: healthy.iter().filter(|f| f.receiving).count(),
        short: healthy.iter().filter(|f| !f.receiving || f.missing_frames > 0 || f.delivered < 0.999).count(),
        missing_frames: healthy.iter().map(|f| f.missing_frames).sum(),
        delivered_min: healthy.iter().map(|f| f.delivered).fold(f64::INFINITY, f64::min),
        lag_p50_ms: percentile(&p50s, 0.5),
        lag_p95_ms: max_of(|f| f.lag_ms[1]),
        lag_max_ms: max_of(|f| f.lag_ms[2]),
    }
}

/// The table header for [`row`].
pub const TABLE_HEADER: &str = "| contender | N | kbit/s | CPU s/min | CPU ms/min/dest | peak RSS MiB | receiving | short | missing frames | delivered min | lag p50 ms | lag p95 ms (worst sink) | lag max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// One markdown table row.
pub fn row(f: &Figures) -> String {
    format!(
        "| {} | {}{} | {} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {:.4} | {:.1} | {:.1} | {:.1} |",
        f.contender,
        f.sinks,
        if f.slow_sinks > 0 { format!(" ({} slow)", f.slow_sinks) } else { String::new() },
        f.kbps,
        f.cpu_s_per_min,
        f.cpu_ms_per_dest(),
        f.peak_rss_kib as f64 / 1024.0,
        f.receiving,
        f.short,
        f.missing_frames,
        f.delivered_min,
        f.lag_p50_ms,
        f.lag_p95_ms,
        f.lag_max_ms,
    )
}
