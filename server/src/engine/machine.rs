//! The life of one live, as pure state: detected → preparing → streaming ⇄ grace → ended.
//! The live's task feeds it what happens (prepared, input up or down, time passing) and does what it
//! answers; nothing here touches the network, the store or the clock.

use std::time::{Duration, Instant};

use app::model::LiveState;

/// Where a live is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Seen live; nothing done yet.
    Detected,
    /// Titles being set, stream keys fetched.
    Preparing,
    /// Pulled and fanned out, input flowing.
    Streaming,
    /// Input lost (or not come yet) since `since`; ends after the grace period.
    Grace {
        /// When the input was lost.
        since: Instant,
        /// Whether the input had ever flowed (else it is the first wait).
        had_input: bool,
    },
    /// Over.
    Ended,
}

impl Phase {
    /// The state the store keeps.
    pub fn stored(self) -> LiveState {
        match self {
            Self::Detected => LiveState::Detected,
            Self::Preparing => LiveState::Preparing,
            Self::Streaming => LiveState::Streaming,
            Self::Grace { .. } => LiveState::Grace,
            Self::Ended => LiveState::Ended,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    /// Preparation began.
    PreparationStarted,
    /// Destinations are prepared; the ingest and relay run.
    Prepared,
    /// The relay's input is (or is not) receiving media.
    Input(bool),
    /// Time passed.
    Tick,
    /// Stopped from outside (an admin, or YouTube says it ended and the input is gone).
    Stop,
}

/// What the live's task should do, besides recording the new phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// The input was lost: say so.
    InputLost,
    /// The input came back: say so.
    InputRestored,
    /// End the live: close every destination, stop the ingest.
    End,
}

/// The live's state machine.
#[derive(Debug, Clone)]
pub struct Machine {
    phase: Phase,
    grace: Duration,
}

impl Machine {
    /// A live just detected, ending after `grace` without input.
    pub fn new(grace: Duration) -> Self {
        Self { phase: Phase::Detected, grace }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Applies `what` at `now`; returns whether the phase changed and what to do.
    pub fn apply(&mut self, what: Happening, now: Instant) -> (bool, Effect) {
        let before = self.phase;
        let effect = match (self.phase, what) {
            (Phase::Ended, _) => Effect::None,
            (_, Happening::Stop) => {
                self.phase = Phase::Ended;
                Effect::End
            }
            (Phase::Detected, Happening::PreparationStarted) => {
                self.phase = Phase::Preparing;
                Effect::None
            }
            (Phase::Detected | Phase::Preparing, Happening::Prepared) => {
                // Streaming starts by waiting for the input, within the grace period.
                self.phase = Phase::Grace { since: now, had_input: false };
                Effect::None
            }
            (Phase::Grace { had_input, .. }, Happening::Input(true)) => {
                self.phase = Phase::Streaming;
                if had_input { Effect::InputRestored } else { Effect::None }
            }
            (Phase::Streaming, Happening::Input(false)) => {
                self.phase = Phase::Grace { since: now, had_input: true };
                Effect::InputLost
            }
            (Phase::Grace { since, .. }, Happening::Tick) if now.saturating_duration_since(since) >= self.grace => {
                self.phase = Phase::Ended;
                Effect::End
            }
            _ => Effect::None,
        };
        (self.phase != before, effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(60);

    fn streaming(start: Instant) -> Machine {
        let mut machine = Machine::new(GRACE);
        machine.apply(Happening::PreparationStarted, start);
        machine.apply(Happening::Prepared, start);
        machine.apply(Happening::Input(true), start);
        machine
    }

    #[test]
    fn a_live_goes_from_detected_through_preparing_to_streaming() {
        let start = Instant::now();
        let mut machine = Machine::new(GRACE);
        assert_eq!(machine.phase().stored(), LiveState::Detected);
        assert_eq!(machine.apply(Happening::PreparationStarted, start), (true, Effect::None));
        assert_eq!(machine.phase(), Phase::Preparing);
        machine.apply(Happening::Prepared, start);
        assert_eq!(machine.phase().stored(), LiveState::Grace, "waiting for the input");
        assert_eq!(machine.apply(Happening::Input(true), start), (true, Effect::None), "first input is no 'restored'");
        assert_eq!(machine.phase(), Phase::Streaming);
    }

    #[test]
    fn input_back_within_the_grace_keeps_the_same_live() {
        let start = Instant::now();
        let mut machine = streaming(start);
        assert_eq!(machine.apply(Happening::Input(false), start), (true, Effect::InputLost));
        assert_eq!(machine.apply(Happening::Tick, start + GRACE - Duration::from_secs(1)), (false, Effect::None));
        assert_eq!(machine.apply(Happening::Input(true), start + Duration::from_secs(59)), (true, Effect::InputRestored));
        assert_eq!(machine.phase(), Phase::Streaming);
    }

    #[test]
    fn input_gone_past_the_grace_ends_the_live() {
        let start = Instant::now();
        let mut machine = streaming(start);
        machine.apply(Happening::Input(false), start);
        assert_eq!(machine.apply(Happening::Tick, start + GRACE), (true, Effect::End));
        assert_eq!(machine.phase(), Phase::Ended);
        assert_eq!(machine.apply(Happening::Input(true), start + GRACE), (false, Effect::None), "ended is final");
    }

    #[test]
    fn input_that_never_comes_ends_the_live_after_the_grace_too() {
        let start = Instant::now();
        let mut machine = Machine::new(GRACE);
        machine.apply(Happening::Prepared, start);
        assert_eq!(machine.apply(Happening::Tick, start + GRACE), (true, Effect::End));
    }

    #[test]
    fn stop_ends_from_any_phase() {
        let start = Instant::now();
        let mut machine = streaming(start);
        assert_eq!(machine.apply(Happening::Stop, start), (true, Effect::End));
        assert_eq!(machine.apply(Happening::Stop, start), (false, Effect::None));
    }
}
