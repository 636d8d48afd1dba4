//! How a live's task follows its input: whether media arrives ([`InputWatch`] — a source
//! sending, not the slate; steadily, when it comes back after a loss), and when the ingest is
//! asked to start again on a fresh stream ([`Restarts`]).

use std::time::{Duration, Instant};

use crate::ingest::Ingest;

/// No media for this long means the input is lost, even with the ingest still connected (a
/// live HLS that stopped growing leaves ffmpeg connected and waiting).
pub(super) const INPUT_STALL: Duration = Duration::from_secs(5);

/// While the input is lost, how often the ingest starts again from a fresh stream.
pub(super) const INPUT_RESTART_EVERY: Duration = Duration::from_secs(30);

/// When the ingest was last asked to start again.
pub(super) struct Restarts(pub(super) Instant);

impl Restarts {
    pub(super) fn now(&mut self, ingest: Option<&Ingest>) {
        // A pushed live has no ingest to restart: its publisher comes back, or the grace ends.
        let Some(ingest) = ingest else { return };
        tracing::info!("the input stalled; restarting the ingest with a fresh stream");
        ingest.restart();
        self.0 = Instant::now();
    }

    pub(super) fn every(&mut self, every: Duration, ingest: Option<&Ingest>) {
        if self.0.elapsed() >= every {
            self.now(ingest);
        }
    }
}

/// After a loss, media must flow this long before the input counts as back: a restarted pull
/// replays the newest segment of a stale playlist once, which must not reset the grace.
const RESTORE_AFTER: Duration = Duration::from_secs(10);

/// Tells whether the input is alive: a publisher connected and media arriving (steadily, when
/// it is coming back after a loss).
pub(super) struct InputWatch {
    messages: u64,
    changed_at: Instant,
    flowing_since: Option<Instant>,
}

impl InputWatch {
    pub(super) fn new(now: Instant) -> Self {
        Self { messages: 0, changed_at: now, flowing_since: None }
    }

    pub(super) fn alive(&mut self, input: &crate::relay::InputStatus, now: Instant, returning: bool) -> bool {
        if input.messages != self.messages {
            self.messages = input.messages;
            self.changed_at = now;
            self.flowing_since.get_or_insert(now);
        }
        // The slate's media is not counted in `messages`: while it plays, the source counts as
        // lost once it has sent nothing for the stall time, as before there was a slate.
        let fresh = input.publishing && now.saturating_duration_since(self.changed_at) < INPUT_STALL;
        if !fresh {
            self.flowing_since = None;
            return false;
        }
        let needed = if returning { RESTORE_AFTER } else { Duration::ZERO };
        self.flowing_since.is_some_and(|since| now.saturating_duration_since(since) >= needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::InputStatus;

    fn input(messages: u64) -> InputStatus {
        InputStatus { publishing: true, messages, ..InputStatus::default() }
    }

    #[test]
    fn input_is_alive_while_media_arrives_and_must_flow_steadily_to_count_as_back() {
        let start = Instant::now();
        let mut watch = InputWatch::new(start);
        assert!(watch.alive(&input(1), start, false), "the first media counts at once");
        assert!(!watch.alive(&input(1), start + INPUT_STALL, false), "nothing new for the stall time: lost");
        // Back after a loss: a short burst (a replayed segment) is not enough.
        let back = start + INPUT_STALL + Duration::from_secs(1);
        assert!(!watch.alive(&input(2), back, true));
        assert!(!watch.alive(&input(3), back + Duration::from_secs(3), true));
        assert!(!watch.alive(&input(3), back + Duration::from_secs(3) + INPUT_STALL, true), "it stopped again");
        // Steady media for the restore time is.
        let steady = back + Duration::from_secs(20);
        for second in 0..=RESTORE_AFTER.as_secs() {
            let alive = watch.alive(&input(10 + second), steady + Duration::from_secs(second), true);
            assert_eq!(alive, second >= RESTORE_AFTER.as_secs(), "after {second} s of steady media");
        }
        assert!(!watch.alive(&InputStatus { publishing: false, ..input(99) }, steady + RESTORE_AFTER, false), "no publisher: lost");
    }
}
