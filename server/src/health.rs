//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers too), as JSON.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::state::AppState;

/// How long `/readyz` waits for the store.
const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// The body of `/healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
    version: &'static str,
}

/// `GET /healthz`: answers whenever the process serves requests.
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

/// The body of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    status: &'static str,
    store: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `GET /readyz`: 200 when the store answers within three seconds, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = state.store.backend().to_string();
    let error = match tokio::time::timeout(STORE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("the store did not answer within {} s", STORE_TIMEOUT.as_secs())),
    };
    match error {
        None => (StatusCode::OK, Json(Readiness { status: "ready", store, error: None })),
        Some(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Readiness { status: "unavailable", store, error: Some(error) }))
        }
    }
}
