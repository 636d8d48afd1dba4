//! The live engine: watches the channel (`youtube::detect`), and for each live runs one task
//! ([`live`]): titles and keys through `restream`, the pull through `ingest`, the fan-out
//! through the [`crate::fanout::Backend`]. One live at a time — a second one seen meanwhile is
//! recorded and left alone. A live still open in the store when Fanout starts is resumed if the
//! channel is still live with it, and closed otherwise. Status flows out on a `watch` channel;
//! nothing downstream calls back up.
//!
//! # Layout
//!
//! - [`machine`] — a live's life as pure state (detected → preparing → streaming ⇄ grace →
//!   ended), fed what happens, answering what to do.
//! - [`live`] — one live's task: the backend, the ingest, the loop that follows the input,
//!   reconciles destinations and carries out the admin's requests.
//! - [`destinations`] — which destinations a live has: a pure [`destinations::plan`] from the
//!   store's accounts and direct destinations, and its application to the backend.
//! - [`prepare`] — an account made ready (token, titles, stream key), beside the live's loop.
//! - [`control`] — the admin's requests to the engine, and what outlives a live.
//! - [`status`] — what the engine publishes for the dashboard and `/metrics`.

pub mod control;
pub mod destinations;
pub mod live;
pub mod machine;
pub mod prepare;
pub mod status;
mod upkeep;

use std::collections::HashSet;
use std::sync::Arc;

use app::model::EventKind;
use app::store::{Live, NewEvent, now};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::youtube::detect::{self, DetectorConfig, Observation};
use control::{Control, ControlError, Request};
use live::{LiveEnd, Opening};
pub use status::DashboardStatus;

/// What every live of the engine runs on. Each part goes where it is used: the store and the
/// cipher to the destinations, the preparer to the accounts, the backend's setup to the fan-out,
/// the source's to the ingest.
pub struct EngineParts {
    /// The store.
    pub store: app::store::SharedStore,
    /// Opens the stream keys of direct destinations.
    pub cipher: Arc<app::secrets::Cipher>,
    /// Prepares destinations (`None` while no Restream app is configured).
    pub preparer: Option<prepare::Preparer>,
    /// What fans the lives out.
    pub backend: crate::fanout::Setup,
    /// How the live is pulled.
    pub source: live::SourceSetup,
    /// How long a live waits for lost input, and how often its destinations are reconciled.
    pub timing: live::Timing,
}

impl std::fmt::Debug for EngineParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineParts").finish_non_exhaustive()
    }
}

/// Why the engine could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// YouTube's client could not be made (the cookies file, the proxy).
    #[error(transparent)]
    Youtube(#[from] crate::youtube::client::ClientError),
    /// The proxy could not be given to the children.
    #[error("cannot forward to the proxy: {0}")]
    Proxy(std::io::Error),
    /// The client of Nimble's management API could not be built.
    #[error(transparent)]
    Nimble(#[from] fanout_nimble::NimbleError),
}

/// A running engine.
#[derive(Clone)]
pub struct Engine {
    status: watch::Receiver<DashboardStatus>,
    nudge: Arc<Notify>,
    requests: mpsc::Sender<Request>,
    task: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

/// What the engine is built from: the validated settings and the services the web face shares
/// with it.
#[derive(Clone)]
pub struct Services {
    /// The store.
    pub store: app::store::SharedStore,
    /// The cipher tokens and keys are sealed with.
    pub cipher: Arc<app::secrets::Cipher>,
    /// Restream's OAuth client, when an app is configured.
    pub oauth: Option<crate::restream::oauth::RestreamOAuth>,
    /// Restream's API client.
    pub api: crate::restream::api::RestreamApi,
    /// The per-account token locks (shared with the web handlers).
    pub locks: crate::restream::tokens::AccountLocks,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Engine {
    /// The engine the settings describe — `None` when no channel is watched — started and
    /// running until `stop`.
    pub async fn from_settings(
        settings: &crate::config::Settings,
        services: Services,
        stop: &CancellationToken,
    ) -> Result<Option<Self>, EngineError> {
        let Some(channel) = settings.youtube_channel.clone() else { return Ok(None) };
        let engine = &settings.engine;
        let detector = DetectorConfig { base: engine.youtube_url.clone(), channel, poll: engine.poll };
        let preparer = services.oauth.clone().map(|oauth| prepare::Preparer {
            store: services.store.clone(),
            tokens: crate::restream::tokens::TokenKeeper::new(
                services.store.clone(),
                Arc::clone(&services.cipher),
                oauth,
                services.locks.clone(),
            ),
            api: services.api.clone(),
            templates: crate::restream::titles::TitleTemplates {
                title: engine.title_template.clone(),
                description: engine.description_template.clone(),
            },
            ingest_base: engine.restream_ingest.clone(),
            concurrency: prepare::CONCURRENCY,
        });
        let parts = EngineParts {
            store: services.store,
            cipher: services.cipher,
            preparer,
            backend: crate::fanout::Setup::from_settings(&engine.backend)?,
            source: source_setup(&engine.source, &detector, stop).await?,
            timing: live::Timing { grace: engine.grace, ..live::Timing::default() },
        };
        Ok(Some(Self::start(detector, parts, stop.child_token())))
    }

    /// Starts watching the channel; runs until `stop`.
    pub fn start(detector: DetectorConfig, parts: EngineParts, stop: CancellationToken) -> Self {
        let status = watch::Sender::new(DashboardStatus { watching: Some(detector.channel.to_string()), ..DashboardStatus::default() });
        let receiver = status.subscribe();
        let nudge = Arc::new(Notify::new());
        let (requests, received) = mpsc::channel(16);
        let task = tokio::spawn(supervise(detector, Arc::new(parts), status, Arc::clone(&nudge), received, stop));
        Self { status: receiver, nudge, requests, task: Arc::new(std::sync::Mutex::new(Some(task))) }
    }

    /// Carries out an admin's request (`by` names them in the event); answers what was done.
    pub async fn control(&self, control: Control, by: &str) -> Result<String, ControlError> {
        control::ask(&self.requests, control, by).await
    }

    /// Watches the engine's status.
    pub fn status(&self) -> watch::Receiver<DashboardStatus> {
        self.status.clone()
    }

    /// Tells the engine accounts changed (a sign-up, a pause): destinations are reconciled now.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Waits for the engine to finish (after its stop token was cancelled).
    pub async fn finished(&self) {
        let task = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// How lives are pulled: the ingest, the resolver with the operator's levers, the page client —
/// the proxy given to the children as they may see it (through the forwarder when it has a
/// password).
pub(crate) async fn source_setup(
    source: &crate::config::SourceSettings,
    detector: &DetectorConfig,
    stop: &CancellationToken,
) -> Result<live::SourceSetup, EngineError> {
    let child_proxy = match &source.proxy {
        Some(proxy) => Some(crate::youtube::proxy::for_children(proxy, stop.child_token()).await.map_err(EngineError::Proxy)?),
        None => None,
    };
    let child_proxy = child_proxy.map(|p| p.url().clone());
    let yt_dlp = crate::youtube::ytdlp::YtDlp {
        program: source.yt_dlp.clone(),
        extra_args: source.yt_dlp_args.clone(),
        js_runtime: source.js_runtime.clone(),
        cookies: source.cookies.clone(),
        proxy: child_proxy.clone(),
    };
    let resolver = match source.pull {
        crate::ingest::PullMode::Hls => crate::youtube::resolve::Resolver::Page,
        _ => crate::youtube::resolve::Resolver::YtDlp { yt_dlp: Arc::new(yt_dlp), page_first: source.page_manifest },
    };
    Ok(live::SourceSetup {
        ingest: crate::ingest::IngestConfig {
            ffmpeg: source.ffmpeg.clone(),
            mode: source.pull,
            profile: source.transcode,
            proxy: child_proxy,
        },
        youtube_base: detector.base.clone(),
        channel: detector.channel.clone(),
        live_page: detector.live_page(),
        youtube: crate::youtube::client::youtube_client(source.cookies.as_deref(), source.proxy.as_ref())?,
        resolver,
        yt_dlp_auto_update: source.yt_dlp_auto_update,
        data_api: match &source.data_api {
            Some((base, key)) => {
                let http = crate::youtube::client::api_client(source.proxy.as_ref())?;
                Some(Arc::new(crate::youtube::data_api::DataApi::new(http, base.clone(), key.clone(), detector.channel.clone())))
            }
            None => None,
        },
    })
}

async fn record(parts: &EngineParts, kind: EventKind, message: String) {
    app::store::note(parts.store.as_ref(), NewEvent::now(kind, message)).await;
}

async fn supervise(
    detector: DetectorConfig,
    parts: Arc<EngineParts>,
    status: watch::Sender<DashboardStatus>,
    nudge: Arc<Notify>,
    mut requests: mpsc::Receiver<Request>,
    stop: CancellationToken,
) {
    let mut open: Option<Live> = match parts.store.recent_lives(10).await {
        Ok(lives) => lives.into_iter().find(live::is_open),
        Err(error) => {
            tracing::warn!(%error, "cannot read past lives; nothing to resume");
            None
        }
    };
    let mut observations = detect::spawn(detector, parts.source.looker(), stop.child_token());
    let mut running: Option<Running> = None;
    // Lives not to restream again while the channel still shows them: ended, or stopped by an
    // admin (that one is kept across a restart).
    let mut ended: HashSet<String> = control::held_live(&parts.store).await.map(|v| v.0).into_iter().collect();
    let mut second_lives: HashSet<String> = HashSet::new();
    let mut last_problem: Option<app::model::SourceProblemNote> = None;
    let mut upkeep = upkeep::Upkeep::new(&parts.source);
    loop {
        let update_due = upkeep::due(upkeep.as_ref(), running.is_some());
        let task_done = async {
            match running.as_mut() {
                Some(task) => (&mut task.task).await.unwrap_or(LiveEnd::Interrupted),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = update_due => {
                if let Some(upkeep) = upkeep.as_mut() {
                    upkeep.start(&parts);
                }
            }
            Some(request) = requests.recv() => {
                let observation = observations.borrow().clone().map(|seen| seen.observation);
                let start = |live, opening| Running::start(&parts, live, opening, &nudge, &status, &stop);
                handle(request, &parts, &mut running, &mut ended, observation, start).await;
            }
            end = task_done => {
                if let Some(task) = running.take()
                    && matches!(end, LiveEnd::Ended | LiveEnd::Stopped)
                {
                    ended.insert(task.video);
                }
                // The page may already show the next live.
                observations.mark_changed();
            }
            changed = observations.changed() => {
                if changed.is_err() { break; }
                let Some(detect::Seen { observation, confirmed }) = observations.borrow_and_update().clone() else { continue };
                let problem = match &observation {
                    Observation::Live(live) => live.refusal.clone(),
                    Observation::Unreadable(problem) => Some(problem.clone()),
                    Observation::NotLive(_) | Observation::Ended(_) => None,
                };
                if let Some(note) = problem.as_ref().filter(|_| problem != last_problem) {
                    tracing::warn!(problem = %note.problem, "{}", note.detail);
                    let kind = if note.problem == app::model::SourceProblem::LayoutChanged { EventKind::DetectionProblem } else { EventKind::SourceProblem };
                    record(&parts, kind, note.message()).await;
                }
                last_problem = problem.clone();
                status.send_modify(|s| {
                    s.detection = Some(describe(&observation));
                    s.source_problem = problem;
                    match &observation {
                        Observation::Live(live) => s.on_air = Some(live.title.clone()),
                        Observation::Unreadable(_) => {}
                        Observation::NotLive(_) | Observation::Ended(_) => s.on_air = None,
                    }
                });
                let observation_video = match &observation {
                    Observation::Ended(ended) => Some(ended.video_id.clone()),
                    _ => None,
                };
                match observation {
                    Observation::Live(live) => match &running {
                        Some(task) if task.video != live.video_id => {
                            if second_lives.insert(live.video_id.clone()) {
                                let message = format!("A second live, “{}”, started while another is restreamed: it is ignored", live.title);
                                record(&parts, EventKind::SecondLiveIgnored, message).await;
                            }
                        }
                        Some(_) => {}
                        None if ended.contains(&live.video_id) => {}
                        None => {
                            let resumed = match open.take() {
                                Some(stored) if stored.video_id.0 == live.video_id => Some(stored),
                                Some(stale) => { live::close(&parts.store, stale, now()).await; None }
                                None => None,
                            };
                            let opening = resumed.map_or(Opening::New, Opening::Resumed);
                            running = Some(Running::start(&parts, live, opening, &nudge, &status, &stop));
                        }
                    },
                    Observation::NotLive(_) | Observation::Ended(_) => {
                        // YouTube's word on the end of the live restreamed, on two looks: the
                        // live ends even while its media still flows.
                        if let Some(task) = running.as_ref().filter(|_| confirmed)
                            && observation_video.as_ref().is_none_or(|video| *video == task.video)
                            && !task.youtube_ended.is_cancelled()
                        {
                            tracing::info!(video = %task.video, "YouTube says the live has ended (two looks): ending the restream");
                            task.youtube_ended.cancel();
                        }
                        if let Some(stale) = open.take() {
                            live::close(&parts.store, stale, now()).await;
                        }
                    }
                    Observation::Unreadable(_) => {}
                }
            }
        }
    }
    if let Some(task) = running.take() {
        let _ = task.task.await;
    }
}

/// The task of the live being restreamed.
struct Running {
    video: String,
    requests: mpsc::Sender<Request>,
    task: JoinHandle<LiveEnd>,
    /// Cancelled when YouTube's word on the end is confirmed.
    youtube_ended: CancellationToken,
}

impl Running {
    fn start(
        parts: &Arc<EngineParts>,
        live: crate::youtube::page::LiveNow,
        opening: Opening,
        nudge: &Arc<Notify>,
        status: &watch::Sender<DashboardStatus>,
        stop: &CancellationToken,
    ) -> Self {
        let (requests, received) = mpsc::channel(8);
        let video = live.video_id.clone();
        let youtube_ended = CancellationToken::new();
        let signals = live::Signals { nudge: Arc::clone(nudge), requests: received, youtube_ended: youtube_ended.clone() };
        let task = tokio::spawn(live::run(Arc::clone(parts), live, opening, signals, status.clone(), stop.child_token()));
        Self { video, requests, task, youtube_ended }
    }
}

/// Answers an admin's request: start here; everything else is the running task's.
async fn handle(
    request: Request,
    parts: &Arc<EngineParts>,
    running: &mut Option<Running>,
    ended: &mut HashSet<String>,
    observation: Option<Observation>,
    start: impl FnOnce(crate::youtube::page::LiveNow, Opening) -> Running,
) {
    if let Some(task) = running.as_ref() {
        if request.control == Control::Start {
            request.answer(Err(ControlError::AlreadyRestreaming));
        } else if let Err(mpsc::error::SendError(request)) = task.requests.send(request).await {
            request.answer(Err(ControlError::NotRestreaming));
        }
        return;
    }
    if request.control != Control::Start {
        return request.answer(Err(ControlError::NotRestreaming));
    }
    let Some(Observation::Live(live)) = observation else {
        return request.answer(Err(ControlError::NoLive));
    };
    ended.remove(&live.video_id);
    control::hold_live(&parts.store, None).await;
    let stored = match parts.store.live(&app::store::VideoId(live.video_id.clone())).await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::warn!(%error, "cannot read the stored live; starting it afresh");
            None
        }
    };
    let title = live.title.clone();
    let opening = match stored {
        Some(stored) => Opening::Restarted(stored, request.by.clone()),
        None => Opening::New,
    };
    *running = Some(start(live, opening));
    request.answer(Ok(format!("Restreaming “{title}” again")));
}

fn describe(observation: &Observation) -> String {
    match observation {
        Observation::Live(live) => format!("live: “{}”", live.title),
        Observation::NotLive(Some(next)) => format!("not live; next live scheduled: “{}”", next.title),
        Observation::NotLive(None) => "not live".into(),
        Observation::Ended(ended) => format!("not live; the last live “{}” has ended", ended.title),
        Observation::Unreadable(problem) => problem.detail.clone(),
    }
}
