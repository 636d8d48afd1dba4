//! What ffmpeg says it has written, from its `-progress` report: blocks of `key=value` lines
//! (`total_size=…`, …) each closed by `progress=continue` (or `progress=end`), about twice a
//! second while media flows. Turned into the same [`InputStatus`] the built-in relay reports
//! of what it receives, for when Fanout's relay is not in the path (Nimble receives the live).

use std::time::{Duration, Instant};

use crate::relay::InputStatus;
use crate::relay::status::BitrateMeter;

/// The window the output bitrate is averaged over.
const BITRATE_WINDOW: Duration = Duration::from_secs(2);

/// Reads ffmpeg's progress lines, run after run, into an [`InputStatus`].
#[derive(Debug)]
pub struct ProgressReader {
    /// Bytes written by earlier runs of ffmpeg.
    earlier: u64,
    /// Bytes written by this run, as of its last block.
    this_run: u64,
    /// `total_size` of the block being read.
    pending: Option<u64>,
    meter: BitrateMeter,
}

impl Default for ProgressReader {
    fn default() -> Self {
        Self { earlier: 0, this_run: 0, pending: None, meter: BitrateMeter::new(BITRATE_WINDOW) }
    }
}

impl ProgressReader {
    /// Reads one line; updates `status` at the end of a block. Returns whether it changed.
    ///
    /// `publishing` is ffmpeg running with its output open; `bytes_received` what it has written
    /// in all; `messages` counts the blocks in which output grew — it stands still when ffmpeg
    /// waits for input, which is how the session tells a stalled input.
    pub fn line(&mut self, line: &str, now: Instant, status: &mut InputStatus) -> bool {
        let Some((key, value)) = line.trim().split_once('=') else { return false };
        match key.trim() {
            "total_size" => {
                self.pending = value.trim().parse().ok();
                false
            }
            "progress" => {
                let before = status.clone();
                if let Some(total) = self.pending.take().filter(|total| *total > self.this_run) {
                    let grown = total - self.this_run;
                    self.this_run = total;
                    status.messages += 1;
                    if let Some(bps) = self.meter.add(usize::try_from(grown).unwrap_or(usize::MAX), now) {
                        status.bitrate_bps = bps;
                    }
                }
                status.bytes_received = self.earlier + self.this_run;
                status.publishing = value.trim() == "continue";
                *status != before
            }
            _ => false,
        }
    }

    /// ffmpeg exited: the next run counts from zero again, and nothing is published meanwhile.
    pub fn run_ended(&mut self, status: &mut InputStatus) {
        self.earlier += self.this_run;
        self.this_run = 0;
        self.pending = None;
        self.meter = BitrateMeter::new(BITRATE_WINDOW);
        status.publishing = false;
        status.bitrate_bps = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(reader: &mut ProgressReader, total: &str, progress: &str, at: Instant, status: &mut InputStatus) -> bool {
        let mut changed = false;
        for line in ["frame=31", "bitrate= 852.9kbits/s", &format!("total_size={total}"), "out_time_us=868000"] {
            changed |= reader.line(line, at, status);
        }
        changed | reader.line(&format!("progress={progress}"), at, status)
    }

    #[test]
    fn growing_output_counts_and_a_stalled_one_does_not() {
        let (mut reader, mut status, start) = (ProgressReader::default(), InputStatus::default(), Instant::now());
        assert!(block(&mut reader, "269", "continue", start, &mut status));
        assert_eq!((status.publishing, status.messages, status.bytes_received), (true, 1, 269));
        block(&mut reader, "500269", "continue", start + Duration::from_secs(2), &mut status);
        assert_eq!(status.messages, 2);
        assert!((1_950_000..2_050_000).contains(&status.bitrate_bps), "about 500 000 bytes in 2 s: {}", status.bitrate_bps);
        assert!(!block(&mut reader, "500269", "continue", start + Duration::from_secs(3), &mut status), "no growth, no change");
        assert_eq!(status.messages, 2);
        block(&mut reader, "N/A", "continue", start + Duration::from_secs(4), &mut status);
        assert_eq!(status.messages, 2, "an unknown size is not growth");
    }

    #[test]
    fn runs_add_up_and_an_ended_run_is_not_publishing() {
        let (mut reader, mut status, now) = (ProgressReader::default(), InputStatus::default(), Instant::now());
        block(&mut reader, "1000", "continue", now, &mut status);
        reader.run_ended(&mut status);
        assert!(!status.publishing);
        block(&mut reader, "300", "continue", now, &mut status);
        assert_eq!((status.bytes_received, status.messages), (1300, 2));
        block(&mut reader, "400", "end", now, &mut status);
        assert!(!status.publishing);
        assert!(!reader.line("garbage", now, &mut status));
    }
}
