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
//! - [`health`] — Restream's side of the destinations: a listener of its streaming updates per
//!   joined account, and the judge of both sides ("sent but not received").
//! - [`control`] — the admin's requests to the engine, and what outlives a live.
//! - [`push`] — the push ingest: its listener, its key, and which live a publish starts.
//! - [`status`] — what the engine publishes for the dashboard and `/metrics`.
//! - [`recorder`] — each live's report: its status sampled every 10 s into the store, beside
//!   the engine (it only reads the status).

pub mod control;
pub mod destinations;
pub mod health;
mod input_watch;
pub mod live;
pub mod machine;
mod preflight;
pub mod prepare;
pub mod push;
pub mod recorder;
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
    /// The push ingest, when a broadcaster may push the live (`FANOUT_SOURCE=push|both`).
    pub push: Option<push::PushSetup>,
    /// The slate through gaps in the input, when on.
    pub slate: Option<crate::relay::slate::SlateConfig>,
    /// Restream's streaming updates, listened to for every account a live streams to (`None`
    /// while no Restream app is configured).
    pub updates: Option<Arc<crate::restream::updates::UpdatesSetup>>,
}

impl EngineParts {
    /// Whether lives are pulled from YouTube.
    fn pulls(&self) -> bool {
        self.push.as_ref().is_none_or(|push| push.source.pulls())
    }
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
    /// The push listener could not be opened.
    #[error("cannot listen for a pushed live on {0}: {1}")]
    PushListen(std::net::SocketAddr, std::io::Error),
}

/// A running engine.
#[derive(Clone)]
pub struct Engine {
    push: Option<push::PushSetup>,
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
        let updates = preparer.as_ref().map(|preparer| {
            Arc::new(crate::restream::updates::UpdatesSetup {
                tokens: Arc::new(preparer.tokens.clone()),
                streaming_url: engine.restream_updates.streaming.clone(),
                chat_url: engine.restream_updates.chat.clone(),
                limits: crate::restream::updates::Limits::default(),
                tls: crate::restream::updates::socket::tls_config(),
            })
        });
        let push = match engine.push.source.accepts_push() {
            true => Some(
                push::listen(&engine.push, services.store.clone(), stop.child_token())
                    .await
                    .map_err(|error| EngineError::PushListen(engine.push.listen, error))?,
            ),
            false => None,
        };
        let parts = EngineParts {
            push,
            slate: engine.slate.clone(),
            updates,
            store: services.store,
            cipher: services.cipher,
            preparer,
            backend: crate::fanout::Setup::from_settings(&engine.backend)?,
            source: {
                let mut source = source_setup(&engine.source, &detector, stop).await?;
                if engine.push.source == crate::config::SourceKind::Both {
                    source.ingest.backup_after = Some(push::FAILOVER_AFTER);
                }
                source
            },
            timing: live::Timing { grace: engine.grace, ..live::Timing::default() },
        };
        let push = parts.push.clone();
        Ok(Some(Self { push, ..Self::start(detector, parts, stop.child_token()) }))
    }

    /// Starts watching the channel; runs until `stop`.
    pub fn start(detector: DetectorConfig, parts: EngineParts, stop: CancellationToken) -> Self {
        let status = watch::Sender::new(DashboardStatus { watching: Some(detector.channel.to_string()), ..DashboardStatus::default() });
        let receiver = status.subscribe();
        let nudge = Arc::new(Notify::new());
        let (requests, received) = mpsc::channel(16);
        tokio::spawn(recorder::record(parts.store.clone(), status.subscribe(), stop.child_token()));
        let task = tokio::spawn(supervise(detector, Arc::new(parts), status, Arc::clone(&nudge), received, stop));
        Self { push: None, status: receiver, nudge, requests, task: Arc::new(std::sync::Mutex::new(Some(task))) }
    }

    /// The push ingest, when a broadcaster may push the live.
    pub fn push(&self) -> Option<&push::PushSetup> {
        self.push.as_ref()
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
            backup_after: None,
            silent_audio: crate::ingest::SilentAudio::default(),
        },
        youtube_base: detector.base.clone(),
        channel: detector.channel.clone(),
        live_page: detector.live_page(),
        youtube: crate::youtube::client::youtube_client(source.cookies.as_deref(), source.proxy.as_ref())?,
        resolver,
        yt_dlp_auto_update: source.yt_dlp_auto_update,
        add_silent_audio: source.add_silent_audio,
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
    let mut publisher = parts.push.as_ref().map(|push| push.point.publisher());
    // A publisher waiting for YouTube to show its live (for the titles), until then.
    let mut push_waiting: Option<tokio::time::Instant> = None;
    loop {
        let update_due = upkeep::due(upkeep.as_ref(), running.is_some());
        let publisher_changed = async {
            match publisher.as_mut() {
                Some(publisher) => publisher.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let push_wait_over = async {
            match push_waiting {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
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
            alive = publisher_changed => {
                if !alive { publisher = None; }
                let publishing = publisher.as_ref().is_some_and(|p| p.borrow().is_some());
                push_waiting = (publishing && running.is_none()).then(|| tokio::time::Instant::now() + parts.timing.push_title_wait);
                if publishing && running.is_none() {
                    let start = |live, opening, on_youtube| Running::start(&parts, live, opening, on_youtube, &nudge, &status, &stop);
                    running = start_pushed(&parts, &observations, &mut open, &ended, false, start).await;
                    if running.is_some() { push_waiting = None; }
                }
            }
            () = push_wait_over => {
                push_waiting = None;
                if running.is_none() && publisher.as_ref().is_some_and(|p| p.borrow().is_some()) {
                    let start = |live, opening, on_youtube| Running::start(&parts, live, opening, on_youtube, &nudge, &status, &stop);
                    running = start_pushed(&parts, &observations, &mut open, &ended, true, start).await;
                }
            }
            Some(request) = requests.recv() => {
                let observation = observations.borrow().clone().map(|seen| seen.observation);
                let start = |live, opening| Running::start(&parts, live, opening, parts.pulls(), &nudge, &status, &stop);
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
                        Some(task) if task.video != live.video_id && !task.on_youtube => {
                            tracing::info!(video = %live.video_id, "YouTube shows a live while a pushed live of Fanout's own is restreamed");
                        }
                        Some(task) if task.video != live.video_id => {
                            if second_lives.insert(live.video_id.clone()) {
                                let message = format!("A second live, “{}”, started while another is restreamed: it is ignored", live.title);
                                record(&parts, EventKind::SecondLiveIgnored, message).await;
                            }
                        }
                        Some(_) => {}
                        None if ended.contains(&live.video_id) => {}
                        // Push only: a live starts when the publisher does — now, if one waits.
                        None if !parts.pulls() => {
                            if push_waiting.take().is_some() {
                                let start = |live, opening, on_youtube| Running::start(&parts, live, opening, on_youtube, &nudge, &status, &stop);
                                running = start_pushed(&parts, &observations, &mut open, &ended, false, start).await;
                            }
                        }
                        None => {
                            let resumed = match open.take() {
                                Some(stored) if stored.video_id.0 == live.video_id => Some(stored),
                                Some(stale) => { live::close(&parts.store, stale, now()).await; None }
                                None => None,
                            };
                            let opening = resumed.map_or(Opening::New, Opening::Resumed);
                            running = Some(Running::start(&parts, live, opening, true, &nudge, &status, &stop));
                        }
                    },
                    Observation::NotLive(_) | Observation::Ended(_) => {
                        // YouTube's word on the end of the live restreamed, on two looks: the
                        // live ends even while its media still flows.
                        if let Some(task) = running.as_ref().filter(|task| confirmed && task.on_youtube)
                            && observation_video.as_ref().is_none_or(|video| *video == task.video)
                            && !task.youtube_ended.is_cancelled()
                        {
                            tracing::info!(video = %task.video, "YouTube says the live has ended (two looks): ending the restream");
                            task.youtube_ended.cancel();
                        }
                        // (A pushed live may still resume: its publisher will tell.)
                        if parts.pulls() && let Some(stale) = open.take() {
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

/// Starts the live a publish starts, if it is time (`waited`: YouTube had its chance to show
/// it); a stale open live is closed.
async fn start_pushed(
    parts: &Arc<EngineParts>,
    observations: &watch::Receiver<Option<detect::Seen>>,
    open: &mut Option<Live>,
    ended: &HashSet<String>,
    waited: bool,
    start: impl FnOnce(crate::youtube::page::LiveNow, Opening, bool) -> Running,
) -> Option<Running> {
    let push = parts.push.as_ref()?;
    let observation = observations.borrow().clone().map(|seen| seen.observation);
    let pushed = push::pushed_start(observation.as_ref(), open.as_ref(), ended, &push.title, waited, now())?;
    let opening = match open.take() {
        Some(stored) if pushed.resumes => Opening::Resumed(stored),
        Some(stale) => {
            live::close(&parts.store, stale, now()).await;
            Opening::New
        }
        None => Opening::New,
    };
    tracing::info!(video = %pushed.live.video_id, on_youtube = pushed.on_youtube, "a pushed stream starts the live");
    Some(start(pushed.live, opening, pushed.on_youtube))
}

/// The task of the live being restreamed.
struct Running {
    video: String,
    /// Whether it is a live YouTube shows (not a pushed live of Fanout's own).
    on_youtube: bool,
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
        on_youtube: bool,
        nudge: &Arc<Notify>,
        status: &watch::Sender<DashboardStatus>,
        stop: &CancellationToken,
    ) -> Self {
        let (requests, received) = mpsc::channel(8);
        let video = live.video_id.clone();
        let youtube_ended = CancellationToken::new();
        let signals = live::Signals { nudge: Arc::clone(nudge), requests: received, youtube_ended: youtube_ended.clone() };
        let pulled = on_youtube && parts.pulls();
        let task = tokio::spawn(live::run(Arc::clone(parts), live, opening, pulled, signals, status.clone(), stop.child_token()));
        Self { video, on_youtube, requests, task, youtube_ended }
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
