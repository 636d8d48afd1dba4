//! The signed-in admin as the pages see them: name and CSRF token, put in the request by the
//! server's admin gate and read by the dashboard through [`admin_identity`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, and the token their state-changing requests must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminIdentity {
    /// The admin's name.
    pub user: String,
    /// The CSRF token (form field `csrf`, or header `x-fanout-csrf`).
    pub csrf: String,
    /// What the admin's last action did, shown once on the dashboard that follows it.
    pub flash: Option<Flash>,
}

/// The outcome of an admin's action, kept in their session (never in the address, where a
/// crafted link could put words in the dashboard's mouth) until the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Whether it was done (`true`) or could not be (`false`).
    pub done: bool,
    /// What was done, or why not.
    pub text: String,
}

/// The signed-in admin (the gate refuses this endpoint without a session).
#[server(name = ReadAdminIdentity, prefix = "/api", endpoint = "admin_identity", input = leptos::server_fn::codec::GetUrl)]
pub async fn admin_identity() -> Result<AdminIdentity, ServerFnError> {
    require_admin().await
}

/// The admin the server's gate signed this request in as, or an error. Every admin server
/// function asks this first: the gate is the door, this is the lock on each room — a request
/// that reaches one some other way (a path the gate did not recognise, a page rendered for a
/// form post) gets nothing.
#[cfg(feature = "ssr")]
pub async fn require_admin() -> Result<AdminIdentity, ServerFnError> {
    let axum::Extension(identity): axum::Extension<AdminIdentity> =
        leptos_axum::extract().await.map_err(|_| ServerFnError::new("not signed in"))?;
    Ok(identity)
}

/// The transcode profiles an admin can choose for the next live (the server's
/// `TranscodeProfile` words).
pub const TRANSCODE_PROFILES: [&str; 3] = ["copy", "720p", "480p"];

/// Where the store keeps the profile chosen for the next live.
pub const TRANSCODE_PROFILE_META: &str = "transcode_profile";

/// One line of the effective configuration (secrets masked: "set (not shown)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRow {
    /// `ok`, `note`, `warn`.
    pub level: String,
    /// The variable's name.
    pub name: String,
    /// Its effective value, or what is wrong with it.
    pub value: String,
}

/// What the Settings section and the profile control show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSettings {
    /// The effective configuration, as validated at start.
    pub rows: Vec<SettingRow>,
    /// The transcode profile configured (`FANOUT_TRANSCODE`).
    pub profile_configured: String,
    /// The profile the next live uses (an admin's choice, else the configured one).
    pub profile_next: String,
}

/// The configuration as validated at start (the server provides it as context).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct SettingsView {
    /// The effective configuration.
    pub rows: std::sync::Arc<Vec<SettingRow>>,
    /// The configured transcode profile.
    pub profile_configured: String,
}

/// The effective configuration and the next live's profile (the gate refuses this without a
/// session).
#[server(name = ReadSettings, prefix = "/api", endpoint = "admin_settings", input = leptos::server_fn::codec::GetUrl)]
pub async fn admin_settings() -> Result<AdminSettings, ServerFnError> {
    require_admin().await?;
    let view = use_context::<SettingsView>().ok_or_else(|| ServerFnError::new("the settings are unavailable"))?;
    let store = use_context::<crate::store::SharedStore>().ok_or_else(|| ServerFnError::new("the store is unavailable"))?;
    let chosen = store.meta(TRANSCODE_PROFILE_META).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let chosen = chosen.and_then(|bytes| String::from_utf8(bytes).ok()).filter(|p| TRANSCODE_PROFILES.contains(&p.as_str()));
    Ok(AdminSettings {
        rows: view.rows.as_ref().clone(),
        profile_next: chosen.unwrap_or_else(|| view.profile_configured.clone()),
        profile_configured: view.profile_configured,
    })
}
