//! The world's own control surface for browser tests (not any real service's API): a small
//! HTTP server on loopback that reports what an nginx-rtmp sink receives per stream and takes
//! a stream down or brings it back — so a Playwright test can act on the media side and check
//! the result at the receiving end.
//!
//! `GET /sink/{key}` → `{"bytes": n, "publishing": bool}`; `POST /sink/{key}/block`,
//! `POST /sink/{key}/unblock`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::WorldError;
use crate::loopback::LoopbackServer;
use crate::nginx::NginxSink;

/// A running control server.
#[derive(Debug)]
pub struct WorldControl {
    server: LoopbackServer,
}

impl WorldControl {
    /// Serves control of `sink` on a free loopback port.
    pub async fn start(sink: Arc<NginxSink>) -> Result<Self, WorldError> {
        let router = Router::new()
            .route("/sink/{key}", get(report))
            .route("/sink/{key}/block", post(block))
            .route("/sink/{key}/unblock", post(unblock))
            .with_state(sink);
        Ok(Self { server: LoopbackServer::serve(router, "the world's control server").await? })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

async fn report(State(sink): State<Arc<NginxSink>>, Path(key): Path<String>) -> Json<serde_json::Value> {
    let stream = sink.stats().await.unwrap_or_default().into_iter().find(|s| s.name == key);
    Json(serde_json::json!({
        "bytes": stream.as_ref().map_or(0, |s| s.bytes_in),
        "publishing": stream.is_some_and(|s| s.publishing),
    }))
}

async fn block(State(sink): State<Arc<NginxSink>>, Path(key): Path<String>) -> &'static str {
    sink.block(&key).await;
    "blocked"
}

async fn unblock(State(sink): State<Arc<NginxSink>>, Path(key): Path<String>) -> &'static str {
    sink.unblock(&key);
    "unblocked"
}
