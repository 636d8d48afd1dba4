//! Prometheus metrics at `/metrics` (the `metrics` facade and its Prometheus exporter): the
//! engine's status is copied into gauges and counters once a second — never from the relay's
//! per-message path — Restream's side too (what its streaming updates report: received or not,
//! its bitrate, channels online, viewers). Destinations are labelled by account id, never by
//! stream key or token; a series
//! not updated for [`IDLE`] (a destination that left, a live that ended) is dropped. With
//! `FANOUT_METRICS_TOKEN`, `/metrics` needs it as a bearer token.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::DashboardStatus;
use crate::relay::DestinationState;
use crate::state::AppState;

/// A series not updated for this long is no longer exported.
const IDLE: Duration = Duration::from_secs(60);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once); its handle renders the metrics.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| match builder(IDLE).install_recorder() {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(%error, "metrics are unavailable");
                None
            }
        })
        .clone()
}

/// The exporter as Fanout configures it: series idle for `idle` are dropped.
fn builder(idle: Duration) -> PrometheusBuilder {
    PrometheusBuilder::new().idle_timeout(MetricKindMask::ALL, Some(idle))
}

/// `GET /metrics`: the text exposition format (401 without the configured bearer token).
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token {
        let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let expected = token.expose().as_bytes();
        let matches =
            sent.is_some_and(|sent| sent.len() == expected.len() && sent.bytes().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0);
        if !matches {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "/metrics needs its bearer token").into_response();
        }
    }
    handle().map(|h| h.render()).unwrap_or_default().into_response()
}

/// Copies the engine's status into the metrics every second until `stop`.
pub fn export(mut status: watch::Receiver<DashboardStatus>, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => record(&status.borrow_and_update()),
            }
        }
    });
}

fn record(status: &DashboardStatus) {
    gauge!("fanout_live").set(if status.live.is_some() { 1.0 } else { 0.0 });
    gauge!("fanout_input_publishing").set(if status.input_publishing { 1.0 } else { 0.0 });
    gauge!("fanout_input_bitrate_bps").set(status.input_bps as f64);
    counter!("fanout_input_bytes_total").absolute(status.input_bytes);
    if status.ingest_state.is_some() {
        counter!("fanout_ingest_restarts_total").absolute(u64::from(status.ingest_restarts));
    }
    let mut by_state: BTreeMap<String, u32> =
        [DestinationState::Connecting, DestinationState::Streaming, DestinationState::Retrying, DestinationState::Stopped]
            .into_iter()
            .map(|state| (state.to_string(), 0))
            .collect();
    // Destinations in the backend (held ones are counted by state below, not exported one by one).
    for s in status.destinations.iter().filter(|d| d.state.is_sending() || d.state == DestinationState::Stopped) {
        let account = s.id.to_string();
        gauge!("fanout_destination_up", "account" => account.clone()).set(if s.state == DestinationState::Streaming { 1.0 } else { 0.0 });
        gauge!("fanout_destination_bitrate_bps", "account" => account.clone()).set(s.bitrate_bps as f64);
        counter!("fanout_destination_bytes_total", "account" => account.clone()).absolute(s.bytes_sent);
        counter!("fanout_destination_reconnects_total", "account" => account.clone()).absolute(u64::from(s.reconnects));
        if let Some(received) = &s.received {
            gauge!("fanout_destination_received", "account" => account.clone()).set(if received.receiving { 1.0 } else { 0.0 });
            let bps = received.incoming.as_ref().map_or(0, |i| i.bitrate_bps);
            gauge!("fanout_destination_received_bitrate_bps", "account" => account.clone()).set(bps as f64);
            gauge!("fanout_destination_sent_not_received", "account" => account.clone()).set(if s.flag.is_some() { 1.0 } else { 0.0 });
        }
        counter!("fanout_destination_skips_total", "account" => account).absolute(u64::from(s.skips));
        let count = by_state.entry(s.state.to_string()).or_default();
        *count = count.saturating_add(1);
    }
    for (state, count) in by_state {
        gauge!("fanout_destinations", "state" => state).set(f64::from(count));
    }
    // What Restream reports over every destination (its streaming updates).
    let totals = status.restream_totals();
    gauge!("fanout_restream_received").set(totals.received as f64);
    gauge!("fanout_restream_channels_online").set(totals.channels_online as f64);
    gauge!("fanout_restream_viewers").set(totals.viewers.unwrap_or(0) as f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{AccountId, DestinationId, DestinationKind};

    use crate::engine::status::{Who, row};
    use crate::relay::DestinationStatus;

    #[test]
    fn a_destinations_series_go_away_once_it_is_gone_and_unknown_states_are_counted() {
        let recorder = builder(Duration::from_millis(200)).build_recorder();
        let handle = recorder.handle();
        let who = Who { name: "Ana".into(), kind: DestinationKind::Restream, channels: Vec::new(), titles: None };
        let destination = row(DestinationId::Account(AccountId::from_stored("account-gone-after")), who, &DestinationStatus::new());
        metrics::with_local_recorder(&recorder, || {
            record(&DashboardStatus { destinations: vec![destination], ..DashboardStatus::default() });
        });
        assert!(handle.render().contains("account-gone-after"), "while it streams, it is exported");
        std::thread::sleep(Duration::from_millis(400));
        metrics::with_local_recorder(&recorder, || record(&DashboardStatus::default()));
        let rendered = handle.render();
        assert!(!rendered.contains("account-gone-after"), "after the live its series are gone:\n{rendered}");
        assert!(rendered.contains(r#"fanout_destinations{state="streaming"} 0"#), "{rendered}");
    }
}
