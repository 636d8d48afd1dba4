//! The dashboard's data: the engine's status (the shared [`DashboardStatus`], published as it
//! is) with the capacity plan added, for the `admin_dashboard` server function and for `GET /admin/status/stream`, a Server-Sent
//! Events stream that sends it again whenever it changes (at most once a second) — so the page
//! is never more than about a second behind the engine, without reloading.

use std::convert::Infallible;
use std::time::Duration;

use app::dashboard::{DashboardSource, DashboardStatus};
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use crate::admin::AdminSession;
use crate::state::AppState;

/// The dashboard's state now, from the engine when one runs, with the capacity plan.
pub fn current(state: &AppState) -> DashboardStatus {
    let mut status = match &state.engine {
        Some(engine) => engine.status().borrow().clone(),
        None => {
            DashboardStatus { watching: state.settings.youtube_channel.as_ref().map(ToString::to_string), ..DashboardStatus::default() }
        }
    };
    status.capacity = state.settings.port_mbps.map(|port| {
        let bitrate = if status.input_publishing { status.input_bps } else { 0 };
        app::capacity::plan(port, status.sending(), bitrate, status.egress_bps())
    });
    status
}

/// The source the server functions read.
pub fn source(state: &AppState) -> DashboardSource {
    let state = state.clone();
    DashboardSource(std::sync::Arc::new(move || current(&state)))
}

/// How often an open stream checks that its admin is still signed in, at the least.
const SESSION_CHECK: Duration = Duration::from_secs(5);

/// `GET /admin/status/stream`: the dashboard's state as Server-Sent Events (`status` events,
/// JSON), first at once, then on every change, at most once a second — until the admin's
/// session ends (signed out, or idle: an open stream does not count as use).
pub async fn stream(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminSession>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = state.engine.as_ref().map(|engine| engine.status());
    let events = async_stream(move |mut send| async move {
        loop {
            if !state.admin.sessions.is_live(&admin) {
                return;
            }
            let status = current(&state);
            if let Ok(event) = Event::default().event("status").json_data(&status)
                && !send(event)
            {
                return;
            }
            let changed = async {
                match changes.as_mut() {
                    Some(receiver) => receiver.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            match tokio::time::timeout(SESSION_CHECK, changed).await {
                Ok(false) => return,
                Ok(true) => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(_) => {}
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// A stream fed by `producer` through a small channel (`send` returns false once the client is
/// gone).
fn async_stream<F, Fut>(producer: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(Box<dyn FnMut(Event) -> bool + Send>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(4);
    let send = Box::new(move |event: Event| sender.try_send(event).is_ok() || !sender.is_closed());
    tokio::spawn(producer(send));
    futures::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|event| (Ok(event), receiver)) })
}
