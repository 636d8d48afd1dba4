//! The live engine: watches the channel (`youtube::detect`), and for each live runs one session
//! ([`runner`]): titles and keys through `restream`, the pull through `ingest`, the fan-out
//! through `relay`. One live at a time — a second one seen meanwhile is recorded and left alone.
//! A live still open in the store when Fanout starts is resumed if the channel is still live
//! with it, and closed otherwise. Status flows out on a `watch` channel; nothing downstream
//! calls back up.

pub mod machine;
pub mod prepare;
pub mod runner;
pub mod status;

use std::collections::HashSet;
use std::sync::Arc;

use app::model::EventKind;
use app::store::{Live, NewEvent, now};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::youtube::detect::{self, DetectorConfig, Observation};
use runner::{SessionDeps, SessionEnd};
pub use status::EngineStatus;

/// A running engine.
#[derive(Clone)]
pub struct Engine {
    status: watch::Receiver<EngineStatus>,
    nudge: Arc<Notify>,
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
        let task = tokio::spawn(supervise(detector, Arc::new(deps), status, Arc::clone(&nudge), stop));
        Self { status: receiver, nudge, task: Arc::new(std::sync::Mutex::new(Some(task))) }
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
    if let Err(error) = deps.store.append_event(NewEvent::now(kind, message)).await {
        tracing::warn!(%error, "could not record an event");
    }
}

async fn supervise(
    detector: DetectorConfig,
    deps: Arc<SessionDeps>,
    status: watch::Sender<EngineStatus>,
    nudge: Arc<Notify>,
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
    let mut running: Option<(String, JoinHandle<SessionEnd>)> = None;
    let mut ended: HashSet<String> = HashSet::new();
    let mut second_lives: HashSet<String> = HashSet::new();
    let mut last_problem: Option<String> = None;
    loop {
        let session_done = async {
            match running.as_mut() {
                Some((_, task)) => task.await.unwrap_or(SessionEnd::Interrupted),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            end = session_done => {
                if let Some((video, _)) = running.take()
                    && end == SessionEnd::Ended
                {
                    ended.insert(video);
                }
                // The page may already show the next live.
                observations.mark_changed();
            }
            changed = observations.changed() => {
                if changed.is_err() { break; }
                let Some(observation) = observations.borrow_and_update().clone() else { continue };
                status.send_modify(|s| s.detection = Some(describe(&observation)));
                match observation {
                    Observation::Live(live) => match &running {
                        Some((video, _)) if *video != live.video_id => {
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
                            let video = live.video_id.clone();
                            let task = tokio::spawn(runner::run(Arc::clone(&deps), live, resumed, Arc::clone(&nudge), status.clone(), stop.child_token()));
                            running = Some((video, task));
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
    if let Some((_, task)) = running.take() {
        let _ = task.await;
    }
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
