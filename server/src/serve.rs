//! `fanout serve` and `fanout engine`: validate the configuration, assemble the state, start the
//! live engine (when a channel is watched), listen, and serve until SIGTERM/SIGINT; then drain
//! in-flight requests and let the engine stop (a live in progress is left to be resumed).

use std::time::Duration;

use anyhow::Context;
use app::model::EventKind;
use app::store::NewEvent;

use crate::config::{self, ConfigArgs, Level};
use crate::state::AppState;
use crate::{http, shutdown, telemetry};

/// How long in-flight requests may take to finish after a stop signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which face the process shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Pages, server functions, OAuth — and the engine.
    Web,
    /// The engine only, with health, readiness and metrics (for a VPS that only streams).
    EngineOnly,
}

/// Runs until a stop signal.
pub async fn run(args: &ConfigArgs, face: Face) -> anyhow::Result<()> {
    let validated = config::validate(args);
    let report = validated.findings.report();
    let Some(settings) = validated.settings else {
        let errors: Vec<String> = validated.findings.at_least(Level::Error).map(|f| format!("{}: {}", f.subject, f.detail)).collect();
        anyhow::bail!("the configuration has errors (run `fanout check` for the full report):\n  {}", errors.join("\n  "));
    };
    telemetry::init(&settings.log, settings.log_format);
    for finding in validated.findings.at_least(Level::Warn) {
        tracing::warn!(setting = finding.subject, "{}", finding.detail);
    }

    let stop = shutdown::on_signal();
    let listener = tokio::net::TcpListener::bind(settings.listen).await.with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local = listener.local_addr().context("cannot read the bound address")?;
    let mut state = AppState::start(settings, local).await?;
    state.report = std::sync::Arc::new(report);
    crate::metrics::handle();
    state.start_engine(&stop).await?;
    if let Some(engine) = &state.engine {
        crate::metrics::export(engine.status(), stop.child_token());
        tokio::spawn(crate::notify::follow(state.notifier.clone(), engine.status(), stop.child_token()));
    }
    let mailer = crate::notify::volunteer::VolunteerMailer {
        notifier: state.notifier.clone(),
        store: state.store.clone(),
        links: state.links.clone(),
        unsubscribe: state.unsubscribe.clone(),
        public_url: state.public_url.clone(),
    };
    tokio::spawn(mailer.follow(state.engine.as_ref().map(|engine| engine.status()), stop.child_token()));
    if state.engine.is_none() && face == Face::EngineOnly {
        tracing::warn!("FANOUT_YOUTUBE_CHANNEL is not set: the engine has no channel to watch");
    }
    let public_url = state.settings.public_url.as_ref().map_or_else(|| format!("http://{local}/"), |u| u.to_string());
    record(&state, EventKind::ServerStarted, format!("Fanout {} started; serving {public_url}", env!("CARGO_PKG_VERSION"))).await;

    tracing::info!(address = %local, %public_url, store = %state.store.backend(), "listening");
    // The one line on standard output: tools (and the test world) read the bound address here.
    println!("Fanout is listening on http://{local}/");

    let janitor = tokio::spawn(janitor(state.clone(), stop.clone()));
    // A node of a cluster keeps its lease while it serves (its load is reported as zero until
    // the node links exist: issue 18).
    let node = state.settings.node.as_ref().map(|node| crate::cluster::lease::start(state.store.clone(), node, stop.child_token()));
    let router = match face {
        Face::Web => http::router(state.clone()),
        Face::EngineOnly => http::engine_router(state.clone()),
    };
    let server = http::listen::serve(listener, router, stop.clone());
    let drained = async {
        stop.cancelled().await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        () = server => {}
        () = drained => tracing::warn!("requests still open {} s after the stop signal; closing them", DRAIN_TIMEOUT.as_secs()),
    }
    janitor.abort();
    if let Some((keeper, _report)) = node {
        keeper.finished().await;
    }
    if let Some(engine) = &state.engine {
        engine.finished().await;
    }
    record(&state, EventKind::ServerStopped, "Fanout stopped".to_string()).await;
    tracing::info!("stopped");
    Ok(())
}

/// How often expired sign-ups and idle rate-limit entries are cleared.
const JANITOR_PERIOD: Duration = Duration::from_secs(60);
/// How often retention runs (every this many janitor rounds).
const RETENTION_EVERY: u32 = 60;

/// Clears expired pending sign-ups (a day after expiry, so a late callback is still told it
/// expired) and forgets idle rate-limit entries every minute; every hour, deletes the events
/// and the disconnected accounts older than the retention (at start too), until `stop`.
async fn janitor(state: AppState, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(JANITOR_PERIOD);
    for round in 0u32.. {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        state.rate_limit.forget_idle();
        let before = app::store::now() - time::Duration::days(1);
        match state.store.purge_pending_signups(before).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "cleared expired sign-ups"),
            Err(error) => tracing::warn!(%error, "could not clear expired sign-ups"),
        }
        if round % RETENTION_EVERY == 0 {
            retain(&state).await;
        }
    }
}

/// Deletes what the retention does not keep: old events, and accounts disconnected longer ago
/// than it (with everything that names the volunteer).
async fn retain(state: &AppState) {
    let retention = state.settings.retention;
    let at = app::store::now();
    match state.store.purge_events(retention, at).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "deleted events past their retention"),
        Err(error) => tracing::warn!(%error, "could not delete old events"),
    }
    let accounts = match state.store.accounts().await {
        Ok(accounts) => accounts,
        Err(error) => return tracing::warn!(%error, "could not read the accounts for retention"),
    };
    let stale = at.checked_sub(retention.max_age).unwrap_or(at);
    for account in accounts.iter().filter(|a| a.status == app::model::AccountStatus::Disconnected && a.updated_at < stale) {
        let _tokens = state.account_locks.lock(&account.id).await;
        match state.store.forget_account(&account.id).await {
            Ok(_) => tracing::info!(account = %account.id, "deleted an account disconnected longer than the retention"),
            Err(error) => tracing::warn!(%error, account = %account.id, "could not delete an old disconnected account"),
        }
    }
}

/// Records an event; a store failure is logged, never fatal.
async fn record(state: &AppState, kind: EventKind, message: String) {
    app::store::note(state.store.as_ref(), NewEvent::now(kind, message)).await;
}
