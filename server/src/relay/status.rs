//! What the relay says about itself: per destination (state, bytes, bitrate, reconnects, last
//! error) and about its input, published on `watch` channels and as Prometheus metrics.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Where a destination is: the shared vocabulary (the relay uses its connection states —
/// connecting, streaming, retrying, stopped).
pub use app::model::DestinationState;

/// A destination's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationStatus {
    /// Its state.
    pub state: DestinationState,
    /// Bytes written since it was added.
    pub bytes_sent: u64,
    /// Bits per second written over the last few seconds.
    pub bitrate_bps: u64,
    /// How many times it reconnected.
    pub reconnects: u32,
    /// Keyframe skips because it fell behind.
    pub skips: u32,
    /// The last error, in words (never holding the stream key).
    pub last_error: Option<String>,
}

impl DestinationStatus {
    /// A destination just added.
    pub fn new() -> Self {
        Self { state: DestinationState::Connecting, bytes_sent: 0, bitrate_bps: 0, reconnects: 0, skips: 0, last_error: None }
    }
}

impl Default for DestinationStatus {
    fn default() -> Self {
        Self::new()
    }
}

/// The relay's input (the ingest publishing to it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InputStatus {
    /// Whether a publisher is connected.
    pub publishing: bool,
    /// Bits per second received over the last few seconds.
    pub bitrate_bps: u64,
    /// Bytes received since the relay started.
    pub bytes_received: u64,
    /// Media messages received from a source (the slate's are not counted).
    pub messages: u64,
    /// Whether the slate holds the input (no source sends).
    pub slate: bool,
    /// Whether the source feeding the input now has sent audio.
    pub source_audio: bool,
    /// The source's keyframe interval, as last measured.
    pub keyframe_interval: Option<Duration>,
}

/// A moving bitrate over a fixed window, updated as bytes pass.
#[derive(Debug, Clone)]
pub struct BitrateMeter {
    window: Duration,
    started: Instant,
    bytes: u64,
    last_bps: u64,
}

impl BitrateMeter {
    /// A meter averaging over `window`.
    pub fn new(window: Duration) -> Self {
        Self { window, started: Instant::now(), bytes: 0, last_bps: 0 }
    }

    /// Counts `bytes`; returns the new rate when a window closed.
    pub fn add(&mut self, bytes: usize, now: Instant) -> Option<u64> {
        self.bytes += bytes as u64;
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed < self.window {
            return None;
        }
        self.last_bps = (self.bytes as f64 * 8.0 / elapsed.as_secs_f64()) as u64;
        self.bytes = 0;
        self.started = now;
        Some(self.last_bps)
    }

    /// The rate of the last closed window.
    pub fn bps(&self) -> u64 {
        self.last_bps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_reports_bits_per_second_per_window() {
        let start = Instant::now();
        let mut meter = BitrateMeter { window: Duration::from_secs(2), started: start, bytes: 0, last_bps: 0 };
        assert_eq!(meter.add(125_000, start + Duration::from_secs(1)), None);
        assert_eq!(meter.add(125_000, start + Duration::from_secs(2)), Some(1_000_000));
        assert_eq!(meter.bps(), 1_000_000);
    }
}
