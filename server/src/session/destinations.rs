//! A live's destinations, kept in line with the store: volunteers' active accounts (prepared
//! through Restream: titles, stream key) and the admin's enabled direct destinations join the
//! relay; paused, refused, disconnected, disabled or deleted ones leave it. Accounts that cannot
//! be sent to are still listed (paused, needs reconnect, failed), so the dashboard shows every
//! destination of the live. Also keeps the live's tally: the most destinations streaming at once
//! and how many times one failed.
//!
//! Preparing an account (titles, stream key) takes Restream calls that may be slow; it never
//! runs here. [`Destinations::reconcile`] hands back the accounts to prepare, the runner
//! prepares them beside the live's loop, and each outcome comes back through
//! [`Destinations::prepared`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use app::model::{AccountStatus, EventKind};
use app::secrets::{Cipher, Purpose};
use app::store::{Account, AccountId, DirectDestination, DirectId, NewEvent, SharedStore};

use super::backend::Fanout;
use super::prepare::Outcome;
use super::status::{DestinationKind, DestinationView, Held};
use crate::relay::{DestinationState, DestinationStatus, RtmpTarget};

/// An account refused by Restream (it needs a person) is not tried again before this.
const RETRY_REFUSED_AFTER: Duration = Duration::from_secs(60);
/// An account that failed for a moment (Restream 5xx, network) is tried again after this,
/// doubling with each failure in a row, up to [`RETRY_REFUSED_AFTER`].
const RETRY_TRANSIENT_AFTER: Duration = Duration::from_secs(5);

/// Why an account is held as failed, and when it may be tried again.
#[derive(Debug, Clone)]
struct Failed {
    at: Instant,
    why: String,
    retry_after: Duration,
    in_a_row: u32,
}

/// What the dashboard shows of a destination in the relay.
#[derive(Debug, Clone)]
struct Joined {
    name: String,
    kind: DestinationKind,
    channels: Vec<String>,
    titles: Option<String>,
    target: RtmpTarget,
}

/// A live's destinations and its tally.
#[derive(Debug, Default)]
pub struct Destinations {
    joined: HashMap<String, Joined>,
    failed: HashMap<AccountId, Failed>,
    /// Accounts being prepared now (handed out by `reconcile`, not back yet).
    preparing: HashSet<AccountId>,
    /// The accounts the last reconcile wanted in the fan-out.
    wanted: HashSet<String>,
    held: Vec<DestinationView>,
    reconnects_seen: HashMap<String, u32>,
    /// The most destinations streaming at once.
    pub peak: u32,
    /// How many times a destination failed: could not be prepared, or lost its connection.
    pub failures: u32,
}

impl Destinations {
    /// A live's destinations, its tally carried on from `peak` and `failures` (a resumed live).
    pub fn with_tally(peak: u32, failures: u32) -> Self {
        Self { peak, failures, ..Self::default() }
    }

    /// Brings the fan-out in line with the store: removes what left, adds direct destinations,
    /// and returns the events to record (the caller adds the live's video id) and the accounts
    /// to prepare (`restream_ready`: a Restream app is configured), which are then counted as
    /// being prepared until [`Destinations::prepared`] hears of them.
    pub async fn reconcile(&mut self, store: &SharedStore, cipher: &Cipher, restream_ready: bool, fanout: &Fanout) -> (Vec<NewEvent>, Vec<Account>) {
        let mut events = Vec::new();
        let accounts = match store.accounts().await {
            Ok(accounts) => accounts,
            Err(error) => {
                tracing::warn!(%error, "cannot read the accounts");
                return (events, Vec::new());
            }
        };
        let directs = match store.direct_destinations().await {
            Ok(directs) => directs,
            Err(error) => {
                tracing::warn!(%error, "cannot read the direct destinations");
                return (events, Vec::new());
            }
        };
        let wanted_accounts: HashMap<String, &Account> = accounts
            .iter()
            .filter(|a| restream_ready && a.status == AccountStatus::Active && a.tokens.is_some())
            .map(|a| (a.id.as_str().to_string(), a))
            .collect();
        let wanted_directs: HashMap<String, RtmpTarget> =
            directs.iter().filter(|d| d.enabled).filter_map(|d| direct_target(d, cipher).map(|t| (d.id.relay_id(), t))).collect();

        for gone in fanout.ids() {
            let keep = match DirectId::from_relay_id(&gone) {
                Some(_) => wanted_directs.get(&gone).is_some_and(|t| self.joined.get(&gone).is_some_and(|j| j.target == *t)),
                None => wanted_accounts.contains_key(&gone),
            };
            if keep {
                continue;
            }
            fanout.remove(&gone);
            let name = self.joined.remove(&gone).map_or_else(|| "A destination".to_string(), |j| j.name);
            let why = match accounts.iter().find(|a| a.id.as_str() == gone) {
                Some(account) => account.status.to_string().replace('_', " "),
                None if wanted_directs.contains_key(&gone) => "changed".into(),
                None => "removed".into(),
            };
            events.push(event(EventKind::DestinationLeft, format!("{name} left the live ({why})"), &gone));
        }

        for direct in directs.iter().filter(|d| d.enabled) {
            let id = direct.id.relay_id();
            let Some(target) = wanted_directs.get(&id) else {
                events.push(event(EventKind::DestinationFailed, format!("{}: its stream key cannot be opened", direct.label), &id));
                continue;
            };
            if let Some(joined) = self.joined.get_mut(&id) {
                joined.name.clone_from(&direct.label);
                continue;
            }
            fanout.add(&id, target.clone());
            let joined = Joined { name: direct.label.clone(), kind: DestinationKind::Direct, channels: Vec::new(), titles: None, target: target.clone() };
            events.push(event(EventKind::DestinationJoined, format!("{} joined the live ({target})", direct.label), &id));
            self.joined.insert(id, joined);
        }

        let in_fanout: HashSet<String> = fanout.ids().into_iter().collect();
        let joining: Vec<Account> = wanted_accounts
            .values()
            .filter(|a| !in_fanout.contains(a.id.as_str()) && !self.preparing.contains(&a.id))
            .filter(|a| self.failed.get(&a.id).is_none_or(|f| f.at.elapsed() >= f.retry_after))
            .map(|a| (*a).clone())
            .collect();
        self.preparing.extend(joining.iter().map(|a| a.id.clone()));
        self.wanted = wanted_accounts.keys().cloned().collect();
        self.held = held_rows(&accounts, &self.failed, restream_ready);
        (events, joining)
    }

    /// Whether any account is being prepared now.
    pub fn is_preparing(&self) -> bool {
        !self.preparing.is_empty()
    }

    /// One account's preparation came back: it joins the fan-out (if it is still wanted), or is
    /// held as failed, to be tried again later. Returns the event to record, if any.
    pub fn prepared(&mut self, account: AccountId, outcome: Outcome, fanout: &Fanout) -> Option<NewEvent> {
        self.preparing.remove(&account);
        match outcome {
            Err(unprepared) => {
                self.failures = self.failures.saturating_add(1);
                let in_a_row = self.failed.get(&account).map_or(1, |f| f.in_a_row.saturating_add(1));
                let retry_after = if unprepared.transient {
                    RETRY_TRANSIENT_AFTER.saturating_mul(1 << in_a_row.saturating_sub(1).min(8)).min(RETRY_REFUSED_AFTER)
                } else {
                    RETRY_REFUSED_AFTER
                };
                self.failed.insert(account, Failed { at: Instant::now(), why: unprepared.why, retry_after, in_a_row });
                None
            }
            // Paused or disconnected while it was prepared: the next reconcile decides.
            Ok(_) if !self.wanted.contains(account.as_str()) => None,
            Ok(destination) => {
                let id = destination.account.as_str().to_string();
                self.failed.remove(&destination.account);
                fanout.add(&id, destination.target.clone());
                let message = format!("{} joined the live ({})", destination.name, destination.target);
                let joined = Joined {
                    name: destination.name,
                    kind: DestinationKind::Restream,
                    channels: destination.channels,
                    titles: Some(destination.titles),
                    target: destination.target,
                };
                self.joined.insert(id.clone(), joined);
                Some(event(EventKind::DestinationJoined, message, &id))
            }
        }
    }

    /// Forgets why an account failed, so the next reconcile prepares it at once.
    pub fn forget_failure(&mut self, account: &AccountId) -> bool {
        self.failed.remove(account).is_some()
    }

    /// Reconnects a destination of the relay now; `false` when it is not in the relay.
    pub fn retry(&self, relay: &Fanout, id: &str) -> bool {
        match self.joined.get(id) {
            Some(joined) if relay.ids().iter().any(|i| i == id) => {
                relay.add(id, joined.target.clone());
                true
            }
            _ => false,
        }
    }

    /// The name shown for a destination id.
    pub fn name_of(&self, id: &str) -> Option<String> {
        self.joined.get(id).map(|j| j.name.clone()).or_else(|| self.held.iter().find(|h| h.id == id).map(|h| h.name.clone()))
    }

    /// The accounts in the relay.
    pub fn joined_accounts(&self) -> Vec<AccountId> {
        self.joined.iter().filter(|(_, j)| j.kind == DestinationKind::Restream).map(|(id, _)| AccountId::from_stored(id.clone())).collect()
    }

    /// Every destination's view now (relay first, then held ones); updates the tally.
    pub fn views(&mut self, statuses: BTreeMap<String, DestinationStatus>) -> Vec<DestinationView> {
        let streaming = statuses.values().filter(|s| s.state == DestinationState::Streaming).count();
        self.peak = self.peak.max(u32::try_from(streaming).unwrap_or(u32::MAX));
        for (id, status) in &statuses {
            let seen = self.reconnects_seen.entry(id.clone()).or_default();
            self.failures += status.reconnects.saturating_sub(*seen);
            *seen = (*seen).max(status.reconnects);
        }
        let mut views: Vec<DestinationView> = statuses
            .into_iter()
            .map(|(id, status)| {
                let joined = self.joined.get(&id);
                DestinationView {
                    name: joined.map(|j| j.name.clone()).unwrap_or_default(),
                    kind: joined.map_or(DestinationKind::Restream, |j| j.kind),
                    channels: joined.map(|j| j.channels.clone()).unwrap_or_default(),
                    titles: joined.and_then(|j| j.titles.clone()),
                    held: None,
                    status,
                    id,
                }
            })
            .collect();
        views.extend(self.held.iter().cloned());
        views
    }
}

fn event(kind: EventKind, message: String, id: &str) -> NewEvent {
    let event = NewEvent::now(kind, message);
    match DirectId::from_relay_id(id) {
        Some(_) => event,
        None => event.for_account(&AccountId::from_stored(id)),
    }
}

/// A direct destination's URL with its key opened; `None` when the key cannot be opened or
/// the URL is not valid any more.
fn direct_target(direct: &DirectDestination, cipher: &Cipher) -> Option<RtmpTarget> {
    let key = cipher.open_secret(Purpose::StreamKey, &direct.key).ok()?;
    RtmpTarget::parse(&format!("{}/{}", direct.server.trim_end_matches('/'), key.expose())).ok()
}

/// The accounts that belong to the live but are not sent to: paused, refused, or failed.
fn held_rows(accounts: &[Account], failed: &HashMap<AccountId, Failed>, restream_ready: bool) -> Vec<DestinationView> {
    accounts
        .iter()
        .filter_map(|account| {
            let (held, error) = match account.status {
                AccountStatus::Paused => (Held::Paused, None),
                AccountStatus::NeedsReconnect => (Held::NeedsReconnect, Some("Restream refused the account's tokens".to_string())),
                AccountStatus::Active if restream_ready => {
                    let failure = failed.get(&account.id)?;
                    (Held::Failed, Some(failure.why.clone()))
                }
                _ => return None,
            };
            let status = DestinationStatus { state: DestinationState::Stopped, last_error: error, ..DestinationStatus::new() };
            Some(DestinationView {
                id: account.id.as_str().to_string(),
                name: account.display_name.clone(),
                kind: DestinationKind::Restream,
                channels: account.restream_channels.iter().filter(|c| c.enabled).map(|c| c.display_name.clone()).collect(),
                titles: None,
                held: Some(held),
                status,
            })
        })
        .collect()
}
