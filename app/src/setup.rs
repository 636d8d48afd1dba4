//! What the running server still lacks to do its whole job (Restream app credentials, the
//! watched channel), so every page can say so plainly instead of failing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A setting the server runs without, and what that costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingSetting {
    /// The environment variables (or matching flags) that provide it.
    pub variables: Vec<String>,
    /// What does not work until it is set, in words for the person running Fanout.
    pub consequence: String,
}

/// The server's configuration as far as the pages need to know it. Never holds a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    /// Settings the server is running without.
    pub missing: Vec<MissingSetting>,
    /// Whether volunteers can sign up (a Restream.io application is configured).
    pub signup_open: bool,
    /// The watched channel's URL, when configured.
    pub watched_channel: Option<String>,
    /// Whether at least one admin can sign in (`FANOUT_ADMIN_USERS`).
    pub admins_configured: bool,
}

impl SetupStatus {
    /// Whether nothing is missing.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The base URL volunteers reach this server at (no trailing slash), provided as context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(pub String);

impl PublicUrl {
    /// The full URL of `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0.trim_end_matches('/'))
    }
}

/// The server's [`SetupStatus`], provided as context by the server at start.
#[server]
pub async fn get_setup_status() -> Result<SetupStatus, ServerFnError> {
    crate::context::<SetupStatus>()
}
