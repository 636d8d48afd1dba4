//! The live engine: watches the channel (`youtube::detect`), and for each live runs one session
//! ([`runner`]): titles and keys through `restream`, the pull through `ingest`, the fan-out
//! through `relay` — or Nimble Streamer's republish rules (`backend`, `nimble`). One live at
//! a time — a second one seen meanwhile is recorded and left alone.
//! A live still open in the store when Fanout starts is resumed if the channel is still live
//! with it, and closed otherwise. Status flows out on a `watch` channel; nothing downstream
//! calls back up.

pub mod backend;
pub mod control;
pub mod destinations;
pub mod machine;
pub mod nimble;
pub mod prepare;
pub mod runner;
pub mod status;

use std::collections::HashSet;
use std::sync::Arc;

use app::model::EventKind;
use app::store::{Live, NewEvent, now};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::youtube::detect::{self, DetectorConfig, Observation};
use control::{Control, ControlError, Request};
use runner::{Opening, SessionDeps, SessionEnd};
pub use status::EngineStatus;

/// A running engine.
#[derive(Clone)]
pub struct Engine {
    status: watch::Receiver<EngineStatus>,
    nudge: Arc<Notify>,
    requests: mpsc::Sender<Request>,
    task: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Engine {
    /// Starts watching the channel; runs until `stop`.
    pub fn start(detector: DetectorConfig, deps: SessionDeps, stop: CancellationToken) -> Self {
        let status = watch::Sender::new(EngineStatus { watching: Some(detector.channel.to_string()), ..EngineStatus::default() });
        let receiver = status.subscribe();
        let nudge = Arc::new(Notify::new());
        let (requests, received) = mpsc::channel(16);
        let task = tokio::spawn(supervise(detector, Arc::new(deps), status, Arc::clone(&nudge), received, stop));
        Self { status: receiver, nudge, requests, task: Arc::new(std::sync::Mutex::new(Some(task))) }
    }

    /// Carries out an admin's request (`by` names them in the event); answers what was done.
    pub async fn control(&self, control: Control, by: &str) -> Result<String, ControlError> {
        control::ask(&self.requests, control, by).await
    }

    /// Watches the engine's status.
    pub fn status(&self) -> watch::Receiver<EngineStatus> {
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

async fn record(deps: &SessionDeps, kind: EventKind, message: String) {
    app::store::note(deps.store.as_ref(), NewEvent::now(kind, message)).await;
}

async fn supervise(
    detector: DetectorConfig,
    deps: Arc<SessionDeps>,
    status: watch::Sender<EngineStatus>,
    nudge: Arc<Notify>,
    mut requests: mpsc::Receiver<Request>,
    stop: CancellationToken,
) {
    let mut open: Option<Live> = match deps.store.recent_lives(10).await {
        Ok(lives) => lives.into_iter().find(runner::is_open),
        Err(error) => {
            tracing::warn!(%error, "cannot read past lives; nothing to resume");
            None
        }
    };
    let mut observations = detect::spawn(detector, deps.youtube.clone(), stop.child_token());
    let mut running: Option<Running> = None;
    // Lives not to restream again while the channel still shows them: ended, or stopped by an
    // admin (that one is kept across a restart).
    let mut ended: HashSet<String> = control::held_live(&deps.store).await.map(|v| v.0).into_iter().collect();
    let mut second_lives: HashSet<String> = HashSet::new();
    let mut last_problem: Option<String> = None;
    loop {
        let session_done = async {
            match running.as_mut() {
                Some(session) => (&mut session.task).await.unwrap_or(SessionEnd::Interrupted),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            Some(request) = requests.recv() => {
                let observation = observations.borrow().clone();
                let start = |live, opening| Running::start(&deps, live, opening, &nudge, &status, &stop);
                handle(request, &deps, &mut running, &mut ended, observation, start).await;
            }
            end = session_done => {
                if let Some(session) = running.take()
                    && matches!(end, SessionEnd::Ended | SessionEnd::Stopped)
                {
                    ended.insert(session.video);
                }
                // The page may already show the next live.
                observations.mark_changed();
            }
            changed = observations.changed() => {
                if changed.is_err() { break; }
                let Some(observation) = observations.borrow_and_update().clone() else { continue };
                status.send_modify(|s| {
                    s.detection = Some(describe(&observation));
                    match &observation {
                        Observation::Live(live) => s.on_air = Some(live.title.clone()),
                        Observation::Unreadable(_) => {}
                        Observation::NotLive(_) | Observation::Ended(_) => s.on_air = None,
                    }
                });
                match observation {
                    Observation::Live(live) => match &running {
                        Some(session) if session.video != live.video_id => {
                            if second_lives.insert(live.video_id.clone()) {
                                let message = format!("A second live, “{}”, started while another is restreamed: it is ignored", live.title);
                                record(&deps, EventKind::SecondLiveIgnored, message).await;
                            }
                        }
                        Some(_) => {}
                        None if ended.contains(&live.video_id) => {}
                        None => {
                            let resumed = match open.take() {
                                Some(stored) if stored.video_id.0 == live.video_id => Some(stored),
                                Some(stale) => { runner::close(&deps.store, stale, now()).await; None }
                                None => None,
                            };
                            let opening = resumed.map_or(Opening::New, Opening::Resumed);
                            running = Some(Running::start(&deps, live, opening, &nudge, &status, &stop));
                        }
                    },
                    Observation::NotLive(_) | Observation::Ended(_) => {
                        last_problem = None;
                        if let Some(stale) = open.take() {
                            runner::close(&deps.store, stale, now()).await;
                        }
                    }
                    Observation::Unreadable(reason) => {
                        if last_problem.as_deref() != Some(reason.as_str()) {
                            tracing::warn!("{reason}");
                            record(&deps, EventKind::DetectionProblem, reason.clone()).await;
                            last_problem = Some(reason);
                        }
                    }
                }
            }
        }
    }
    if let Some(session) = running.take() {
        let _ = session.task.await;
    }
}

/// The session of the live being restreamed.
struct Running {
    video: String,
    requests: mpsc::Sender<Request>,
    task: JoinHandle<SessionEnd>,
}

impl Running {
    fn start(
        deps: &Arc<SessionDeps>,
        live: crate::youtube::page::LiveNow,
        opening: Opening,
        nudge: &Arc<Notify>,
        status: &watch::Sender<EngineStatus>,
        stop: &CancellationToken,
    ) -> Self {
        let (requests, received) = mpsc::channel(8);
        let video = live.video_id.clone();
        let task = tokio::spawn(runner::run(Arc::clone(deps), live, opening, Arc::clone(nudge), received, status.clone(), stop.child_token()));
        Self { video, requests, task }
    }
}

/// Answers an admin's request: start here; everything else is the running session's.
async fn handle(
    request: Request,
    deps: &Arc<SessionDeps>,
    running: &mut Option<Running>,
    ended: &mut HashSet<String>,
    observation: Option<Observation>,
    start: impl FnOnce(crate::youtube::page::LiveNow, Opening) -> Running,
) {
    if let Some(session) = running.as_ref() {
        if request.control == Control::Start {
            request.answer(Err(ControlError::AlreadyRestreaming));
        } else if let Err(mpsc::error::SendError(request)) = session.requests.send(request).await {
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
    control::hold_live(&deps.store, None).await;
    let stored = match deps.store.live(&app::store::VideoId(live.video_id.clone())).await {
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
        Observation::Unreadable(reason) => reason.clone(),
    }
}
