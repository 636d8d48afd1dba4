//! The state every request shares, and its assembly at start: the data directory, the master
//! key, and the store tied to that key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::secrets::{Cipher, KeySource, MasterKey, SecretsError};
use app::setup::SetupStatus;
use app::store::{self, KeyCheck, SharedStore, StoreError, StoreLocation};
use axum::extract::FromRef;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;

use crate::config::Settings;

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
    /// What is not configured yet, for the pages.
    pub setup: SetupStatus,
    /// The validated configuration.
    pub settings: Arc<Settings>,
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

        let leptos = LeptosOptions::builder()
            .output_name("fanout")
            .site_root(settings.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(listening)
            .env(Env::PROD)
            .build();
        let setup = settings.setup_status();
        Ok(Self { leptos, store, cipher: Arc::new(cipher), setup, settings: Arc::new(settings) })
    }

    /// Puts what server functions need into the Leptos context of a request.
    pub fn provide_contexts(&self) {
        provide_context(self.setup.clone());
        provide_context(self.store.clone());
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
