//! Health from Restream's own streaming updates: for every account a live streams to, Fanout
//! listens to Restream's streaming-updates WebSocket (`wss://streaming.api.restream.io/ws`,
//! developers.restream.io "Streaming Updates") — and to the chat API's connections
//! (`wss://chat.api.restream.io/ws`, "Connections"), which say when a platform's connection
//! expired in Restream — and learns what Restream really receives and what each social channel
//! behind the account shows.
//!
//! # Layout
//!
//! - [`messages`] — the documented message shapes, read leniently (new actions and fields pass).
//! - [`health`] — pure: what was heard ([`health::Heard`]) and the judgment from both sides
//!   ([`health::Judge`]: the row's Restream side, "sent but not received", events once per
//!   change).
//! - `socket` — one WebSocket opened under deadlines and size limits; the token never leaves a
//!   [`Secret`].
//! - `listener` — one account's task: its sockets kept open, tokens from the single-flight
//!   path, reconnects with backoff and jitter.
//! - [`Listeners`] (here) — the live's set of listeners: started and stopped with the accounts
//!   that join and leave it, a cap on connects at once.
//!
//! # Scale
//!
//! One task and one socket per account and feed (two with the chat connections), each socket
//! with a 4 KiB read buffer and no write buffer; messages over 64 KiB end their connection. At
//! most [`Limits::connects_at_once`] sockets are being opened at any moment (TCP, TLS and the
//! handshake under one deadline), so 500 accounts joining at once reach Restream 16 at a time.
//! What a listener heard flows out on its own `watch` channel: nothing is shared and locked.

pub mod health;
mod listener;
pub mod messages;
pub mod socket;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use app::model::AccountId;
use app::secrets::Secret;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use health::{Heard, Judge, Verdict};
pub use listener::Backoff;
pub use socket::{MAX_MESSAGE, SocketError};

use crate::restream::tokens::TokenError;

/// Where access tokens come from: the single-flight path ([`crate::restream::tokens::TokenKeeper`]
/// in Fanout; anything that hands out tokens in a benchmark).
#[async_trait::async_trait]
pub trait AccessTokens: Send + Sync {
    /// A usable access token of `account`; `failed`: one Restream just refused (refresh it).
    async fn access_token(&self, account: &AccountId, failed: Option<&Secret>) -> Result<Secret, TokenError>;
}

#[async_trait::async_trait]
impl AccessTokens for crate::restream::tokens::TokenKeeper {
    async fn access_token(&self, account: &AccountId, failed: Option<&Secret>) -> Result<Secret, TokenError> {
        crate::restream::tokens::TokenKeeper::access_token(self, account, failed).await
    }
}

/// The bounds every listener keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TCP, TLS and the handshake, all within this.
    pub connect_deadline: Duration,
    /// A WebSocket ping this often (Restream's docs promise no heartbeat on this feed).
    pub ping_every: Duration,
    /// Nothing at all from Restream for this long (not even a pong) ends the socket. Above the
    /// chat API's documented heartbeat (about every 45 s; "if not received in 60 seconds —
    /// consider the connection broken").
    pub read_deadline: Duration,
    /// How often a listener asks for the account's token again, to follow a rotation (± 20 %).
    pub token_check: Duration,
    /// The first wait before a reconnect.
    pub backoff_first: Duration,
    /// The longest wait before a reconnect.
    pub backoff_cap: Duration,
    /// A socket open this long resets the backoff.
    pub steady_after: Duration,
    /// At most this many sockets being opened at once, over every account.
    pub connects_at_once: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_deadline: Duration::from_secs(10),
            ping_every: Duration::from_secs(20),
            read_deadline: Duration::from_secs(65),
            token_check: Duration::from_secs(60),
            backoff_first: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
            steady_after: Duration::from_secs(60),
            connects_at_once: 16,
        }
    }
}

/// What the listeners need.
pub struct UpdatesSetup {
    /// Access tokens.
    pub tokens: Arc<dyn AccessTokens>,
    /// The streaming-updates WebSocket (`FANOUT_RESTREAM_UPDATES_URL`, without a token).
    pub streaming_url: Url,
    /// The chat API's WebSocket (`FANOUT_RESTREAM_CHAT_URL`), when its connections are read.
    pub chat_url: Option<Url>,
    /// The bounds.
    pub limits: Limits,
    /// The TLS of `wss://` sockets ([`socket::tls_config`]: the public roots).
    pub tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for UpdatesSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdatesSetup")
            .field("streaming_url", &self.streaming_url.as_str())
            .field("chat_url", &self.chat_url.as_ref().map(Url::as_str))
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// One account's running listener.
#[derive(Debug)]
struct Running {
    heard: watch::Receiver<Heard>,
    stop: CancellationToken,
}

/// The live's listeners, one per account it streams to.
#[derive(Debug)]
pub struct Listeners {
    setup: Option<Arc<UpdatesSetup>>,
    connects: Arc<Semaphore>,
    running: HashMap<AccountId, Running>,
    stop: CancellationToken,
}

impl Listeners {
    /// No listener yet; `setup` `None` (no Restream app configured): none will ever start.
    /// Every listener ends with `stop`.
    pub fn new(setup: Option<Arc<UpdatesSetup>>, stop: CancellationToken) -> Self {
        let at_once = setup.as_ref().map_or(1, |s| s.limits.connects_at_once.max(1));
        Self { setup, connects: Arc::new(Semaphore::new(at_once)), running: HashMap::new(), stop }
    }

    /// Listens for exactly these accounts: starts the new ones, stops the others.
    pub fn follow(&mut self, accounts: impl IntoIterator<Item = AccountId>) {
        let Some(setup) = &self.setup else { return };
        let wanted: std::collections::HashSet<AccountId> = accounts.into_iter().collect();
        self.running.retain(|account, running| {
            let keep = wanted.contains(account);
            if !keep {
                running.stop.cancel();
            }
            keep
        });
        for account in wanted {
            if self.running.contains_key(&account) {
                continue;
            }
            let (sender, heard) = watch::channel(Heard::default());
            let stop = self.stop.child_token();
            tokio::spawn(listener::listen(Arc::clone(setup), account.clone(), Arc::clone(&self.connects), sender, stop.clone()));
            self.running.insert(account, Running { heard, stop });
        }
    }

    /// What the listener of `account` heard so far (`None`: no listener for it).
    pub fn heard(&self, account: &AccountId) -> Option<Heard> {
        self.running.get(account).map(|r| r.heard.borrow().clone())
    }

    /// How many accounts are listened to, and how many of their streaming-updates sockets are
    /// open now.
    pub fn counts(&self) -> (usize, usize) {
        let open = self.running.values().filter(|r| r.heard.borrow().connected_since.is_some()).count();
        (self.running.len(), open)
    }

    /// Stops every listener.
    pub fn stop_all(&mut self) {
        for running in self.running.values() {
            running.stop.cancel();
        }
        self.running.clear();
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop_all();
    }
}
