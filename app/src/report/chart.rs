//! The geometry of a report's charts — pure: from the samples to the SVG's numbers (the
//! frame, the scales, the ticks and their labels, the line's points, the shaded periods and
//! the marks), so the page only writes them into elements. Nothing here draws.

use super::SamplePoint;

/// The chart's box, in SVG user units (the `viewBox`); the plot sits inside the margins.
pub const WIDTH: f64 = 720.0;
/// See [`WIDTH`].
pub const HEIGHT: f64 = 200.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// The plot's area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

/// A labelled tick: its position along its axis (x for time, y for values) and its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// A shaded stretch of time, from `x` over `width`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub x: f64,
    pub width: f64,
}

/// A marked moment: reconnects counted at `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub x: f64,
    pub count: u32,
    /// When, in words (e.g. `0:12:30`).
    pub when: String,
}

/// Everything a chart is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub plot: Plot,
    /// The line: `x,y` pairs, one per sample, as an SVG `points` attribute.
    pub points: String,
    /// How many points the line has.
    pub count: usize,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// Where the slate went out.
    pub slate: Vec<Band>,
    /// Where the live was in its grace.
    pub grace: Vec<Band>,
    /// Where destinations reconnected.
    pub reconnects: Vec<Mark>,
}

/// What a chart shows of each sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Destinations streaming (the scale reaches at least the most destinations the live had).
    Streaming,
    /// Egress, bits per second.
    Egress,
}

impl Measure {
    fn value(self, sample: &SamplePoint) -> f64 {
        match self {
            Self::Streaming => f64::from(sample.streaming),
            Self::Egress => sample.egress_bps as f64,
        }
    }

    fn label(self, value: f64) -> String {
        match self {
            Self::Streaming => format!("{value:.0}"),
            Self::Egress => crate::dashboard::human_bitrate(value.max(0.0) as u64),
        }
    }
}

/// The chart of `measure` over `samples` (oldest first).
pub fn chart(samples: &[SamplePoint], measure: Measure) -> Chart {
    let plot = Plot { left: LEFT, top: TOP, right: WIDTH - RIGHT, bottom: HEIGHT - BOTTOM };
    let span = samples.last().map_or(0, |s| s.secs).max(1) as f64;
    let x = |secs: u64| plot.left + (plot.right - plot.left) * (secs as f64 / span);
    let highest = samples
        .iter()
        .map(|s| match measure {
            Measure::Streaming => f64::from(s.destinations.max(s.streaming)),
            Measure::Egress => measure.value(s),
        })
        .fold(0.0, f64::max);
    let (top_value, step) = nice_scale(highest, measure == Measure::Streaming);
    let y = |value: f64| plot.bottom - (plot.bottom - plot.top) * (value / top_value);
    let points: Vec<String> = samples.iter().map(|s| format!("{:.1},{:.1}", x(s.secs), y(measure.value(s)))).collect();
    let y_ticks = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|value| *value <= top_value + step / 1000.0)
        .map(|value| Tick { at: y(value), label: measure.label(value) })
        .collect();
    let x_step = time_step(span as u64);
    let x_ticks =
        (0..).map(|i| i * x_step).take_while(|secs| *secs as f64 <= span).map(|secs| Tick { at: x(secs), label: clock(secs) }).collect();
    Chart {
        plot,
        count: points.len(),
        points: points.join(" "),
        x_ticks,
        y_ticks,
        slate: bands(samples, |s| s.slate, &x),
        grace: bands(samples, |s| s.grace, &x),
        reconnects: samples
            .iter()
            .filter(|s| s.reconnects > 0)
            .map(|s| Mark { x: x(s.secs), count: s.reconnects, when: clock(s.secs) })
            .collect(),
    }
}

/// The stretches where `on` holds, merged: a sample speaks for the time since the sample
/// before it (the first for its own moment).
fn bands(samples: &[SamplePoint], on: impl Fn(&SamplePoint) -> bool, x: &impl Fn(u64) -> f64) -> Vec<Band> {
    let mut stretches: Vec<(u64, u64)> = Vec::new();
    for (i, sample) in samples.iter().enumerate().filter(|(_, s)| on(s)) {
        let from = if i == 0 { sample.secs } else { samples[i - 1].secs };
        match stretches.last_mut() {
            Some((_, end)) if *end == from => *end = sample.secs,
            _ => stretches.push((from, sample.secs)),
        }
    }
    stretches
        .into_iter()
        .map(|(from, to)| {
            let (x0, x1) = (x(from), x(to));
            // At least a hair wide, so a moment shows.
            Band { x: x0, width: (x1 - x0).max(2.0) }
        })
        .collect()
}

/// The scale's top and its step: 1, 2 or 5 times a power of ten, about four steps to the
/// highest value; whole steps for counts. An empty chart still has a scale.
pub fn nice_scale(highest: f64, counts: bool) -> (f64, f64) {
    let highest = if highest.is_finite() && highest > 0.0 { highest } else { 1.0 };
    let rough = highest / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power);
    let step = if counts { step.max(1.0).round() } else { step };
    ((highest / step).ceil() * step, step)
}

/// A step between time ticks that gives at most six of them over `span` seconds.
fn time_step(span: u64) -> u64 {
    const STEPS: [u64; 14] = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    STEPS.into_iter().find(|step| span / step <= 6).unwrap_or(86400)
}

/// `secs` since the first sample as a clock: `12:30` within the first hour, `1:05:00` after.
pub fn clock(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h == 0 { format!("{m}:{s:02}") } else { format!("{h}:{m:02}:{s:02}") }
}

#[cfg(test)]
mod tests;
