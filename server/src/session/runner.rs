//! One live's session: starts the relay, prepares destinations, starts the ingest, then follows
//! the input through the state machine (grace on loss, end after it), adds and removes
//! destinations as accounts change during the live, and publishes its status. Every phase is
//! stored, so a Fanout killed mid-live resumes the same live when it starts again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{AccountStatus, EventKind};
use app::store::{Account, AccountId, Live, NewEvent, SharedStore, VideoId, now};
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::machine::{Effect, Happening, Machine, Phase};
use super::prepare::{LiveFor, Preparer};
use super::status::{DestinationView, EngineStatus, LiveView};
use crate::ingest::{Ingest, IngestConfig};
use crate::relay::{DestinationPolicy, Relay};
use crate::restream::titles::LiveFacts;
use crate::youtube::page::{LiveNow, watch_url};
use crate::youtube::resolve::LiveStream;

/// An account that failed preparation is not tried again before this.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);
/// No media for this long means the input is lost, even with the ingest still connected (a
/// live HLS that stopped growing leaves ffmpeg connected and waiting).
const INPUT_STALL: Duration = Duration::from_secs(5);

/// Tells whether the input is alive: a publisher connected and media arriving.
struct InputWatch {
    messages: u64,
    changed_at: Instant,
}

impl InputWatch {
    fn alive(&mut self, input: &crate::relay::InputStatus, now: Instant) -> bool {
        if input.messages != self.messages {
            self.messages = input.messages;
            self.changed_at = now;
        }
        input.publishing && now.saturating_duration_since(self.changed_at) < INPUT_STALL
    }
}

/// What every session needs.
pub struct SessionDeps {
    /// The store.
    pub store: SharedStore,
    /// Prepares destinations (`None` while no Restream app is configured).
    pub preparer: Option<Preparer>,
    /// How destinations behave.
    pub policy: DestinationPolicy,
    /// How the ingest runs.
    pub ingest: IngestConfig,
    /// How long a live waits for lost input.
    pub grace: Duration,
    /// How often destinations are reconciled with the accounts.
    pub reconcile_every: Duration,
    /// The channel's `/live` page (to re-resolve the manifest).
    pub live_page: Url,
    /// The client YouTube pages are fetched with.
    pub youtube: reqwest::Client,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The live ended (input gone past the grace, or stopped).
    Ended,
    /// Fanout is stopping: the live is left as it is, to be resumed.
    Interrupted,
}

struct Session<'a> {
    deps: &'a SessionDeps,
    live: Live,
    facts: LiveFacts,
    thumbnail: Option<String>,
    machine: Machine,
    phase_since: Instant,
    relay: Relay,
    names: HashMap<AccountId, String>,
    failed: HashMap<AccountId, Instant>,
}

/// Runs the live until it ends or `stop`. `resumed` is its stored record after a restart.
pub async fn run(
    deps: Arc<SessionDeps>,
    detected: LiveNow,
    resumed: Option<Live>,
    nudge: Arc<Notify>,
    status: watch::Sender<EngineStatus>,
    stop: CancellationToken,
) -> SessionEnd {
    let relay = match Relay::start(deps.policy).await {
        Ok(relay) => relay,
        Err(error) => {
            tracing::error!("cannot start the relay: {error}");
            return SessionEnd::Interrupted;
        }
    };
    let at = now();
    let is_resumed = resumed.is_some();
    let live = resumed.unwrap_or_else(|| Live {
        video_id: VideoId(detected.video_id.clone()),
        title: detected.title.clone(),
        state: app::model::LiveState::Detected,
        detected_at: at,
        started_at: None,
        ended_at: None,
    });
    let facts = LiveFacts {
        title: detected.title.clone(),
        url: watch_url(&detected.video_id),
        date: detected.started_at.unwrap_or(at).date().to_string(),
    };
    let mut session = Session {
        deps: &deps,
        live,
        facts,
        thumbnail: detected.thumbnail_url.clone(),
        machine: Machine::new(deps.grace),
        phase_since: Instant::now(),
        relay,
        names: HashMap::new(),
        failed: HashMap::new(),
    };
    let message = if is_resumed {
        format!("Resuming the live “{}” after a restart", session.live.title)
    } else {
        format!("Live detected: “{}” ({})", session.live.title, session.facts.url)
    };
    session.event(if is_resumed { EventKind::LiveStateChanged } else { EventKind::LiveDetected }, message).await;
    session.happen(Happening::PreparationStarted).await;
    session.reconcile().await;

    let manifest = detected.hls_manifest_url.as_deref().and_then(|u| Url::parse(u).ok());
    let source = LiveStream::new(&detected.video_id, deps.live_page.clone(), deps.youtube.clone(), &deps.ingest.yt_dlp, manifest);
    let ingest = Ingest::start(deps.ingest.clone(), Arc::new(source), session.relay.ingest_url(), &stop);
    session.happen(Happening::Prepared).await;

    let input = session.relay.input();
    let mut watch_input = InputWatch { messages: 0, changed_at: Instant::now() };
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut reconcile = tokio::time::interval(deps.reconcile_every);
    let end = loop {
        tokio::select! {
            () = stop.cancelled() => break SessionEnd::Interrupted,
            _ = tick.tick() => {
                let alive = watch_input.alive(&input.borrow(), Instant::now());
                if session.happen(Happening::Input(alive)).await == Effect::End { break SessionEnd::Ended; }
                if session.happen(Happening::Tick).await == Effect::End { break SessionEnd::Ended; }
                session.publish(&status, &ingest);
            }
            _ = reconcile.tick() => session.reconcile().await,
            () = nudge.notified() => session.reconcile().await,
        }
    };
    ingest.stop();
    session.relay.shutdown();
    if end == SessionEnd::Ended {
        session.event(EventKind::LiveStateChanged, format!("Live ended: “{}”", session.live.title)).await;
    }
    status.send_modify(|s| {
        s.live = None;
        s.destinations.clear();
        s.ingest = None;
        s.input = Default::default();
    });
    end
}

impl Session<'_> {
    /// Feeds the state machine; stores and announces what changed.
    async fn happen(&mut self, what: Happening) -> Effect {
        let (changed, effect) = self.machine.apply(what, Instant::now());
        match effect {
            Effect::InputLost => {
                let secs = self.deps.grace.as_secs();
                self.event(EventKind::InputLost, format!("Input lost; waiting up to {secs} s for it to come back")).await;
            }
            Effect::InputRestored => self.event(EventKind::InputRestored, "Input back; the live goes on".into()).await,
            Effect::None | Effect::End => {}
        }
        if changed {
            self.phase_since = Instant::now();
            let at = now();
            self.live.state = self.machine.phase().stored();
            match self.machine.phase() {
                Phase::Streaming if self.live.started_at.is_none() => self.live.started_at = Some(at),
                Phase::Ended => self.live.ended_at = Some(at),
                _ => {}
            }
            if let Err(error) = self.deps.store.put_live(&self.live).await {
                tracing::warn!(%error, "could not store the live's state");
            }
            tracing::info!(video = %self.live.video_id, phase = %self.live.state, "live phase");
        }
        effect
    }

    /// Brings the relay's destinations in line with the accounts: active ones join, paused,
    /// disconnected or refused ones leave.
    async fn reconcile(&mut self) {
        let Some(preparer) = &self.deps.preparer else { return };
        let accounts = match self.deps.store.accounts().await {
            Ok(accounts) => accounts,
            Err(error) => {
                tracing::warn!(%error, "cannot read the accounts");
                return;
            }
        };
        let by_id: HashMap<AccountId, &Account> = accounts.iter().map(|a| (a.id.clone(), a)).collect();
        let wanted: HashSet<&AccountId> =
            accounts.iter().filter(|a| a.status == AccountStatus::Active && a.tokens.is_some()).map(|a| &a.id).collect();
        let current: HashSet<AccountId> = self.relay.ids().into_iter().map(AccountId::from_stored).collect();

        for gone in current.iter().filter(|id| !wanted.contains(id)) {
            self.relay.remove(gone.as_str());
            let (name, why) = by_id.get(gone).map_or(("An account".to_string(), "deleted".to_string()), |a| {
                (a.display_name.clone(), a.status.to_string().replace('_', " "))
            });
            self.event_for(EventKind::DestinationLeft, format!("{name} left the live ({why})"), gone).await;
        }
        let joining: Vec<Account> = wanted
            .iter()
            .filter(|id| !current.contains(**id))
            .filter(|id| self.failed.get(**id).is_none_or(|at| at.elapsed() >= RETRY_FAILED_AFTER))
            .filter_map(|id| by_id.get(*id).map(|a| (*a).clone()))
            .collect();
        if joining.is_empty() {
            return;
        }
        let live = LiveFor { video_id: self.live.video_id.clone(), facts: self.facts.clone() };
        let asked: Vec<AccountId> = joining.iter().map(|a| a.id.clone()).collect();
        let prepared = preparer.prepare_all(&live, joining).await;
        let ready: HashSet<AccountId> = prepared.iter().map(|p| p.account.clone()).collect();
        for id in asked.into_iter().filter(|id| !ready.contains(id)) {
            self.failed.insert(id, Instant::now());
        }
        for destination in prepared {
            self.failed.remove(&destination.account);
            self.relay.add(destination.account.as_str(), destination.target.clone());
            self.names.insert(destination.account.clone(), destination.name.clone());
            let message = format!("{} joined the live ({})", destination.name, destination.target);
            self.event_for(EventKind::DestinationJoined, message, &destination.account).await;
        }
    }

    fn publish(&self, status: &watch::Sender<EngineStatus>, ingest: &Ingest) {
        let statuses = self.relay.statuses();
        let destinations = statuses
            .into_iter()
            .map(|(id, status)| {
                let account = AccountId::from_stored(id.clone());
                DestinationView { name: self.names.get(&account).cloned().unwrap_or_default(), account_id: id, status }
            })
            .collect();
        let live = LiveView {
            video_id: self.live.video_id.0.clone(),
            title: self.live.title.clone(),
            url: self.facts.url.clone(),
            thumbnail_url: self.thumbnail.clone(),
            phase: self.live.state,
            phase_secs: self.phase_since.elapsed().as_secs(),
        };
        let input = self.relay.input().borrow().clone();
        let ingest = ingest.status().borrow().clone();
        status.send_modify(|s| {
            s.live = Some(live);
            s.destinations = destinations;
            s.input = input;
            s.ingest = Some(ingest);
        });
    }

    async fn event(&self, kind: EventKind, message: String) {
        let mut event = NewEvent::now(kind, message);
        event.video_id = Some(self.live.video_id.clone());
        if let Err(error) = self.deps.store.append_event(event).await {
            tracing::warn!(%error, "could not record an event");
        }
    }

    async fn event_for(&self, kind: EventKind, message: String, account: &AccountId) {
        let mut event = NewEvent::now(kind, message).for_account(account);
        event.video_id = Some(self.live.video_id.clone());
        if let Err(error) = self.deps.store.append_event(event).await {
            tracing::warn!(%error, "could not record an event");
        }
    }
}

/// Whether a stored live is still open (to be resumed).
pub fn is_open(live: &Live) -> bool {
    live.state != app::model::LiveState::Ended && live.ended_at.is_none()
}

/// Marks a stored live ended (it ended while Fanout was not watching).
pub async fn close(store: &SharedStore, mut live: Live, at: OffsetDateTime) {
    live.state = app::model::LiveState::Ended;
    live.ended_at = Some(at);
    if let Err(error) = store.put_live(&live).await {
        tracing::warn!(%error, "could not close a stale live");
    }
    let mut event = NewEvent::now(EventKind::LiveStateChanged, format!("The live “{}” ended while Fanout was not watching", live.title));
    event.video_id = Some(live.video_id.clone());
    let _ = store.append_event(event).await;
}
