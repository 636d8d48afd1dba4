//! The state every request shares, and its assembly at start: the data directory, the master
//! key, and the store tied to that key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::abuse::PublicRateLimit;
use app::manage::link::LinkSigner;
use app::secrets::{Cipher, KeySource, MasterKey, SecretsError};
use app::setup::{PublicUrl, SetupStatus};
use app::signup::start::{AuthorizeUrl, SignupService};
use app::store::{self, KeyCheck, SharedStore, StoreError, StoreLocation};
use axum::extract::FromRef;
use leptos::config::{Env, LeptosOptions};
use url::Url;

use crate::config::Settings;
use crate::origin::OwnOrigins;
use crate::restream::api::RestreamApi;
use crate::restream::oauth::CALLBACK_PATH;
use crate::restream::oauth::{OAuthError, RestreamOAuth};
use crate::restream::{Endpoints, http_client};

/// Why the server could not assemble its state.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The master key could not be loaded or created.
    #[error(transparent)]
    Key(#[from] SecretsError),
    /// The store could not be opened, or belongs to another key.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client for Restream could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The Restream OAuth client could not be built.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The engine could not be assembled.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The notifications could not be set up.
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
}

/// What request handlers and server functions share.
#[derive(Clone)]
pub struct AppState {
    /// Leptos's rendering options (site root, output name).
    pub leptos: LeptosOptions,
    /// The store.
    pub store: SharedStore,
    /// Seals and opens tokens.
    pub cipher: Arc<Cipher>,
    /// Signs and checks manage links.
    pub links: LinkSigner,
    /// Signs and checks unsubscribe links.
    pub unsubscribe: app::manage::unsubscribe::UnsubscribeSigner,
    /// Starts sign-ups.
    pub signup: SignupService,
    /// The per-address limit on public actions.
    pub rate_limit: PublicRateLimit,
    /// Restream's OAuth client, when an app is configured.
    pub restream_oauth: Option<RestreamOAuth>,
    /// Restream's API client.
    pub restream_api: RestreamApi,
    /// The base URL volunteers reach this server at.
    pub public_url: PublicUrl,
    /// The origins of Fanout's own pages.
    pub own_origins: OwnOrigins,
    /// The live engine, when a channel is watched.
    pub engine: Option<crate::engine::Engine>,
    /// What is not configured yet, for the pages.
    pub setup: SetupStatus,
    /// The admin dashboard's door (users, sessions, failed logins).
    pub admin: crate::access::AdminAccess,
    /// One lock per account, held by whatever replaces its tokens (refresh, disconnect,
    /// reconnection, deletion).
    pub account_locks: crate::restream::tokens::AccountLocks,
    /// The validated configuration.
    pub settings: Arc<Settings>,
    /// The configuration report made at start (secrets masked), for the dashboard.
    pub report: Arc<Vec<app::admin::SettingRow>>,
    /// Tells the admins (e-mail, webhooks) what happened.
    pub notifier: crate::notify::Notifier,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Creates the data directory if needed, loads (or generates) the master key, opens the
    /// store and checks that it belongs to that key. `listening` is the bound address.
    pub async fn start(settings: Settings, listening: SocketAddr) -> Result<Self, StartError> {
        if settings.secret_key.is_none() || matches!(settings.store, StoreLocation::Sqlite(_)) {
            create_private_dir(&settings.data_dir)?;
        }
        let (key, source) = MasterKey::load_or_create(settings.secret_key.as_ref(), &settings.data_dir)?;
        match &source {
            KeySource::Generated(path) => tracing::warn!(
                path = %path.display(),
                key_id = %key.id(),
                "generated a new master key; back this file up: stored tokens cannot be read without it"
            ),
            source => tracing::info!(%source, key_id = %key.id(), "master key loaded"),
        }
        let cipher = Cipher::new(&key);

        let store = store::open(&settings.store).await?;
        match store::ensure_key_matches(store.as_ref(), &cipher).await? {
            KeyCheck::Adopted => tracing::info!(store = %store.backend(), key_id = %cipher.key_id(), "new store tied to the master key"),
            KeyCheck::Matches => tracing::info!(store = %store.backend(), "store opened; its secrets match the master key"),
        }

        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{listening}/")).map_err(|e| OAuthError::Config(e.to_string()))?,
        };
        let redirect = public_url.join(CALLBACK_PATH.trim_start_matches('/')).map_err(|e| OAuthError::Config(e.to_string()))?;
        let http = http_client()?;
        let endpoints = Endpoints::new(settings.restream_api_url.clone());
        let restream_oauth = match &settings.restream {
            Some(app) => {
                tracing::info!(redirect_uri = %redirect, "Restream.io sign-up is open; register this redirect URI with the app");
                Some(RestreamOAuth::new(&endpoints, &app.client_id, &app.client_secret, &redirect, http.clone())?)
            }
            None => None,
        };
        let authorize = restream_oauth.clone().map(|oauth| Arc::new(oauth) as Arc<dyn AuthorizeUrl>);

        let site = crate::http::site::SiteFiles::read(&settings.site_root);
        let leptos = LeptosOptions::builder()
            .output_name("fanout")
            .site_root(settings.site_root.display().to_string())
            .site_pkg_dir(crate::http::site::PKG_DIR)
            .hash_files(site.hashed)
            .hash_file(crate::http::site::SiteFiles::hash_file(&settings.site_root).display().to_string().into())
            .site_addr(listening)
            .env(Env::PROD)
            .build();
        let setup = settings.setup_status();
        let dashboard = format!("{}/admin", public_url.as_str().trim_end_matches('/'));
        let notifier = crate::notify::Notifier::start(settings.notify.clone(), store.clone(), dashboard, Default::default())?;
        Ok(Self {
            notifier,
            leptos,
            signup: SignupService::new(store.clone(), authorize),
            store,
            cipher: Arc::new(cipher),
            links: LinkSigner::new(&key),
            unsubscribe: app::manage::unsubscribe::UnsubscribeSigner::new(&key),
            rate_limit: PublicRateLimit::per_minute(settings.rate_limit_per_minute),
            restream_oauth,
            restream_api: RestreamApi::new(endpoints, http),
            own_origins: OwnOrigins::new(&public_url, listening),
            public_url: PublicUrl(public_url.as_str().trim_end_matches('/').to_string()),
            engine: None,
            setup,
            admin: crate::access::AdminAccess {
                users: settings.admin_users.clone(),
                secure_cookies: public_url.scheme() == "https",
                ..Default::default()
            },
            settings: Arc::new(settings),
            report: Arc::default(),
            account_locks: crate::restream::tokens::AccountLocks::default(),
        })
    }

    /// Starts the live engine when a channel is watched (until `stop`).
    pub async fn start_engine(&mut self, stop: &tokio_util::sync::CancellationToken) -> Result<(), StartError> {
        let services = crate::engine::Services {
            store: self.store.clone(),
            cipher: Arc::clone(&self.cipher),
            oauth: self.restream_oauth.clone(),
            api: self.restream_api.clone(),
            locks: self.account_locks.clone(),
        };
        self.engine = crate::engine::Engine::from_settings(&self.settings, services, stop).await?;
        Ok(())
    }

    /// Tells the engine (if any) that accounts changed.
    pub fn nudge_engine(&self) {
        if let Some(engine) = &self.engine {
            engine.nudge();
        }
    }
}

/// Creates `dir` (and parents) readable by the owner only, if it does not exist.
fn create_private_dir(dir: &std::path::Path) -> Result<(), StartError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StartError::DataDir { path: dir.to_path_buf(), source })
}
