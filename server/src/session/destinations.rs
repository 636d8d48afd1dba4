//! A live's destinations, kept in line with the store: volunteers' active accounts (prepared
//! through Restream: titles, stream key) and the admin's enabled direct destinations join the
//! relay; paused, refused, disconnected, disabled or deleted ones leave it. Accounts that cannot
//! be sent to are still listed (paused, needs reconnect, failed), so the dashboard shows every
//! destination of the live. Also keeps the live's tally: the most destinations streaming at once
//! and how many times one failed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use app::model::{AccountStatus, EventKind};
use app::secrets::{Cipher, Purpose};
use app::store::{Account, AccountId, DirectDestination, DirectId, NewEvent, SharedStore};

use super::backend::Fanout;
use super::prepare::{LiveFor, Preparer};
use super::status::{DestinationKind, DestinationView, Held};
use crate::relay::{DestinationState, DestinationStatus, RtmpTarget};

/// An account that failed preparation is not tried again before this.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);

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
    failed: HashMap<AccountId, (Instant, String)>,
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

    /// Brings the relay in line with the store; returns the events to record (the caller adds
    /// the live's video id).
    pub async fn reconcile(
        &mut self,
        store: &SharedStore,
        cipher: &Cipher,
        preparer: Option<&Preparer>,
        live: &LiveFor,
        relay: &Fanout,
    ) -> Vec<NewEvent> {
        let mut events = Vec::new();
        let accounts = match store.accounts().await {
            Ok(accounts) => accounts,
            Err(error) => {
                tracing::warn!(%error, "cannot read the accounts");
                return events;
            }
        };
        let directs = match store.direct_destinations().await {
            Ok(directs) => directs,
            Err(error) => {
                tracing::warn!(%error, "cannot read the direct destinations");
                return events;
            }
        };
        let wanted_accounts: HashMap<String, &Account> = accounts
            .iter()
            .filter(|a| preparer.is_some() && a.status == AccountStatus::Active && a.tokens.is_some())
            .map(|a| (a.id.as_str().to_string(), a))
            .collect();
        let wanted_directs: HashMap<String, RtmpTarget> =
            directs.iter().filter(|d| d.enabled).filter_map(|d| direct_target(d, cipher).map(|t| (d.id.relay_id(), t))).collect();

        for gone in relay.ids() {
            let keep = match DirectId::from_relay_id(&gone) {
                Some(_) => wanted_directs.get(&gone).is_some_and(|t| self.joined.get(&gone).is_some_and(|j| j.target == *t)),
                None => wanted_accounts.contains_key(&gone),
            };
            if keep {
                continue;
            }
            relay.remove(&gone);
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
            relay.add(&id, target.clone());
            let joined = Joined { name: direct.label.clone(), kind: DestinationKind::Direct, channels: Vec::new(), titles: None, target: target.clone() };
            events.push(event(EventKind::DestinationJoined, format!("{} joined the live ({target})", direct.label), &id));
            self.joined.insert(id, joined);
        }

        let in_relay: HashSet<String> = relay.ids().into_iter().collect();
        let joining: Vec<Account> = wanted_accounts
            .values()
            .filter(|a| !in_relay.contains(a.id.as_str()))
            .filter(|a| self.failed.get(&a.id).is_none_or(|(at, _)| at.elapsed() >= RETRY_FAILED_AFTER))
            .map(|a| (*a).clone())
            .collect();
        if let Some(preparer) = preparer.filter(|_| !joining.is_empty()) {
            let prepared = preparer.prepare_all(live, joining).await;
            for (account, why) in prepared.failed {
                self.failures += 1;
                self.failed.insert(account, (Instant::now(), why));
            }
            for destination in prepared.ready {
                let id = destination.account.as_str().to_string();
                self.failed.remove(&destination.account);
                relay.add(&id, destination.target.clone());
                let message = format!("{} joined the live ({})", destination.name, destination.target);
                events.push(event(EventKind::DestinationJoined, message, &id));
                let joined = Joined {
                    name: destination.name,
                    kind: DestinationKind::Restream,
                    channels: destination.channels,
                    titles: Some(destination.titles),
                    target: destination.target,
                };
                self.joined.insert(id, joined);
            }
        }
        self.held = held_rows(&accounts, &self.failed, preparer.is_some());
        events
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
fn held_rows(accounts: &[Account], failed: &HashMap<AccountId, (Instant, String)>, restream_ready: bool) -> Vec<DestinationView> {
    accounts
        .iter()
        .filter_map(|account| {
            let (held, error) = match account.status {
                AccountStatus::Paused => (Held::Paused, None),
                AccountStatus::NeedsReconnect => (Held::NeedsReconnect, Some("Restream refused the account's tokens".to_string())),
                AccountStatus::Active if restream_ready => {
                    let (_, why) = failed.get(&account.id)?;
                    (Held::Failed, Some(why.clone()))
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
