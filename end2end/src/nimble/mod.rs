//! The Nimble Streamer stand-in: its native management API, written from the public API
//! reference, that the test world runs on loopback in place of a real Nimble (which this
//! build machine does not have). It checks every request's `salt` + `hash` as Nimble does
//! (`base64(md5("salt/token"))`, computed here independently of `fanout-nimble`), keeps RTMP
//! republish rules (list, create, get, delete), answers their stats (which tests steer), the
//! server status, and records every call so tests can check what Fanout asked.
//!
//! Where the reference does not show a shape, the stand-in picks the least surprising one and
//! says so: a refused hash is `403 Forbidden` with an empty body; answers carry
//! `"status": "Ok"` beside their data (`rules`, `rule`, `stats`); an unknown rule is a `404`.
//! Like Nimble, it forgets API-made rules when "restarted" ([`NimbleStandIn::restart`]).

mod api;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::WorldError;
use crate::loopback::LoopbackServer;

/// A request the stand-in received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCall {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/manage/rtmp/republish`.
    pub path: String,
    /// Whether its `salt` and `hash` were right.
    pub authorized: bool,
    /// The JSON body (`null` when empty or not JSON).
    pub body: serde_json::Value,
    /// The status answered.
    pub status: u16,
}

impl RecordedCall {
    /// Whether this is `method` on `path` (exact) answered with a success.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path && (200..300).contains(&self.status)
    }
}

/// What a test sets a rule's stats entry to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepublishSteer {
    /// The `state` word.
    pub state: String,
    /// `bandwidth`, bits per second.
    pub bandwidth: u64,
    /// `bytes_sent`.
    pub bytes_sent: u64,
    /// `retry_count`.
    pub retry_count: u64,
}

/// Everything the stand-in knows.
struct World {
    token: String,
    next_id: u64,
    /// Rules in creation order: (id, the rule's JSON including `id`).
    rules: Vec<(String, serde_json::Value)>,
    /// Stats entries tests steered, by rule id.
    stats: Vec<(String, RepublishSteer)>,
    calls: Vec<RecordedCall>,
}

/// What the routes share.
#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
}

impl Shared {
    /// The world's state. A poisoned lock (a panicking handler) still yields the data.
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running stand-in. Dropping it stops the server.
pub struct NimbleStandIn {
    server: LoopbackServer,
    shared: Shared,
}

impl std::fmt::Debug for NimbleStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NimbleStandIn({})", self.server.address())
    }
}

impl NimbleStandIn {
    /// Starts the stand-in on a free loopback port, with `token` as its `management_token`.
    pub async fn start(token: &str) -> Result<Self, WorldError> {
        let world = World { token: token.to_string(), next_id: 1, rules: Vec::new(), stats: Vec::new(), calls: Vec::new() };
        let shared = Shared { world: Arc::new(Mutex::new(world)) };
        let app = api::routes(shared.clone());
        let server = LoopbackServer::serve(app, "the Nimble stand-in").await?;
        Ok(Self { server, shared })
    }

    /// The management API's base URL, without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request received so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.world().calls.clone()
    }

    /// Forgets the calls recorded so far.
    pub fn clear_calls(&self) {
        self.shared.world().calls.clear();
    }

    /// The rules as `GET /manage/rtmp/republish` lists them.
    pub fn rules(&self) -> Vec<serde_json::Value> {
        self.shared.world().rules.iter().map(|(_, rule)| rule.clone()).collect()
    }

    /// Adds a rule as someone else would (another tool, a person); returns its id.
    pub fn add_rule(&self, rule: serde_json::Value) -> String {
        self.shared.world().insert(rule)
    }

    /// Sets the stats entry of rule `id` (listed from now on).
    pub fn set_stats(&self, id: &str, steer: RepublishSteer) {
        let mut world = self.shared.world();
        world.stats.retain(|(rule, _)| rule != id);
        world.stats.push((id.to_string(), steer));
    }

    /// Changes `management_token` (as editing nimble.conf and restarting would).
    pub fn set_token(&self, token: &str) {
        self.shared.world().token = token.to_string();
    }

    /// Behaves as a Nimble restart: rules made through the API and their stats are gone.
    pub fn restart(&self) {
        let mut world = self.shared.world();
        world.rules.clear();
        world.stats.clear();
    }
}

impl World {
    /// Stores a rule under a fresh id (24 hex digits, like the ids in Nimble's rules.conf).
    fn insert(&mut self, mut rule: serde_json::Value) -> String {
        let id = format!("{:024x}", 0x5f0f_8213_0000_u64 + self.next_id);
        self.next_id += 1;
        if let Some(object) = rule.as_object_mut() {
            object.insert("id".into(), serde_json::Value::String(id.clone()));
        }
        self.rules.push((id.clone(), rule));
        id
    }
}
