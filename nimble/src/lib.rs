//! Nimble Streamer as Fanout's alternative fan-out backend (`FANOUT_RELAY=nimble`; the built-in
//! relay stays the default). This crate owns everything Fanout needs to drive an existing
//! Nimble Streamer through its native management API, and nothing of Fanout's engine:
//!
//! - [`config`]: `nimble.conf` / `rules.conf` rendered from the templates in `nimble/conf/`
//!   (management API on loopback, the ingest application), refusing weak or default secrets;
//! - [`auth`]: the API's `salt` + `hash` (base64 of MD5 of `salt/token`);
//! - [`client`]: a typed async client (republish rules: list, create, delete; their stats;
//!   server status) with typed errors and timeouts; [`model`] is its JSON;
//! - [`ownership`]: the marker that tells Fanout's rules from everyone else's;
//! - [`mod@sync`]: a live's destinations → Fanout-owned rules, idempotent and restart-safe;
//! - [`status`]: republish stats → per-destination status (state, bytes, bitrate, reconnects);
//! - [`backend`]: the loop tying them together (sync, stats, events, clean-up on cancel).
//!
//! Secrets (the token, stream keys, passwords) are [`Secret`]s: never in `Debug`, logs or errors.
//! The README lists which section of Nimble's API reference each call comes from.

pub mod auth;
pub mod backend;
pub mod client;
pub mod config;
pub mod model;
pub mod ownership;
pub mod secret;
pub mod status;
pub mod sync;

pub use backend::{BackendConfig, BackendEvent, NimbleBackend, StatusMap};
pub use client::{NimbleClient, NimbleError};
pub use config::{ConfigError, IngestLogin, NimbleConfigValues, Rendered, render};
pub use model::{AuthSchema, NewRule, RepublishStat, Rule, RuleId, ServerStatus};
pub use secret::Secret;
pub use status::{RepublishState, RepublishStatus};
pub use sync::{Destination, DestinationId, Plan, Source, SyncReport, plan, remove_all_owned, sync};
