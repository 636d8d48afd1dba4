//! A live's destinations, kept in line with the store: volunteers' active accounts (prepared
//! through Restream: titles, stream key) and the admin's enabled direct destinations join the
//! backend; paused, refused, disconnected, disabled or deleted ones leave it. Accounts that
//! cannot be sent to are still listed (paused, needs reconnect, failed), so the dashboard shows
//! every destination of the live. Also keeps the live's tally: the most destinations streaming
//! at once and how many times one failed.
//!
//! Plan, then apply: [`plan::plan`] decides from the store and what the live has, purely;
//! [`Destinations::reconcile`] reads the store, plans, and applies the plan to the backend.
//! Preparing an account (titles, stream key) takes Restream calls that may be slow; it never
//! runs here: `reconcile` hands back the accounts to prepare, the live's task prepares them
//! beside its loop, and each outcome comes back through [`Destinations::prepared`].

pub mod plan;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use app::model::{DestinationId, DestinationKind, DestinationState, EventKind};
use app::secrets::{Cipher, Purpose};
use app::store::{Account, AccountId, DirectDestination, NewEvent, SharedStore};

use super::prepare::Outcome;
use super::status::{DestinationRow, Who, row};
use crate::fanout::Backend;
use crate::relay::{DestinationStatus, RtmpTarget};
use plan::{Current, Failed, OpenedDirect, Plan};

/// A destination in the backend, and what the dashboard shows of it.
#[derive(Debug, Clone)]
struct Joined {
    who: Who,
    target: RtmpTarget,
    /// An account's enabled Restream channels (empty for a direct destination).
    channels: Vec<app::model::RestreamChannel>,
}

/// A live's destinations and its tally.
#[derive(Debug, Default)]
pub struct Destinations {
    joined: HashMap<DestinationId, Joined>,
    failed: HashMap<AccountId, Failed>,
    /// Accounts being prepared now (handed out by `reconcile`, not back yet).
    preparing: HashSet<AccountId>,
    /// The accounts the last reconcile wanted in the backend.
    wanted: HashSet<AccountId>,
    held: Vec<DestinationRow>,
    reconnects_seen: HashMap<DestinationId, u32>,
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

    /// Brings the backend in line with the store; returns the events to record (the caller adds
    /// the live's video id) and the accounts to prepare (`restream_ready`: a Restream app is
    /// configured), which count as being prepared until [`Destinations::prepared`] hears of
    /// them.
    pub async fn reconcile(
        &mut self,
        store: &SharedStore,
        cipher: &Cipher,
        restream_ready: bool,
        backend: &Backend,
    ) -> (Vec<NewEvent>, Vec<Account>) {
        let (accounts, directs) = match (store.accounts().await, store.direct_destinations().await) {
            (Ok(accounts), Ok(directs)) => (accounts, directs),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot read the destinations; the live goes on as it is");
                return (Vec::new(), Vec::new());
            }
        };
        let directs: Vec<OpenedDirect> =
            directs.into_iter().map(|direct| OpenedDirect { target: direct_target(&direct, cipher), direct }).collect();
        let plan = {
            let current = Current {
                joined: self.joined.iter().map(|(id, j)| (id, (&j.target, j.who.name.as_str()))).collect(),
                failed: &self.failed,
                preparing: &self.preparing,
            };
            plan::plan(&accounts, &directs, &current, restream_ready, Instant::now())
        };
        self.apply(plan, backend)
    }

    /// Carries a plan out on the backend; the events and the accounts to prepare.
    fn apply(&mut self, plan: Plan, backend: &Backend) -> (Vec<NewEvent>, Vec<Account>) {
        let mut events = Vec::new();
        for (id, name, why) in plan.leave {
            backend.remove(&id);
            self.joined.remove(&id);
            events.push(event(EventKind::DestinationLeft, format!("{name} left the live ({why})"), &id));
        }
        for (direct, label) in plan.unopenable {
            events.push(event(
                EventKind::DestinationFailed,
                format!("{label}: its stream key cannot be opened"),
                &DestinationId::Direct(direct),
            ));
        }
        for (direct, label) in plan.rename {
            if let Some(joined) = self.joined.get_mut(&DestinationId::Direct(direct)) {
                joined.who.name = label;
            }
        }
        for (direct, label, target) in plan.join {
            let id = DestinationId::Direct(direct);
            backend.add(&id, target.clone());
            events.push(event(EventKind::DestinationJoined, format!("{label} joined the live ({target})"), &id));
            let who = Who { name: label, kind: DestinationKind::Direct, channels: Vec::new(), titles: None };
            self.joined.insert(id, Joined { who, target, channels: Vec::new() });
        }
        self.preparing.extend(plan.prepare.iter().map(|a| a.id.clone()));
        self.wanted = plan.wanted;
        self.held = plan.held;
        (events, plan.prepare)
    }

    /// Whether any account is being prepared now.
    pub fn is_preparing(&self) -> bool {
        !self.preparing.is_empty()
    }

    /// One account's preparation came back: it joins the backend (if it is still wanted), or is
    /// held as failed, to be tried again later. Returns the event to record, if any.
    pub fn prepared(&mut self, account: AccountId, outcome: Outcome, backend: &Backend) -> Option<NewEvent> {
        self.preparing.remove(&account);
        match outcome {
            Err(unprepared) => {
                self.failures = self.failures.saturating_add(1);
                let failed = Failed::after(self.failed.get(&account), Instant::now(), unprepared.why, unprepared.transient);
                self.failed.insert(account, failed);
                None
            }
            // Paused or disconnected while it was prepared: the next reconcile decides.
            Ok(_) if !self.wanted.contains(&account) => None,
            Ok(destination) => {
                let id = DestinationId::Account(destination.account.clone());
                self.failed.remove(&destination.account);
                backend.add(&id, destination.target.clone());
                let message = format!("{} joined the live ({})", destination.name, destination.target);
                let who = Who {
                    name: destination.name,
                    kind: DestinationKind::Restream,
                    channels: destination.channels,
                    titles: Some(destination.titles),
                };
                self.joined.insert(id.clone(), Joined { who, target: destination.target, channels: destination.restream_channels });
                Some(event(EventKind::DestinationJoined, message, &id))
            }
        }
    }

    /// Forgets why an account failed, so the next reconcile prepares it at once.
    pub fn forget_failure(&mut self, account: &AccountId) -> bool {
        self.failed.remove(account).is_some()
    }

    /// Reconnects a destination of the backend now; `false` when it is not in the backend.
    pub fn retry(&self, backend: &Backend, id: &DestinationId) -> bool {
        match self.joined.get(id) {
            Some(joined) if backend.ids().contains(id) => {
                backend.add(id, joined.target.clone());
                true
            }
            _ => false,
        }
    }

    /// The name shown for a destination.
    pub fn name_of(&self, id: &DestinationId) -> Option<String> {
        self.joined.get(id).map(|j| j.who.name.clone()).or_else(|| self.held.iter().find(|h| &h.id == id).map(|h| h.name.clone()))
    }

    /// The accounts in the backend.
    pub fn joined_accounts(&self) -> Vec<AccountId> {
        self.joined.keys().filter_map(DestinationId::account).cloned().collect()
    }

    /// The enabled Restream channels of a joined account's destination (none for others).
    pub fn restream_channels(&self, id: &DestinationId) -> &[app::model::RestreamChannel] {
        self.joined.get(id).map_or(&[], |joined| joined.channels.as_slice())
    }

    /// Every destination's row now (in the backend first, then held ones); updates the tally.
    pub fn rows(&mut self, statuses: BTreeMap<DestinationId, DestinationStatus>) -> Vec<DestinationRow> {
        let streaming = statuses.values().filter(|s| s.state == DestinationState::Streaming).count();
        self.peak = self.peak.max(u32::try_from(streaming).unwrap_or(u32::MAX));
        for (id, status) in &statuses {
            let seen = self.reconnects_seen.entry(id.clone()).or_default();
            self.failures = self.failures.saturating_add(status.reconnects.saturating_sub(*seen));
            *seen = (*seen).max(status.reconnects);
        }
        let unknown = || Who { name: String::new(), kind: DestinationKind::Restream, channels: Vec::new(), titles: None };
        let mut rows: Vec<DestinationRow> = statuses
            .into_iter()
            .map(|(id, status)| row(id.clone(), self.joined.get(&id).map_or_else(unknown, |j| j.who.clone()), &status))
            .collect();
        rows.extend(self.held.iter().cloned());
        rows
    }
}

fn event(kind: EventKind, message: String, id: &DestinationId) -> NewEvent {
    let event = NewEvent::now(kind, message);
    match id.account() {
        Some(account) => event.for_account(account),
        None => event,
    }
}

/// A direct destination's URL with its key opened; `None` when the key cannot be opened or
/// the URL is not valid any more.
fn direct_target(direct: &DirectDestination, cipher: &Cipher) -> Option<RtmpTarget> {
    let key = cipher.open_secret(Purpose::StreamKey, &direct.key).ok()?;
    RtmpTarget::parse(&format!("{}/{}", direct.server.trim_end_matches('/'), key.expose())).ok()
}
