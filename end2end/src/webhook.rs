//! A webhook recorder on loopback: every POST to any path is kept (path and JSON body) for
//! tests to read, and answered `204` — or with the status a test steers a path to (e.g. `500`
//! for a webhook that keeps failing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;

use crate::WorldError;
use crate::loopback::LoopbackServer;

/// One request the recorder received.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// Its path, without the leading `/`.
    pub path: String,
    /// Its body (`null` when not JSON).
    pub body: serde_json::Value,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Debug, Default)]
struct Record {
    posted: Vec<Posted>,
    answers: HashMap<String, u16>,
}

/// The recorder, serving until dropped.
#[derive(Debug)]
pub struct WebhookRecorder {
    server: LoopbackServer,
    record: Arc<Mutex<Record>>,
}

async fn receive(State(record): State<Arc<Mutex<Record>>>, Path(path): Path<String>, body: axum::body::Bytes) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let Ok(mut record) = record.lock() else { return StatusCode::INTERNAL_SERVER_ERROR };
    let status = record.answers.get(&path).copied().unwrap_or(204);
    record.posted.push(Posted { path, body, status });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl WebhookRecorder {
    /// Serves on a free loopback port.
    pub async fn start() -> Result<Self, WorldError> {
        let record = Arc::new(Mutex::new(Record::default()));
        let router = Router::new().route("/{*path}", post(receive)).with_state(Arc::clone(&record));
        Ok(Self { server: LoopbackServer::serve(router, "the webhook recorder").await?, record })
    }

    /// The address of `path` (e.g. `api/webhooks/1/token`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.server.url())
    }

    /// Answers every POST to `path` with `status` from now on.
    pub fn answer(&self, path: &str, status: u16) {
        if let Ok(mut record) = self.record.lock() {
            record.answers.insert(path.to_string(), status);
        }
    }

    /// Everything posted so far, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.record.lock().map(|r| r.posted.clone()).unwrap_or_default()
    }

    /// The bodies posted to `path`.
    pub fn bodies(&self, path: &str) -> Vec<serde_json::Value> {
        self.posted().into_iter().filter(|p| p.path == path).map(|p| p.body).collect()
    }
}
