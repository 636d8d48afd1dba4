//! What the admin is told, as typed notices, and their words: each [`Notice`] becomes one short
//! plain-text [`Message`] (a subject and a body) — pure, the same for e-mail and webhooks.

use std::fmt;
use std::time::Duration;

use app::model::VideoId;

/// What a notice is about, with the stable text form webhooks carry as `event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// A live reached its destinations.
    LiveStarted,
    /// A live ended.
    LiveEnded,
    /// A destination has not streamed for [`super::follow::FAILING_AFTER`].
    DestinationFailing,
    /// YouTube asks this server to prove it is not a bot.
    YoutubeRefused,
    /// An admin asked for a test message.
    Test,
    /// A volunteer's account needs reconnecting (to the volunteer).
    VolunteerNeedsYou,
    /// A live streams to a volunteer who asked to hear of it (to the volunteer).
    VolunteerLive,
}

impl NoticeKind {
    /// Its text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LiveStarted => "live_started",
            Self::LiveEnded => "live_ended",
            Self::DestinationFailing => "destination_failing",
            Self::YoutubeRefused => "youtube_refused",
            Self::Test => "test",
            Self::VolunteerNeedsYou => "volunteer_needs_you",
            Self::VolunteerLive => "volunteer_live",
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a live went: how long it streamed, the most destinations at once, and how often one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// From the start of streaming to the end.
    pub duration: Duration,
    /// The most destinations streaming at once.
    pub peak: u32,
    /// How many times a destination failed.
    pub failures: u32,
}

/// Something the admin should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The live is streaming to `streaming` destinations.
    LiveStarted {
        /// The live's title.
        title: String,
        /// Its video (the once-per-live claim is keyed by it).
        video_id: VideoId,
        /// Its watch page.
        url: String,
        /// Destinations streaming.
        streaming: usize,
    },
    /// The live ended.
    LiveEnded {
        /// The live's title.
        title: String,
        /// Its video id (its report's address is made from it).
        video_id: VideoId,
        /// How it went.
        tally: Tally,
    },
    /// A destination has not streamed for a while.
    DestinationFailing {
        /// Its name on the dashboard.
        name: String,
        /// For how long.
        minutes: u64,
    },
    /// YouTube refuses this server (its bot wall).
    YoutubeRefused {
        /// What YouTube said.
        detail: String,
    },
    /// A test message, asked for by an admin.
    Test {
        /// The admin's name.
        by: String,
    },
}

/// A notice in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What it is about.
    pub kind: NoticeKind,
    /// One line (the e-mail's subject).
    pub subject: String,
    /// The whole text, the subject's line first.
    pub text: String,
}

/// `1 h 05 min`, `12 min 30 s`, `45 s`.
pub fn duration_words(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The address of a live's report page, beside the dashboard's `dashboard` (`…/admin`).
pub fn report_url(dashboard: &str, video_id: &VideoId) -> String {
    let site = dashboard.trim_end_matches('/').strip_suffix("/admin").unwrap_or(dashboard);
    format!("{site}{}", app::report::report_path(&video_id.0))
}

impl Notice {
    /// Its kind.
    pub fn kind(&self) -> NoticeKind {
        match self {
            Self::LiveStarted { .. } => NoticeKind::LiveStarted,
            Self::LiveEnded { .. } => NoticeKind::LiveEnded,
            Self::DestinationFailing { .. } => NoticeKind::DestinationFailing,
            Self::YoutubeRefused { .. } => NoticeKind::YoutubeRefused,
            Self::Test { .. } => NoticeKind::Test,
        }
    }

    /// The message; `dashboard` is the admin dashboard's address, for what to do next.
    pub fn message(&self, dashboard: &str) -> Message {
        let (subject, more) = match self {
            Self::LiveStarted { title, url, streaming, .. } => (
                format!("Live started: {} streaming", plural(*streaming as u64, "destination", "destinations")),
                format!("“{title}” ({url}) is being restreamed."),
            ),
            Self::LiveEnded { title, video_id, tally } => (
                format!(
                    "Live ended: {}, peak {}, {}",
                    duration_words(tally.duration),
                    plural(u64::from(tally.peak), "destination", "destinations"),
                    plural(u64::from(tally.failures), "failure", "failures")
                ),
                format!("“{title}” is over. Its report: {}", report_url(dashboard, video_id)),
            ),
            Self::DestinationFailing { name, minutes } => (
                format!("Destination failing for {minutes} min: {name}"),
                "Fanout keeps trying; the dashboard shows its last error.".to_string(),
            ),
            Self::YoutubeRefused { detail } => (
                "YouTube refused us (bot wall)".to_string(),
                format!(
                    "YouTube asks this server to sign in to confirm it is not a bot ({detail}). Set FANOUT_YT_COOKIES, or FANOUT_YT_PROXY, and restart."
                ),
            ),
            Self::Test { by } => ("Test message from Fanout".to_string(), format!("Admin {by} asked for this test: this channel works.")),
        };
        Message { kind: self.kind(), text: format!("{subject}\n\n{more}\n\nDashboard: {dashboard}\n"), subject }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_says_what_happened_in_its_subject() {
        let dash = "https://fanout.example.org/admin";
        let started = Notice::LiveStarted {
            title: "Day 12".into(),
            video_id: VideoId("abc123DEF45".into()),
            url: "https://youtu.be/x".into(),
            streaming: 3,
        }
        .message(dash);
        assert_eq!(started.subject, "Live started: 3 destinations streaming");
        assert!(started.text.contains("“Day 12”") && started.text.contains(dash));
        let tally = Tally { duration: Duration::from_secs(3725), peak: 1, failures: 2 };
        let ended = Notice::LiveEnded { title: "Day 12".into(), video_id: VideoId("abc123DEF45".into()), tally }.message(dash);
        assert_eq!(ended.subject, "Live ended: 1 h 02 min, peak 1 destination, 2 failures");
        assert!(ended.text.contains("Its report: https://fanout.example.org/admin/lives/abc123DEF45\n"), "{}", ended.text);
        let failing = Notice::DestinationFailing { name: "Ana".into(), minutes: 5 }.message(dash);
        assert_eq!(failing.subject, "Destination failing for 5 min: Ana");
        assert_eq!(Notice::YoutubeRefused { detail: "LOGIN_REQUIRED".into() }.message(dash).subject, "YouTube refused us (bot wall)");
        assert_eq!(started.kind.as_str(), "live_started");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration_words(Duration::from_secs(45)), "45 s");
        assert_eq!(duration_words(Duration::from_secs(750)), "12 min 30 s");
        assert_eq!(duration_words(Duration::from_secs(7200)), "2 h 00 min");
    }
}
