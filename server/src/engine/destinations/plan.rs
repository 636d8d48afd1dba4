//! What a live's destinations should be, decided from what the store says and what the live
//! already has — pure: no store, no backend, no clock (the caller passes `now`). Tested as
//! `machine.rs` is, case by case.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use app::model::{AccountStatus, DestinationId, DestinationKind, Held};
use app::store::{Account, AccountId, DirectDestination, DirectId};

use crate::engine::status::{DestinationRow, Who, held_row};
use crate::relay::RtmpTarget;

/// An account refused by Restream (it needs a person) is not tried again before this.
pub const RETRY_REFUSED_AFTER: Duration = Duration::from_secs(60);
/// An account that failed for a moment (Restream 5xx, network) is tried again after this,
/// doubling with each failure in a row, up to [`RETRY_REFUSED_AFTER`].
pub const RETRY_TRANSIENT_AFTER: Duration = Duration::from_secs(5);

/// Why an account is held as failed, and when it may be tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// When it last failed.
    pub at: Instant,
    /// Why.
    pub why: String,
    /// How long after `at` it may be tried again.
    pub retry_after: Duration,
    /// How many times in a row it failed.
    pub in_a_row: u32,
}

impl Failed {
    /// A failure at `at` after `before` (the account's previous failure, if any).
    pub fn after(before: Option<&Failed>, at: Instant, why: String, transient: bool) -> Self {
        let in_a_row = before.map_or(1, |f| f.in_a_row.saturating_add(1));
        let retry_after = if transient {
            RETRY_TRANSIENT_AFTER.saturating_mul(1 << in_a_row.saturating_sub(1).min(8)).min(RETRY_REFUSED_AFTER)
        } else {
            RETRY_REFUSED_AFTER
        };
        Self { at, why, retry_after, in_a_row }
    }

    fn may_retry(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.at) >= self.retry_after
    }
}

/// A direct destination as the store has it, with its URL opened (`None`: its key cannot be
/// opened, or the URL is no longer valid).
#[derive(Debug, Clone)]
pub struct OpenedDirect {
    /// As stored.
    pub direct: DirectDestination,
    /// Where to send.
    pub target: Option<RtmpTarget>,
}

/// What the live has now, as far as the plan needs it.
#[derive(Debug)]
pub struct Current<'a> {
    /// The destinations in the backend, with their target (and name, for the events).
    pub joined: HashMap<&'a DestinationId, (&'a RtmpTarget, &'a str)>,
    /// Accounts that failed preparation.
    pub failed: &'a HashMap<AccountId, Failed>,
    /// Accounts being prepared now.
    pub preparing: &'a HashSet<AccountId>,
}

/// The changes that bring the live in line with the store.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Destinations to take out of the backend: id, name, and why in words.
    pub leave: Vec<(DestinationId, String, String)>,
    /// Direct destinations to add.
    pub join: Vec<(DirectId, String, RtmpTarget)>,
    /// Direct destinations whose label changed (kept in place).
    pub rename: Vec<(DirectId, String)>,
    /// Enabled direct destinations whose key cannot be opened (an event each).
    pub unopenable: Vec<(DirectId, String)>,
    /// Accounts to prepare (beside the loop), then add.
    pub prepare: Vec<Account>,
    /// Every account the live should send to.
    pub wanted: HashSet<AccountId>,
    /// The accounts listed with the live but not sent to.
    pub held: Vec<DestinationRow>,
}

/// The plan from the store's `accounts` and `directs` and what the live has (`current`) at
/// `now`; accounts join only when `restream_ready` (a Restream app is configured).
pub fn plan(accounts: &[Account], directs: &[OpenedDirect], current: &Current<'_>, restream_ready: bool, now: Instant) -> Plan {
    let wanted: HashSet<AccountId> = accounts
        .iter()
        .filter(|a| restream_ready && a.status == AccountStatus::Active && a.tokens.is_some())
        .map(|a| a.id.clone())
        .collect();
    let wanted_directs: HashMap<DestinationId, (&OpenedDirect, &RtmpTarget)> = directs
        .iter()
        .filter(|d| d.direct.enabled)
        .filter_map(|d| d.target.as_ref().map(|t| (DestinationId::Direct(d.direct.id.clone()), (d, t))))
        .collect();
    let mut plan = Plan { wanted, ..Plan::default() };

    let mut joined: Vec<_> = current.joined.iter().collect();
    joined.sort_by_key(|(id, _)| (**id).clone());
    for (id, (target, name)) in joined {
        let keep = match id {
            DestinationId::Direct(_) => wanted_directs.get(*id).is_some_and(|(_, wanted)| *wanted == *target),
            DestinationId::Account(account) => plan.wanted.contains(account),
        };
        if keep {
            continue;
        }
        let why = match id {
            DestinationId::Account(account) => {
                accounts.iter().find(|a| &a.id == account).map_or_else(|| "removed".to_string(), |a| a.status.to_string().replace('_', " "))
            }
            DestinationId::Direct(_) if wanted_directs.contains_key(*id) => "changed".into(),
            DestinationId::Direct(_) => "removed".into(),
        };
        plan.leave.push(((*id).clone(), (*name).to_string(), why));
    }
    let leaving: HashSet<&DestinationId> = plan.leave.iter().map(|(id, _, _)| id).collect();

    for opened in directs.iter().filter(|d| d.direct.enabled) {
        let id = DestinationId::Direct(opened.direct.id.clone());
        match &opened.target {
            None => plan.unopenable.push((opened.direct.id.clone(), opened.direct.label.clone())),
            Some(_) if current.joined.contains_key(&id) && !leaving.contains(&id) => {
                if current.joined.get(&id).is_some_and(|(_, name)| *name != opened.direct.label) {
                    plan.rename.push((opened.direct.id.clone(), opened.direct.label.clone()));
                }
            }
            Some(target) => plan.join.push((opened.direct.id.clone(), opened.direct.label.clone(), target.clone())),
        }
    }

    for account in accounts.iter().filter(|a| plan.wanted.contains(&a.id)) {
        let id = DestinationId::Account(account.id.clone());
        let in_backend = current.joined.contains_key(&id);
        let may_try = current.failed.get(&account.id).is_none_or(|f| f.may_retry(now));
        if !in_backend && !current.preparing.contains(&account.id) && may_try {
            plan.prepare.push(account.clone());
        }
    }
    plan.held = held(accounts, current.failed, restream_ready);
    plan
}

/// The accounts that belong to the live but are not sent to: paused, refused, or failed.
fn held(accounts: &[Account], failed: &HashMap<AccountId, Failed>, restream_ready: bool) -> Vec<DestinationRow> {
    accounts
        .iter()
        .filter_map(|account| {
            let (held, why) = match account.status {
                AccountStatus::Paused => (Held::Paused, None),
                AccountStatus::NeedsReconnect => (Held::NeedsReconnect, Some("Restream refused the account's tokens".to_string())),
                AccountStatus::Active if restream_ready => (Held::Failed, Some(failed.get(&account.id)?.why.clone())),
                _ => return None,
            };
            let who = Who {
                name: account.display_name.clone(),
                kind: DestinationKind::Restream,
                channels: account.restream_channels.iter().filter(|c| c.enabled).map(|c| c.display_name.clone()).collect(),
                titles: None,
            };
            Some(held_row(DestinationId::Account(account.id.clone()), who, held, why))
        })
        .collect()
}

#[cfg(test)]
mod tests;
