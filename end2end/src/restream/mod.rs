//! The Restream.io stand-in: one contract server, written from Restream's public API docs,
//! that the test world runs on loopback in place of the real service. It implements the OAuth
//! authorization-code flow (authorize dialog, code exchange, refresh with rotation — a refresh
//! invalidates the old pair at once —, revocation) and the API endpoints Fanout uses (profile,
//! channels, channel meta, stream key, public platform and server lists), answers errors in
//! Restream's documented shape, and records every call so tests can check what Fanout asked.
//! It also serves Restream's streaming-updates and chat WebSockets ([`updates`]), reporting what
//! its ingest (the world's nginx-rtmp sink) really receives.
//!
//! Tests steer it from Rust ([`RestreamStandIn`]) or, for Playwright, over HTTP under
//! `/__standin/` (see [`control`]), which is not part of Restream's surface.

mod api;
pub mod control;
mod oauth;
mod sockets;
mod state;
mod updates;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::WorldError;
use crate::loopback::LoopbackServer;
pub use sockets::SocketSeen;
use state::World;
pub use state::{ChannelMeta, RecordedCall, TokenPairView};

/// Restream's platform id for Twitch (its public platform list).
pub const TWITCH: i64 = 1;
/// Restream's platform id for YouTube (its public platform list).
pub const YOUTUBE: i64 = 5;

/// How the stand-in is set up.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// The OAuth client id of Fanout's Restream app.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Redirect URIs registered with the app (more can be added later).
    pub redirect_uris: Vec<String>,
    /// How long access tokens live (Restream: one hour).
    pub access_token_ttl: Duration,
    /// How long an authorization code may wait for its exchange.
    pub code_ttl: Duration,
    /// What `GET /v2/server/all` lists (tests point `rtmp_url` at local nginx-rtmp sinks).
    pub ingest_servers: Vec<IngestServer>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        Self {
            client_id: "fanout-test-client".into(),
            client_secret: "fanout-test-secret".into(),
            redirect_uris: Vec::new(),
            access_token_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(600),
            ingest_servers: vec![IngestServer {
                id: 1,
                name: "Autodetect".into(),
                url: "live.restream.io".into(),
                rtmp_url: "rtmp://live.restream.io/live".into(),
                latitude: "0".into(),
                longitude: "0".into(),
            }],
        }
    }
}

/// An item of `GET /v2/server/all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestServer {
    /// Server id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Host name.
    pub url: String,
    /// RTMP ingest base URL (the stream key is appended).
    pub rtmp_url: String,
    /// Location.
    pub latitude: String,
    /// Location.
    pub longitude: String,
}

/// A Restream user the stand-in knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandInUser {
    /// Restream user id.
    pub id: i64,
    /// User name.
    pub username: String,
    /// E-mail.
    pub email: String,
    /// Their channels.
    pub channels: Vec<StandInChannel>,
    /// Their stream key.
    pub stream_key: String,
}

impl StandInUser {
    /// A plausible user: an enabled YouTube channel and a Twitch channel switched off.
    pub fn sample(id: i64, name: &str) -> Self {
        let slug: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
        Self {
            id,
            username: slug.clone(),
            email: format!("{slug}@restream.example"),
            channels: vec![
                StandInChannel {
                    id: id * 100 + 1,
                    streaming_platform_id: YOUTUBE,
                    display_name: format!("{name} on YouTube"),
                    url: format!("https://www.youtube.com/@{slug}"),
                    identifier: format!("UC{slug}"),
                    embed_url: format!("https://www.youtube.com/embed/live_stream?channel=UC{slug}"),
                    enabled: true,
                },
                StandInChannel {
                    id: id * 100 + 2,
                    streaming_platform_id: TWITCH,
                    display_name: format!("{name} on Twitch"),
                    url: format!("https://www.twitch.tv/{slug}"),
                    identifier: slug.clone(),
                    embed_url: format!("https://player.twitch.tv/?channel={slug}"),
                    enabled: false,
                },
            ],
            stream_key: format!("re_{id}_{slug}"),
        }
    }
}

/// One of a user's channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandInChannel {
    /// Channel id.
    pub id: i64,
    /// Platform id (see [`TWITCH`], [`YOUTUBE`]).
    pub streaming_platform_id: i64,
    /// Name on the platform.
    pub display_name: String,
    /// Public URL.
    pub url: String,
    /// Platform-specific identifier.
    pub identifier: String,
    /// Embed URL.
    pub embed_url: String,
    /// Whether Restream streams to it.
    pub enabled: bool,
}

/// How the authorize dialog answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Consent {
    /// Show a consent page (pick a user, Allow or Deny) for a browser to click.
    #[default]
    Prompt,
    /// Approve at once as this user.
    Approve {
        /// The user who logs in.
        user_id: i64,
    },
    /// Deny as Restream documents it: back to the redirect URI with no parameters.
    DenyBlank,
    /// Deny with `error=access_denied` (as other OAuth servers do).
    DenyWithError,
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

/// The largest body the stand-in reads (Fanout's requests are small).
const BODY_LIMIT: usize = 256 * 1024;

/// Records each call on the Restream surface: method, path, query, body, the user a valid
/// bearer token names, and the status answered.
async fn record(
    axum::extract::State(shared): axum::extract::State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let body_value = serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|_| {
        let form: serde_json::Map<String, serde_json::Value> =
            url::form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned()))).collect();
        if form.is_empty() { serde_json::Value::Null } else { serde_json::Value::Object(form) }
    });
    let user_id = api::bearer(&parts.headers).and_then(|token| shared.world().bearer(token).ok());
    let throttled = parts.uri.path().starts_with("/v2/user/") && {
        let mut world = shared.world();
        let throttle = world.throttle_next > 0;
        world.throttle_next = world.throttle_next.saturating_sub(1);
        throttle
    };
    let delay = shared.world().delay.clone().filter(|(path, _)| parts.uri.path().contains(path.as_str())).map(|(_, d)| d);
    let failing = {
        let mut world = shared.world();
        match world.fail_next.as_mut() {
            Some((path, left)) if *left > 0 && parts.uri.path().contains(path.as_str()) => {
                *left -= 1;
                true
            }
            _ => false,
        }
    };
    if failing {
        let (method, path, query) = (parts.method.to_string(), parts.uri.path().to_string(), parts.uri.query().map(String::from));
        shared.world().calls.push(RecordedCall { method, path, query, body: body_value, user_id, status: 500 });
        return api::error_body(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error");
    }
    if throttled {
        let (method, path, query) = (parts.method.to_string(), parts.uri.path().to_string(), parts.uri.query().map(String::from));
        shared.world().calls.push(RecordedCall { method, path, query, body: body_value, user_id, status: 429 });
        let mut response = api::error_body(axum::http::StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests");
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return response;
    }
    let (method, path, query) = (parts.method.to_string(), parts.uri.path().to_string(), parts.uri.query().map(String::from));
    let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await;
    shared.world().calls.push(RecordedCall { method, path, query, body: body_value, user_id, status: response.status().as_u16() });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

/// A running stand-in. Dropping it stops the server (and its look at the ingest).
pub struct RestreamStandIn {
    server: LoopbackServer,
    shared: Shared,
    watching: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for RestreamStandIn {
    fn drop(&mut self) {
        if let Some(task) = self.watching.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for RestreamStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RestreamStandIn({})", self.server.address())
    }
}

impl RestreamStandIn {
    /// Starts the stand-in on a free loopback port.
    pub async fn start(config: StandInConfig) -> Result<Self, WorldError> {
        let shared = Shared { world: Arc::new(Mutex::new(World::new(config))) };
        let surface =
            Router::new().merge(oauth::routes()).merge(api::routes()).layer(axum::middleware::from_fn_with_state(shared.clone(), record));
        // The WebSockets are not recorded as calls: their query holds the token.
        let app = surface.merge(updates::routes()).merge(control::routes()).with_state(shared.clone());
        let server = LoopbackServer::serve(app, "the Restream stand-in").await?;
        Ok(Self { server, shared, watching: Mutex::new(None) })
    }

    /// The streaming-updates WebSocket (`FANOUT_RESTREAM_UPDATES_URL` for Fanout).
    pub fn updates_url(&self) -> String {
        format!("ws://{}/ws", self.server.address())
    }

    /// The chat WebSocket (`FANOUT_RESTREAM_CHAT_URL` for Fanout).
    pub fn chat_url(&self) -> String {
        format!("ws://{}/chat/ws", self.server.address())
    }

    /// Reports, on the WebSockets, what the ingest at `stat_url` (an nginx-rtmp `rtmp_stat`
    /// page) receives: read every half second, for as long as the stand-in runs.
    pub fn receive_from(&self, stat_url: String) {
        let shared = self.shared.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap_or_default();
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Ok(response) = client.get(&stat_url).send().await else { continue };
                let Ok(body) = response.text().await else { continue };
                let streams = crate::nginx::parse_stat(&body);
                shared.world().sockets.ingested(streams, std::time::Instant::now());
            }
        });
        if let Some(old) = self.watching.lock().unwrap_or_else(std::sync::PoisonError::into_inner).replace(task) {
            old.abort();
        }
    }

    /// While `false`, the streaming updates never report `user_id`'s incoming stream (as if
    /// Restream did not receive what Fanout sends).
    pub fn report_received(&self, user_id: i64, received: bool) {
        self.shared.world().sockets.set_received(user_id, received);
    }

    /// While `false`, channel `channel_id` is reported offline on its platform.
    pub fn report_channel_online(&self, channel_id: i64, online: bool) {
        self.shared.world().sockets.set_online(channel_id, online);
    }

    /// While `true`, channel `channel_id`'s chat connection is in error with
    /// `restream_channel_connection_expired`.
    pub fn expire_channel_connection(&self, channel_id: i64, expired: bool) {
        self.shared.world().sockets.set_expired(channel_id, expired);
    }

    /// Closes every open WebSocket (code 1001), as a Restream restart would.
    pub fn drop_sockets(&self) {
        self.shared.world().sockets.generation += 1;
    }

    /// Every WebSocket accepted so far, in order.
    pub fn sockets(&self) -> Vec<SocketSeen> {
        self.shared.world().sockets.accepted.clone()
    }

    /// How many WebSockets are open now, and how many handshakes were refused.
    pub fn socket_counts(&self) -> (usize, usize) {
        let world = self.shared.world();
        (world.sockets.open, world.sockets.refused)
    }

    /// Mints a token pair for `user_id` as a completed OAuth flow would (for benchmarks that
    /// need many connected users without signing each one up).
    pub fn issue_tokens(&self, user_id: i64) -> TokenPairView {
        self.shared.world().issue_pair_for(user_id)
    }

    /// The base URL (`RESTREAM_API_URL` for Fanout), without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Adds (or replaces) a user.
    pub fn add_user(&self, user: StandInUser) {
        self.shared.world().add_user(user);
    }

    /// Registers another redirect URI with the app.
    pub fn add_redirect_uri(&self, uri: &str) {
        self.shared.world().config.redirect_uris.push(uri.to_string());
    }

    /// Sets how the authorize dialog answers.
    pub fn set_consent(&self, consent: Consent) {
        self.shared.world().consent = consent;
    }

    /// While `Some(status)`, the token endpoint fails with that status.
    pub fn fail_token_endpoint(&self, status: Option<u16>) {
        self.shared.world().token_failure = status;
    }

    /// Expires the user's current access token (its refresh token stays valid).
    pub fn expire_access_tokens(&self, user_id: i64) {
        self.shared.world().expire_access_tokens(user_id);
    }

    /// The next `calls` calls to the `/v2/` API answer `429 Too Many Requests` with
    /// `Retry-After: 1`, as Restream does when a client goes too fast.
    pub fn throttle_next(&self, calls: usize) {
        self.shared.world().throttle_next = calls;
    }

    /// Every request whose path contains `path` is answered `delay` late — after it took effect,
    /// as on a slow network (a refresh has rotated the pair before Fanout hears of it). `None`
    /// answers at once again.
    pub fn slow_down(&self, path: &str, delay: Option<Duration>) {
        self.shared.world().delay = delay.map(|d| (path.to_string(), d));
    }

    /// The next `calls` requests whose path contains `path` answer `500 Internal Server Error`
    /// in Restream's error shape (a transient failure on Restream's side).
    pub fn fail_next(&self, path: &str, calls: usize) {
        self.shared.world().fail_next = Some((path.to_string(), calls));
    }

    /// While `true`, `PATCH /v2/user/channel-meta/{id}` fails with a 500.
    pub fn fail_channel_meta(&self, fail: bool) {
        self.shared.world().fail_meta = fail;
    }

    /// Every request received so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.world().calls.clone()
    }

    /// A channel's current title and description, if ever set.
    pub fn channel_meta(&self, channel_id: i64) -> Option<ChannelMeta> {
        self.shared.world().meta.get(&channel_id).cloned()
    }

    /// The user's currently valid token pair, if any.
    pub fn tokens_of(&self, user_id: i64) -> Option<TokenPairView> {
        self.shared.world().tokens_of(user_id)
    }

    /// How many refresh grants the user's tokens went through.
    pub fn refresh_count(&self, user_id: i64) -> usize {
        self.shared.world().refreshes.get(&user_id).copied().unwrap_or(0)
    }
}
