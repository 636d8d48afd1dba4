//! One live's task: starts the fan-out ([`Backend`]), prepares destinations, starts the
//! ingest, then follows the input through the state machine (grace on loss, end after it),
//! keeps the destinations in line with the store as accounts change during the live
//! (`destinations`), carries out the admin's requests, and publishes its status. Every phase is
//! stored, so a Fanout killed mid-live resumes the same live when it starts again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{DestinationId, EventKind};
use app::store::{AccountId, Live, NewEvent, SharedStore, VideoId, now};
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::EngineParts;
use super::control::{self, Control, ControlError, Request};
use super::destinations::Destinations;
use super::machine::{Effect, Happening, Machine, Phase};
use super::prepare::LiveFor;
use super::status::{DashboardStatus, LiveSummary};
use crate::fanout::{Backend, BackendEvents};
use crate::ingest::{Ingest, IngestConfig};
use crate::restream::titles::LiveFacts;
use crate::youtube::page::{LiveNow, watch_url};
use crate::youtube::resolve::{LiveStream, Resolver};

use super::input_watch::{INPUT_RESTART_EVERY, InputWatch, Restarts};
/// The longest a live's fan-out waits for the source's checks before its first connections
/// (the source may not come at all; then there is nothing to wait for).
const HOLD_AT_MOST: Duration = Duration::from_secs(20);

/// How the live is pulled: the ingest, and where its stream is resolved again.
#[derive(Debug, Clone)]
pub struct SourceSetup {
    /// How the ingest runs.
    pub ingest: IngestConfig,
    /// YouTube's base URL (watch pages and the channel's feed are under it).
    pub youtube_base: Url,
    /// The watched channel.
    pub channel: app::channels::YoutubeChannel,
    /// The channel's `/live` page (to re-resolve the manifest).
    pub live_page: Url,
    /// The client YouTube pages are fetched with.
    pub youtube: reqwest::Client,
    /// How the stream is resolved.
    pub resolver: Resolver,
    /// Whether yt-dlp is updated between lives.
    pub yt_dlp_auto_update: bool,
    /// Whether a pulled source without audio gets a silent track.
    pub add_silent_audio: bool,
    /// The Data API, when the channel is watched through it.
    pub data_api: Option<Arc<crate::youtube::data_api::DataApi>>,
}

impl SourceSetup {
    /// How the channel is looked at: the Data API when a key is set, else its feed with the
    /// `/live` page when the feed calls for it (`youtube::feed`). Each call starts afresh.
    pub fn looker(&self) -> Arc<dyn crate::youtube::detect::Look> {
        match &self.data_api {
            Some(api) => Arc::clone(api) as Arc<dyn crate::youtube::detect::Look>,
            None => Arc::new(crate::youtube::feed::FeedLook::new(self.youtube.clone(), self.youtube_base.clone(), &self.channel)),
        }
    }
}

/// What reaches a live's task from outside while it runs.
#[derive(Debug)]
pub struct Signals {
    /// Destinations changed: reconcile now.
    pub nudge: Arc<Notify>,
    /// An admin's requests.
    pub requests: mpsc::Receiver<Request>,
    /// YouTube's confirmed word that the live has ended.
    pub youtube_ended: CancellationToken,
}

/// A live's clocks.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a live waits for lost input.
    pub grace: Duration,
    /// How often destinations are reconciled with the store.
    pub reconcile_every: Duration,
    /// How long a pushed stream waits for YouTube to show its live (whose title it takes)
    /// before it starts a live of Fanout's own.
    pub push_title_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self { grace: Duration::from_secs(60), reconcile_every: Duration::from_secs(5), push_title_wait: Duration::from_secs(30) }
    }
}

/// How a live's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEnd {
    /// The live ended (input gone past the grace).
    Ended,
    /// An admin stopped restreaming it.
    Stopped,
    /// Fanout is stopping: the live is left as it is, to be resumed.
    Interrupted,
}

/// A live while its task runs.
struct LiveTask<'a> {
    parts: &'a EngineParts,
    live: Live,
    facts: LiveFacts,
    thumbnail: Option<String>,
    machine: Machine,
    phase_since: Instant,
    backend: Backend,
    destinations: Destinations,
    stored_tally: (u32, u32),
    /// The ingest's problem last recorded as an event.
    ingest_problem: Option<app::model::SourceProblem>,
    /// What the pre-flight checks say of the source now.
    source_warnings: Vec<String>,
    /// Where preparation tasks send each account's outcome.
    prepared_sender: mpsc::Sender<(AccountId, super::prepare::Outcome)>,
    /// Ends the preparation tasks with the live.
    preparing_stop: CancellationToken,
    /// Restream's side of the destinations: its streaming updates, judged.
    health: super::health::RestreamHealth,
    /// Events of Restream's side, waiting to be recorded.
    health_events: Vec<NewEvent>,
}

/// How a live's task begins.
#[derive(Debug, Clone)]
pub enum Opening {
    /// A live just noticed.
    New,
    /// The live Fanout was restreaming when it stopped (its stored record).
    Resumed(Live),
    /// A live an admin stopped (or that ended while still on air), restreamed again at an
    /// admin's request.
    Restarted(Live, String),
}

/// Runs the live until it ends, an admin stops it, or `stop`; `pulled`: its ingest pulls it
/// from YouTube (else only a pushed stream feeds it).
pub async fn run(
    parts: Arc<EngineParts>,
    detected: LiveNow,
    opening: Opening,
    pulled: bool,
    signals: Signals,
    status: watch::Sender<DashboardStatus>,
    stop: CancellationToken,
) -> LiveEnd {
    let Signals { nudge, mut requests, youtube_ended } = signals;
    let backend = Backend::start(&parts.backend);
    let at = now();
    let (stored, kind, message) = match opening {
        Opening::New => (None, EventKind::LiveDetected, format!("Live detected: “{}” ({})", detected.title, watch_url(&detected.video_id))),
        Opening::Resumed(live) => {
            let message = format!("Resuming the live “{}” after a restart", live.title);
            (Some(live), EventKind::LiveStateChanged, message)
        }
        Opening::Restarted(mut live, by) => {
            live.state = app::model::LiveState::Detected;
            live.ended_at = None;
            let message = format!("Restreaming of “{}” started again by admin {by}", live.title);
            (Some(live), EventKind::AdminAction, message)
        }
    };
    let live = stored.unwrap_or_else(|| Live {
        video_id: VideoId(detected.video_id.clone()),
        title: detected.title.clone(),
        state: app::model::LiveState::Detected,
        detected_at: at,
        started_at: None,
        ended_at: None,
        peak_destinations: 0,
        failures: 0,
    });
    let url = if pulled || parts.push.is_none() { watch_url(&detected.video_id) } else { parts.source.live_page.to_string() };
    let facts = LiveFacts { title: detected.title.clone(), url, date: detected.started_at.unwrap_or(at).date().to_string() };
    let stored_tally = (live.peak_destinations, live.failures);
    let (prepared_sender, mut prepared) = mpsc::channel(64);
    let mut task = LiveTask {
        parts: &parts,
        live,
        facts,
        thumbnail: detected.thumbnail_url.clone(),
        machine: Machine::new(parts.timing.grace),
        phase_since: Instant::now(),
        backend,
        destinations: Destinations::with_tally(stored_tally.0, stored_tally.1),
        stored_tally,
        ingest_problem: None,
        source_warnings: Vec::new(),
        prepared_sender,
        preparing_stop: stop.child_token(),
        health: super::health::RestreamHealth::new(parts.updates.clone(), stop.child_token()),
        health_events: Vec::new(),
    };
    // A pulled source that may get silent audio added: no destination connects before the
    // checks know whether it will (so none starts on a stream whose audio comes later), for
    // `HOLD_AT_MOST` at most.
    let silence_may_come = pulled && parts.source.add_silent_audio;
    let hold_until = silence_may_come.then(|| {
        task.backend.hold();
        Instant::now() + HOLD_AT_MOST
    });
    task.event(kind, message).await;
    task.happen(Happening::PreparationStarted).await;
    task.reconcile().await;
    if !task.destinations.is_preparing() {
        task.backend.begin();
    }
    let mut backend_events = task.backend.events();
    let mut slate_events = parts.slate.clone().map(|config| task.backend.start_slate(config));

    let push_point = parts.push.as_ref().map(|push| Arc::clone(&push.point));
    if let Some(point) = &push_point {
        point.attach(task.backend.feed());
    }
    let silence = crate::ingest::SilentAudio::default();
    let ingest = match pulled {
        true => Some(start_ingest(&parts, &detected, &task.backend, silence.clone(), &stop).await),
        false => None,
    };
    let mut preflight = super::preflight::Preflight::new((pulled && parts.source.add_silent_audio).then_some(silence));
    task.happen(Happening::Prepared).await;

    let input = task.backend.input();
    let mut watch_input = InputWatch::new(Instant::now());
    let mut restarts = Restarts(Instant::now());
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut reconcile = tokio::time::interval(parts.timing.reconcile_every);
    let end = loop {
        tokio::select! {
            () = stop.cancelled() => break LiveEnd::Interrupted,
            () = youtube_ended.cancelled() => {
                let message = format!("YouTube says “{}” has ended (seen on two looks at the channel): the restream ends", task.live.title);
                task.event(EventKind::LiveStateChanged, message).await;
                task.happen(Happening::Stop).await;
                break LiveEnd::Ended;
            }
            _ = tick.tick() => {
                let returning = matches!(task.machine.phase(), Phase::Grace { had_input: true, .. });
                let alive = watch_input.alive(&input.borrow(), Instant::now(), returning);
                match task.happen(Happening::Input(alive)).await {
                    Effect::End => break LiveEnd::Ended,
                    // A stalled pull (ffmpeg still connected, nothing new) is not waited out:
                    // the ingest starts again from a freshly resolved stream, and again now and
                    // then while the grace lasts.
                    Effect::InputLost => restarts.now(ingest.as_ref()),
                    _ if !alive => restarts.every(INPUT_RESTART_EVERY, ingest.as_ref()),
                    _ => {}
                }
                if task.happen(Happening::Tick).await == Effect::End { break LiveEnd::Ended; }
                let found = preflight.check(&task.backend.headers(), &input.borrow(), alive, Instant::now());
                if task.backend.is_held() && (found.settled || hold_until.is_some_and(|until| Instant::now() >= until)) {
                    tracing::info!(settled = found.settled, "the source's checks are done: the destinations connect");
                    task.backend.open();
                }
                task.preflight(found, ingest.as_ref()).await;
                task.source_warnings = preflight.warnings().to_vec();
                task.publish(&status, ingest.as_ref(), push_point.as_deref());
                for event in std::mem::take(&mut task.health_events) { task.record(event).await; }
                if let Some(ingest) = &ingest { task.note_ingest_problem(ingest).await; }
            }
            _ = reconcile.tick() => task.reconcile().await,
            () = nudge.notified() => task.reconcile().await,
            Some((account, outcome)) = prepared.recv() => task.prepared(account, outcome).await,
            (kind, message) = backend_events.next() => task.event(kind, message).await,
            Some(event) = async { match slate_events.as_mut() { Some(events) => events.recv().await, None => std::future::pending().await } } => {
                task.slate(event).await;
            }
            Some(request) = requests.recv() => {
                if request.control == Control::Stop {
                    let by = request.by.clone();
                    request.answer(Ok(format!("Restreaming of “{}” stopped", task.live.title)));
                    task.stopped_by(&by).await;
                    break LiveEnd::Stopped;
                }
                task.carry_out(request).await;
            }
        }
    };
    if end == LiveEnd::Ended {
        task.event(EventKind::LiveStateChanged, format!("Live ended: “{}”", task.live.title)).await;
    }
    if let Some(ingest) = &ingest {
        ingest.stop();
    }
    if let Some(point) = &push_point {
        point.detach(&task.backend.feed());
    }
    task.preparing_stop.cancel();
    task.health.stop();
    task.shut_down(&mut backend_events).await;
    task.store_tally().await;
    status.send_modify(|s| {
        s.live = None;
        s.destinations.clear();
        (s.ingest_state, s.ingest_error, s.ingest_restarts) = (None, None, 0);
        (s.input_publishing, s.input_bps, s.input_bytes) = (false, 0, 0);
    });
    end
}

/// Starts pulling the live from YouTube into the backend's input.
async fn start_ingest(
    parts: &EngineParts,
    detected: &LiveNow,
    backend: &Backend,
    silent_audio: crate::ingest::SilentAudio,
    stop: &CancellationToken,
) -> Ingest {
    let manifest = detected.hls_manifest_url.as_deref().and_then(|u| Url::parse(u).ok());
    let source = LiveStream::new(
        &detected.video_id,
        parts.source.live_page.clone(),
        crate::youtube::detect::watch_page(&parts.source.youtube_base, &detected.video_id),
        parts.source.youtube.clone(),
        parts.source.resolver.clone(),
        manifest,
    );
    let profile = control::next_profile(&parts.store, parts.source.ingest.profile).await;
    let config = IngestConfig { profile, silent_audio, ..parts.source.ingest.clone() };
    Ingest::start(config, Arc::new(source), backend.feed(), stop)
}

impl LiveTask<'_> {
    /// Feeds the state machine; stores and announces what changed.
    async fn happen(&mut self, what: Happening) -> Effect {
        let (changed, effect) = self.machine.apply(what, Instant::now());
        match effect {
            Effect::InputLost => {
                let secs = self.parts.timing.grace.as_secs();
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
            if let Err(error) = self.parts.store.put_live(&self.live).await {
                tracing::warn!(%error, "could not store the live's state");
            }
            tracing::info!(video = %self.live.video_id, phase = %self.live.state, "live phase");
        }
        effect
    }

    /// Brings the fan-out's destinations in line with the store; the accounts that must be
    /// prepared first are prepared by a task beside the loop, each outcome coming back on
    /// `self.prepared`.
    async fn reconcile(&mut self) {
        let parts = self.parts;
        let (events, joining) = self.destinations.reconcile(&parts.store, &parts.cipher, parts.preparer.is_some(), &self.backend).await;
        for event in events {
            self.record(event).await;
        }
        if let Some(preparer) = parts.preparer.clone().filter(|_| !joining.is_empty()) {
            let (live, done) = (self.live_for(), self.prepared_sender.clone());
            let stop = self.preparing_stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = preparer.prepare_each(&live, joining, done) => {}
                }
            });
        }
        self.health.follow(&self.destinations);
        if (self.destinations.peak, self.destinations.failures) != self.stored_tally {
            self.store_tally().await;
        }
    }

    /// One account's preparation came back.
    async fn prepared(&mut self, account: AccountId, outcome: super::prepare::Outcome) {
        if let Some(event) = self.destinations.prepared(account, outcome, &self.backend) {
            self.record(event).await;
        }
        self.health.follow(&self.destinations);
        if !self.destinations.is_preparing() {
            // The first round is done: Nimble may sync its rules now (a resumed live's leftover
            // rules are adopted rather than removed first). Later calls do nothing.
            self.backend.begin();
        }
    }

    fn live_for(&self) -> LiveFor {
        LiveFor { video_id: self.live.video_id.clone(), facts: self.facts.clone() }
    }

    /// Stores the live's peak destinations and failures.
    async fn store_tally(&mut self) {
        self.live.peak_destinations = self.destinations.peak;
        self.live.failures = self.destinations.failures;
        self.stored_tally = (self.live.peak_destinations, self.live.failures);
        if let Err(error) = self.parts.store.put_live(&self.live).await {
            tracing::warn!(%error, "could not store the live's tally");
        }
    }

    /// Ends the live at an admin's request, through the state machine (stored as ended), and
    /// keeps it stopped.
    async fn stopped_by(&mut self, by: &str) {
        self.happen(Happening::Stop).await;
        control::hold_live(&self.parts.store, Some(&self.live.video_id)).await;
        self.event(EventKind::AdminAction, format!("Restreaming of “{}” stopped by admin {by}", self.live.title)).await;
    }

    /// Carries out a request other than stop, and answers it.
    async fn carry_out(&mut self, request: Request) {
        let outcome = match &request.control {
            Control::Retry(id) => self.retry(id, &request.by).await,
            Control::Retitle => self.retitle(&request.by).await,
            Control::Start => Err(ControlError::AlreadyRestreaming),
            Control::Stop => Err(ControlError::NotRestreaming),
        };
        request.answer(outcome);
    }

    async fn retry(&mut self, id: &DestinationId, by: &str) -> Result<String, ControlError> {
        let name = self.destinations.name_of(id).ok_or(ControlError::UnknownDestination)?;
        if self.destinations.retry(&self.backend, id) {
            self.event(EventKind::AdminAction, format!("{name}: reconnected now by admin {by}")).await;
            return Ok(format!("{name} is reconnecting"));
        }
        if id.account().is_some_and(|account| self.destinations.forget_failure(account)) {
            self.event(EventKind::AdminAction, format!("{name}: prepared again at the request of admin {by}")).await;
            self.reconcile().await;
            return Ok(format!("{name} was prepared again"));
        }
        Err(ControlError::UnknownDestination)
    }

    /// Sets every streamed account's titles again, in the background (500 accounts take a
    /// while; the live goes on meanwhile).
    async fn retitle(&mut self, by: &str) -> Result<String, ControlError> {
        let preparer = self.parts.preparer.clone().ok_or(ControlError::NoRestream)?;
        let ids = self.destinations.joined_accounts();
        let accounts: Vec<_> = match self.parts.store.accounts().await {
            Ok(accounts) => accounts.into_iter().filter(|a| ids.contains(&a.id)).collect(),
            Err(error) => {
                tracing::warn!(%error, "cannot read the accounts to title them again");
                Vec::new()
            }
        };
        let count = accounts.len();
        self.event(EventKind::AdminAction, format!("Titles set again for {count} accounts by admin {by}")).await;
        let live = self.live_for();
        tokio::spawn(async move { preparer.retitle_all(&live, accounts).await });
        Ok(format!("Setting the titles of {count} accounts again"))
    }

    fn publish(&mut self, status: &watch::Sender<DashboardStatus>, ingest: Option<&Ingest>, push: Option<&crate::relay::push::PushPoint>) {
        let mut destinations = self.destinations.rows(self.backend.statuses());
        let health_events = self.health.fill(&mut destinations, &self.destinations, Instant::now());
        self.health_events.extend(health_events);
        let live = LiveSummary {
            video_id: self.live.video_id.clone(),
            title: self.live.title.clone(),
            url: self.facts.url.clone(),
            thumbnail_url: self.thumbnail.clone(),
            phase: self.live.state,
            phase_secs: self.phase_since.elapsed().as_secs(),
        };
        let input = self.backend.input().borrow().clone();
        let ingest = ingest.map(|ingest| ingest.status().borrow().clone());
        let pushed = push.is_some_and(|push| push.is_feeding(&self.backend.feed()));
        status.send_modify(|s| {
            s.live = Some(live);
            s.destinations = destinations;
            s.input_publishing = input.publishing;
            s.input_bps = input.bitrate_bps;
            s.input_bytes = input.bytes_received;
            s.input_pushed = pushed;
            s.input_slate = input.slate;
            s.source_warnings = self.source_warnings.clone();
            s.ingest_state = ingest.as_ref().map(|ingest| ingest.state);
            s.ingest_error = ingest.as_ref().and_then(|ingest| ingest.last_error.clone());
            s.ingest_restarts = ingest.as_ref().map_or(0, |ingest| ingest.restarts);
            s.ingest_problem = ingest.and_then(|ingest| ingest.problem);
        });
    }

    /// Records what the pre-flight checks found; pulls again with silent audio when asked.
    async fn preflight(&self, found: super::preflight::Found, ingest: Option<&Ingest>) {
        if let Some(warnings) = found.changed {
            let message = match warnings.as_slice() {
                [] => "The source's checks pass".to_string(),
                list => format!("The source's checks: {}", list.join("; ")),
            };
            self.event(EventKind::SourceCheck, message).await;
        }
        if found.add_silence
            && let Some(ingest) = ingest
        {
            self.event(EventKind::SourceCheck, "The source has no audio: pulling it again with a silent audio track".into()).await;
            ingest.restart();
        }
    }

    /// Records what the slate did.
    async fn slate(&self, event: crate::relay::slate::SlateEvent) {
        use crate::relay::slate::SlateEvent;
        let message = match event {
            SlateEvent::On => "No source sends: the destinations get the slate".to_string(),
            SlateEvent::Off(after) => format!("The source is back after {:.1} s: the slate is off", after.as_secs_f64()),
            SlateEvent::Unavailable(why) => format!("No slate for this live ({why}): destinations get nothing while the source is gone"),
        };
        self.event(EventKind::Slate, message).await;
    }

    /// Records what stands between the ingest and the stream, once each time it changes.
    async fn note_ingest_problem(&mut self, ingest: &Ingest) {
        let problem = ingest.status().borrow().problem.clone();
        let kind = problem.as_ref().map(|p| p.problem);
        if kind != self.ingest_problem {
            self.ingest_problem = kind;
            if let Some(problem) = problem {
                tracing::warn!(problem = %problem.problem, "{}", problem.detail);
                self.event(EventKind::SourceProblem, problem.message()).await;
            }
        }
    }

    /// Stops the fan-out (Nimble: Fanout's rules removed) and records what it reported.
    async fn shut_down(&self, events: &mut BackendEvents) {
        self.backend.shutdown().await;
        for (kind, message) in events.drain() {
            self.event(kind, message).await;
        }
    }

    async fn event(&self, kind: EventKind, message: String) {
        self.record(NewEvent::now(kind, message)).await;
    }

    /// Records an event of this live.
    async fn record(&self, mut event: NewEvent) {
        event.video_id = Some(self.live.video_id.clone());
        app::store::note(self.parts.store.as_ref(), event).await;
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
    app::store::note(store.as_ref(), event).await;
}
