//! Who gets which volunteer e-mail, when — pure: [`Watch::observe`] takes the accounts as the
//! store has them now (and the live streaming now, with the accounts it streams to) and returns
//! the e-mails due. An account turning needs-reconnect is due one "needs you" per turn (an
//! account already in that state when Fanout starts counts as turned: the store's claim, with
//! its 24 h limit, is what stops a restart from sending again); an account a live streams to is
//! due one "we're live" per live, if the volunteer asked for it. The store's claim has the last
//! word (see `app::store::MailClaim`).

use std::collections::HashSet;

use app::model::{AccountId, AccountStatus, MailChoices, VideoId};

/// One account as the watch sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The account.
    pub id: AccountId,
    /// Its status.
    pub status: AccountStatus,
    /// The e-mails its volunteer takes.
    pub choices: MailChoices,
}

/// The live streaming now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNow {
    /// Its video.
    pub video: VideoId,
    /// The accounts whose destination streams.
    pub streaming: HashSet<AccountId>,
}

/// An e-mail due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// "Your Restream connection needs you".
    NeedsYou(AccountId),
    /// "We're live", for `video`.
    LiveNote(AccountId, VideoId),
}

/// What the watch remembers between observations.
#[derive(Debug, Default)]
pub struct Watch {
    /// Accounts in needs-reconnect already dealt with, this turn.
    turned: HashSet<AccountId>,
    /// The live whose notes are dealt with, and the accounts told.
    noted: Option<(VideoId, HashSet<AccountId>)>,
}

impl Watch {
    /// The e-mails due now.
    pub fn observe(&mut self, accounts: &[Seen], live: Option<&LiveNow>) -> Vec<Due> {
        let mut due = Vec::new();
        self.turned.retain(|id| accounts.iter().any(|a| &a.id == id && a.status == AccountStatus::NeedsReconnect));
        for account in accounts.iter().filter(|a| a.status == AccountStatus::NeedsReconnect) {
            if self.turned.insert(account.id.clone()) && account.choices.needs_you {
                due.push(Due::NeedsYou(account.id.clone()));
            }
        }
        let Some(live) = live else {
            self.noted = None;
            return due;
        };
        if self.noted.as_ref().is_none_or(|(video, _)| video != &live.video) {
            self.noted = Some((live.video.clone(), HashSet::new()));
        }
        if let Some((_, told)) = self.noted.as_mut() {
            for account in accounts.iter().filter(|a| a.choices.live_notes && live.streaming.contains(&a.id)) {
                if told.insert(account.id.clone()) {
                    due.push(Due::LiveNote(account.id.clone(), live.video.clone()));
                }
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(n: u8, status: AccountStatus, choices: MailChoices) -> Seen {
        Seen { id: id(n), status, choices }
    }

    fn id(n: u8) -> AccountId {
        AccountId::from_stored(format!("0b6a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a{n:02}"))
    }

    #[test]
    fn needs_you_is_due_once_per_turn_and_not_to_one_who_opted_out() {
        let mut watch = Watch::default();
        let on = MailChoices::default();
        let active = [seen(1, AccountStatus::Active, on), seen(2, AccountStatus::Active, MailChoices::NONE)];
        assert!(watch.observe(&active, None).is_empty());
        let turned = [seen(1, AccountStatus::NeedsReconnect, on), seen(2, AccountStatus::NeedsReconnect, MailChoices::NONE)];
        assert_eq!(watch.observe(&turned, None), vec![Due::NeedsYou(id(1))], "the one who opted out is not due");
        assert!(watch.observe(&turned, None).is_empty(), "once per turn");
        watch.observe(&active, None);
        assert_eq!(watch.observe(&turned, None), vec![Due::NeedsYou(id(1))], "a new turn (the store's limit decides)");
    }

    #[test]
    fn an_account_already_needing_a_reconnect_at_start_counts_as_turned() {
        let mut watch = Watch::default();
        assert_eq!(watch.observe(&[seen(3, AccountStatus::NeedsReconnect, MailChoices::default())], None), vec![Due::NeedsYou(id(3))]);
    }

    #[test]
    fn a_live_note_is_due_once_per_live_only_to_who_asked_and_once_they_stream() {
        let mut watch = Watch::default();
        let asked = MailChoices { needs_you: true, live_notes: true };
        let accounts = [seen(1, AccountStatus::Active, asked), seen(2, AccountStatus::Active, MailChoices::default())];
        let live =
            |video: &str, streaming: &[u8]| LiveNow { video: VideoId(video.into()), streaming: streaming.iter().map(|n| id(*n)).collect() };
        assert!(watch.observe(&accounts, Some(&live("v1", &[]))).is_empty(), "not streaming yet");
        assert_eq!(watch.observe(&accounts, Some(&live("v1", &[1, 2]))), vec![Due::LiveNote(id(1), VideoId("v1".into()))]);
        assert!(watch.observe(&accounts, Some(&live("v1", &[1, 2]))).is_empty(), "once per live");
        watch.observe(&accounts, None);
        assert_eq!(watch.observe(&accounts, Some(&live("v2", &[1]))).len(), 1, "the next live");
    }
}
