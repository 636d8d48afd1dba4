//! The volunteers' e-mails in words — pure, plain and short: each says what happened, what to
//! do, their manage link, and how to stop these e-mails (the unsubscribe link).

use super::super::message::{Message, NoticeKind};

/// What a volunteer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolunteerNotice {
    /// Their account needs reconnecting.
    NeedsYou,
    /// A live streams to them now.
    LiveNote {
        /// The live's title.
        title: String,
        /// Its watch page.
        url: String,
    },
}

/// The links every volunteer e-mail carries (both capabilities: never logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links<'a> {
    /// The volunteer's fresh manage link.
    pub manage: &'a str,
    /// Their unsubscribe link.
    pub unsubscribe: &'a str,
}

impl VolunteerNotice {
    /// The message to `name`.
    pub fn message(&self, name: &str, links: &Links<'_>) -> Message {
        let (kind, subject, body) = match self {
            Self::NeedsYou => (
                NoticeKind::VolunteerNeedsYou,
                "Your Restream connection needs you".to_string(),
                format!(
                    "Hello {name},\n\nRestream.io no longer accepts Fanout's access to your account, so lives cannot reach \
                     your channels. Open your page and sign up again to reconnect (your details are kept):\n\n{}",
                    links.manage
                ),
            ),
            Self::LiveNote { title, url } => (
                NoticeKind::VolunteerLive,
                "We're live".to_string(),
                format!("Hello {name},\n\n“{title}” ({url}) is streaming to your Restream.io account now.\n\nYour page: {}", links.manage),
            ),
        };
        let text = format!("{body}\n\nTo stop e-mails from Fanout: {}\n", links.unsubscribe);
        Message { kind, subject, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_carries_the_manage_and_unsubscribe_links() {
        let links = Links { manage: "https://f.example/manage/a.0.1.s", unsubscribe: "https://f.example/unsubscribe/a.s" };
        let needs = VolunteerNotice::NeedsYou.message("Ana", &links);
        assert_eq!(needs.subject, "Your Restream connection needs you");
        assert!(needs.text.starts_with("Hello Ana,") && needs.text.contains(links.manage) && needs.text.contains(links.unsubscribe));
        let live = VolunteerNotice::LiveNote { title: "Day 12".into(), url: "https://youtu.be/x".into() }.message("Ana", &links);
        assert_eq!(live.subject, "We're live");
        assert!(live.text.contains("“Day 12”") && live.text.contains(links.unsubscribe));
        assert!(needs.text.lines().count() < 12, "short");
    }
}
