//! What in the engine's status is worth telling the admin — pure: [`Follower::observe`] takes
//! each `DashboardStatus` the engine publishes (and the time) and returns the notices it calls
//! for: the live reaching its destinations, its end with its tally, a destination that has not
//! streamed for [`FAILING_AFTER`], YouTube's bot wall appearing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::dashboard::DashboardStatus;
use app::model::{DestinationId, DestinationState, LiveState, SourceProblem};

use super::message::{Notice, Tally};

/// How long a destination must fail before the admin hears of it.
pub const FAILING_AFTER: Duration = Duration::from_secs(5 * 60);
/// How long after streaming starts "live started" is sent even while destinations still connect.
pub const SETTLE: Duration = Duration::from_secs(30);
/// The least time between two bot-wall notices (it can come and go with every look).
pub const REFUSED_QUIET: Duration = Duration::from_secs(60 * 60);

/// One destination's failing spell.
#[derive(Debug, Clone, Copy)]
struct Spell {
    since: Instant,
    told: bool,
}

/// The live being followed.
#[derive(Debug)]
struct Followed {
    title: String,
    video_id: app::model::VideoId,
    streaming_since: Option<Instant>,
    announced: bool,
    peak: usize,
    failures: u32,
    states: HashMap<DestinationId, DestinationState>,
    failing: HashMap<DestinationId, Spell>,
}

/// Follows the engine's status from one observation to the next.
#[derive(Debug, Default)]
pub struct Follower {
    live: Option<Followed>,
    refused: bool,
    refused_told: Option<Instant>,
}

fn failing(state: DestinationState) -> bool {
    matches!(state, DestinationState::Connecting | DestinationState::Retrying | DestinationState::Failed)
}

impl Follower {
    /// The notices `status`, seen at `now`, calls for.
    pub fn observe(&mut self, status: &DashboardStatus, now: Instant) -> Vec<Notice> {
        let mut notices = Vec::new();
        self.youtube(status, now, &mut notices);
        let Some(summary) = status.live.as_ref() else {
            if let Some(ended) = self.live.take()
                && let Some(since) = ended.streaming_since
            {
                let tally = Tally { duration: now.saturating_duration_since(since), peak: ended.peak as u32, failures: ended.failures };
                notices.push(Notice::LiveEnded { title: ended.title, video_id: ended.video_id, tally });
            }
            return notices;
        };
        let live = self.live.get_or_insert_with(|| Followed {
            title: summary.title.clone(),
            video_id: summary.video_id.clone(),
            streaming_since: None,
            announced: false,
            peak: 0,
            failures: 0,
            states: HashMap::new(),
            failing: HashMap::new(),
        });
        live.title.clone_from(&summary.title);
        if matches!(summary.phase, LiveState::Streaming | LiveState::Grace) && live.streaming_since.is_none() {
            live.streaming_since = Some(now);
        }
        let streaming = status.destinations.iter().filter(|d| d.state == DestinationState::Streaming).count();
        live.peak = live.peak.max(streaming);
        for row in &status.destinations {
            let before = live.states.insert(row.id.clone(), row.state);
            let worse = matches!(row.state, DestinationState::Retrying | DestinationState::Failed);
            if worse && before.is_some_and(|b| b != row.state && !matches!(b, DestinationState::Retrying | DestinationState::Failed)) {
                live.failures += 1;
            }
            if failing(row.state) {
                let spell = live.failing.entry(row.id.clone()).or_insert(Spell { since: now, told: false });
                if !spell.told && now.saturating_duration_since(spell.since) >= FAILING_AFTER {
                    spell.told = true;
                    let minutes = now.saturating_duration_since(spell.since).as_secs() / 60;
                    notices.push(Notice::DestinationFailing { name: row.name.clone(), minutes });
                }
            } else {
                live.failing.remove(&row.id);
            }
        }
        live.failing.retain(|id, _| status.destinations.iter().any(|d| &d.id == id));
        if let Some(since) = live.streaming_since
            && !live.announced
        {
            let connecting = status.destinations.iter().any(|d| d.state == DestinationState::Connecting);
            let settled = streaming > 0 && !connecting;
            if settled || now.saturating_duration_since(since) >= SETTLE {
                live.announced = true;
                notices.push(Notice::LiveStarted {
                    title: summary.title.clone(),
                    video_id: summary.video_id.clone(),
                    url: summary.url.clone(),
                    streaming,
                });
            }
        }
        notices
    }

    /// The bot wall, from the channel's last look or the ingest's resolver.
    fn youtube(&mut self, status: &DashboardStatus, now: Instant, notices: &mut Vec<Notice>) {
        let wall = [&status.source_problem, &status.ingest_problem].into_iter().flatten().find(|p| p.problem == SourceProblem::BotWall);
        match wall {
            Some(note) if !self.refused => {
                self.refused = true;
                if self.refused_told.is_none_or(|at| now.saturating_duration_since(at) >= REFUSED_QUIET) {
                    self.refused_told = Some(now);
                    let detail: String = note.detail.chars().take(200).collect();
                    notices.push(Notice::YoutubeRefused { detail });
                }
            }
            Some(_) => {}
            None => self.refused = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use app::dashboard::{DestinationRow, LiveSummary};
    use app::model::{AccountId, DestinationKind, SourceProblemNote};

    use super::*;

    fn row(n: u8, state: DestinationState) -> DestinationRow {
        DestinationRow {
            id: DestinationId::Account(AccountId::from_stored(format!("0b6a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a{n:02}"))),
            name: format!("Volunteer {n}"),
            kind: DestinationKind::Restream,
            channels: vec![],
            titles: None,
            state,
            bitrate_bps: 0,
            bytes_sent: 0,
            reconnects: 0,
            skips: 0,
            last_error: None,
            received: None,
            flag: None,
        }
    }

    fn status(phase: LiveState, rows: Vec<DestinationRow>) -> DashboardStatus {
        let live = LiveSummary {
            video_id: app::model::VideoId("v12".into()),
            title: "Day 12".into(),
            url: "https://youtu.be/x".into(),
            thumbnail_url: None,
            phase,
            phase_secs: 0,
        };
        DashboardStatus { live: Some(live), destinations: rows, ..DashboardStatus::default() }
    }

    #[test]
    fn a_live_is_announced_once_its_destinations_stream_and_its_end_carries_the_tally() {
        let (mut follower, t0) = (Follower::default(), Instant::now());
        assert!(follower.observe(&status(LiveState::Preparing, vec![row(1, DestinationState::Connecting)]), t0).is_empty());
        let connecting = status(LiveState::Streaming, vec![row(1, DestinationState::Streaming), row(2, DestinationState::Connecting)]);
        assert!(follower.observe(&connecting, t0 + Duration::from_secs(1)).is_empty(), "one still connects");
        let both = status(LiveState::Streaming, vec![row(1, DestinationState::Streaming), row(2, DestinationState::Streaming)]);
        let notices = follower.observe(&both, t0 + Duration::from_secs(3));
        assert_eq!(
            notices,
            vec![Notice::LiveStarted {
                title: "Day 12".into(),
                video_id: app::model::VideoId("v12".into()),
                url: "https://youtu.be/x".into(),
                streaming: 2
            }]
        );
        assert!(follower.observe(&both, t0 + Duration::from_secs(4)).is_empty(), "said once");
        let lost = status(LiveState::Streaming, vec![row(1, DestinationState::Retrying), row(2, DestinationState::Streaming)]);
        follower.observe(&lost, t0 + Duration::from_secs(10));
        let ended = follower.observe(&DashboardStatus::default(), t0 + Duration::from_secs(61));
        let tally = Tally { duration: Duration::from_secs(60), peak: 2, failures: 1 };
        assert_eq!(ended, vec![Notice::LiveEnded { title: "Day 12".into(), video_id: app::model::VideoId("v12".into()), tally }]);
        assert!(follower.observe(&DashboardStatus::default(), t0 + Duration::from_secs(62)).is_empty());
    }

    #[test]
    fn a_live_whose_destinations_never_settle_is_announced_after_the_settle_time() {
        let (mut follower, t0) = (Follower::default(), Instant::now());
        let stuck = status(LiveState::Streaming, vec![row(1, DestinationState::Streaming), row(2, DestinationState::Connecting)]);
        assert!(follower.observe(&stuck, t0).is_empty());
        let notices = follower.observe(&stuck, t0 + SETTLE);
        assert!(matches!(notices.as_slice(), [Notice::LiveStarted { streaming: 1, .. }]), "{notices:?}");
    }

    #[test]
    fn a_destination_is_reported_after_five_minutes_of_failing_once_per_spell() {
        let (mut follower, t0) = (Follower::default(), Instant::now());
        let failing = status(LiveState::Streaming, vec![row(1, DestinationState::Streaming), row(2, DestinationState::Retrying)]);
        follower.observe(&failing, t0);
        assert!(!follower.observe(&failing, t0 + FAILING_AFTER - Duration::from_secs(1)).iter().any(is_failing));
        let notices = follower.observe(&failing, t0 + FAILING_AFTER);
        assert_eq!(notices, vec![Notice::DestinationFailing { name: "Volunteer 2".into(), minutes: 5 }]);
        assert!(follower.observe(&failing, t0 + FAILING_AFTER * 2).is_empty(), "once per spell");
        // It streams again, then fails anew: a new spell.
        let back = status(LiveState::Streaming, vec![row(1, DestinationState::Streaming), row(2, DestinationState::Streaming)]);
        follower.observe(&back, t0 + FAILING_AFTER * 2);
        let again = t0 + FAILING_AFTER * 3;
        follower.observe(&failing, again);
        assert!(follower.observe(&failing, again + FAILING_AFTER).iter().any(is_failing));
    }

    fn is_failing(notice: &Notice) -> bool {
        matches!(notice, Notice::DestinationFailing { .. })
    }

    #[test]
    fn the_bot_wall_is_told_when_it_appears_and_not_again_within_the_quiet_time() {
        let (mut follower, t0) = (Follower::default(), Instant::now());
        let wall = |problem| DashboardStatus {
            source_problem: Some(SourceProblemNote { problem, detail: "LOGIN_REQUIRED".into() }),
            ..DashboardStatus::default()
        };
        assert!(follower.observe(&wall(SourceProblem::ConsentWall), t0).is_empty(), "another problem");
        let told = follower.observe(&wall(SourceProblem::BotWall), t0);
        assert_eq!(told, vec![Notice::YoutubeRefused { detail: "LOGIN_REQUIRED".into() }]);
        assert!(follower.observe(&wall(SourceProblem::BotWall), t0 + Duration::from_secs(5)).is_empty());
        follower.observe(&DashboardStatus::default(), t0 + Duration::from_secs(10));
        assert!(follower.observe(&wall(SourceProblem::BotWall), t0 + Duration::from_secs(20)).is_empty(), "quiet time");
        follower.observe(&DashboardStatus::default(), t0 + REFUSED_QUIET);
        assert_eq!(follower.observe(&wall(SourceProblem::BotWall), t0 + REFUSED_QUIET).len(), 1);
    }
}
