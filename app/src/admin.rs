//! The signed-in admin as the pages see them: name and CSRF token, put in the request by the
//! server's admin gate and read by the dashboard through [`admin_identity`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::TranscodeProfile;

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
#[server(name = ReadAdminIdentity, prefix = "/api", endpoint = "admin_identity", input = server_fn::codec::GetUrl)]
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

/// Where the store keeps the profile chosen for the next live.
pub const TRANSCODE_PROFILE_META: &str = "transcode_profile";

/// Where the store keeps the push key's SHA-256 (the key itself is kept nowhere).
pub const PUSH_KEY_META: &str = "push_key_sha256";

/// The push ingest as Settings shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushView {
    /// Where the encoder publishes, without the key (`rtmps://host:port/ingest/`).
    pub url: String,
    /// Whether a key has been made.
    pub key_made: bool,
}

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
    pub profile_configured: TranscodeProfile,
    /// The profile the next live uses (an admin's choice, else the configured one).
    pub profile_next: TranscodeProfile,
    /// The push ingest, when a broadcaster may push the live.
    pub push: Option<PushView>,
    /// The JSON API's tokens (never the tokens themselves), oldest first.
    #[serde(default)]
    pub api_tokens: Vec<ApiTokenRow>,
}

/// One JSON API token as the Settings list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    /// Its id (what revoking names).
    pub id: String,
    /// What the admin called it.
    pub name: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it was last used (RFC 3339, UTC, to the minute), if ever.
    pub last_used_at: Option<String>,
}

/// The configuration as validated at start (the server provides it as context).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct SettingsView {
    /// The effective configuration.
    pub rows: std::sync::Arc<Vec<SettingRow>>,
    /// The configured transcode profile.
    pub profile_configured: TranscodeProfile,
    /// Where the encoder publishes a pushed live, without the key, when the push ingest is on.
    pub push_url: Option<String>,
}

/// The effective configuration and the next live's profile (the gate refuses this without a
/// session).
#[server(name = ReadSettings, prefix = "/api", endpoint = "admin_settings", input = server_fn::codec::GetUrl)]
pub async fn admin_settings() -> Result<AdminSettings, ServerFnError> {
    require_admin().await?;
    let view = crate::context::<SettingsView>()?;
    let store = crate::context::<crate::store::SharedStore>()?;
    let chosen = store.meta(TRANSCODE_PROFILE_META).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let chosen = chosen.and_then(|bytes| std::str::from_utf8(&bytes).ok().and_then(|p| p.parse::<TranscodeProfile>().ok()));
    let push = match &view.push_url {
        Some(url) => {
            let hash = store.meta(PUSH_KEY_META).await.map_err(|e| ServerFnError::new(e.to_string()))?;
            Some(PushView { url: url.clone(), key_made: hash.is_some_and(|h| h.len() == 32) })
        }
        None => None,
    };
    let api_tokens = store.api_tokens().await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let api_tokens = api_tokens
        .into_iter()
        .map(|t| ApiTokenRow {
            id: t.id.to_string(),
            name: t.name,
            created_at: crate::store::rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(crate::store::rfc3339),
        })
        .collect();
    Ok(AdminSettings {
        api_tokens,
        push,
        rows: view.rows.as_ref().clone(),
        profile_next: chosen.unwrap_or(view.profile_configured),
        profile_configured: view.profile_configured,
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use std::sync::Arc;

    use leptos::prelude::*;

    use super::*;
    use crate::store::{SharedStore, SqliteStore};

    /// Every admin server function, called directly in a request's context: the gate's door
    /// is bypassed, so only the function's own check stands between a caller and the data.
    #[tokio::test]
    async fn every_admin_server_function_refuses_without_the_admins_identity() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store: SharedStore = Arc::new(SqliteStore::open(&dir.path().join("fanout.db")).await.unwrap_or_else(|e| panic!("{e}")));
        let owner = Owner::new();
        owner.set();
        provide_context(store);
        provide_context(crate::manage::link::LinkSigner::new(&crate::secrets::MasterKey::generate()));
        provide_context(crate::setup::PublicUrl("http://127.0.0.1:3000".into()));
        provide_context(crate::dashboard::DashboardSource(Arc::new(crate::dashboard::DashboardStatus::default)));
        provide_context(SettingsView { rows: Arc::default(), profile_configured: TranscodeProfile::Copy, push_url: None });
        // Every server function under /api/admin is one of these, so a new one cannot be
        // forgotten here.
        let admin_paths: std::collections::BTreeSet<&str> =
            server_fn::axum::server_fn_paths().map(|(path, _)| path).filter(|p| p.starts_with("/api/admin")).collect();
        let tested = [
            "/api/admin_accounts",
            "/api/admin_dashboard",
            "/api/admin_direct",
            "/api/admin_events",
            "/api/admin_identity",
            "/api/admin_live_report",
            "/api/admin_lives",
            "/api/admin_settings",
        ];
        assert_eq!(admin_paths, tested.into_iter().collect(), "every admin server function is tested here");

        async fn outcomes() -> Vec<bool> {
            vec![
                crate::dashboard::admin_accounts().await.is_ok(),
                crate::dashboard::admin_dashboard().await.is_ok(),
                crate::direct::admin_direct().await.is_ok(),
                crate::history::admin_events(None, None, None).await.is_ok(),
                admin_identity().await.is_ok(),
                crate::report::admin_live_report("NoSuchLive1".into()).await.is_ok(),
                crate::history::admin_lives().await.is_ok(),
                admin_settings().await.is_ok(),
            ]
        }
        let (parts, ()) = http::Request::new(()).into_parts();
        provide_context(parts);
        assert_eq!(outcomes().await, [false; 8], "a request without the admin's identity gets nothing");

        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.extensions.insert(AdminIdentity { user: "ana".into(), csrf: "token".into(), flash: None });
        provide_context(parts);
        assert_eq!(outcomes().await, [true; 8], "and the admin gets it all (so the refusals above are the check's)");
    }
}
