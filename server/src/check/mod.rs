//! `fanout check`: the configuration report — every setting, then whether the store is
//! reachable and was sealed with the configured key, and the source's tools ([`source`]) —
//! without creating or changing anything; with `--youtube`, the source's canary too. Exits
//! non-zero when any finding is an error.

mod source;

use std::process::ExitCode;
use std::time::Duration;

use app::secrets::{Cipher, MasterKey};
use app::store::{self, MongoStore, SharedStore, SqliteStore, StoreError, StoreLocation};

use crate::config::{self, ConfigArgs, Findings, Level, Settings};

/// How long the store may take to answer.
const STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// What to check beyond the configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    /// Also look at the configured channel now, resolve its live and read a few seconds of it,
    /// through the exact path the engine uses — or, given a watch URL of a live (one known to be
    /// always on, for a new server), that live. The canary to run on a new VPS.
    #[arg(long, value_name = "WATCH_URL", num_args = 0..=1, default_missing_value = "")]
    pub youtube: Option<String>,
}

/// Prints the report; `FAILURE` when anything is an error.
pub async fn run(args: &ConfigArgs, check: &CheckArgs) -> ExitCode {
    let mut validated = config::validate(args);
    match &validated.settings {
        Some(settings) => {
            check_store(settings, &mut validated.findings).await;
            if let config::BackendSettings::Nimble(nimble) = &settings.engine.backend {
                check_nimble(nimble.as_ref(), &mut validated.findings).await;
            }
            source::check_tools(&settings.engine.source, &mut validated.findings).await;
            if let Some(watch) = &check.youtube {
                let watch = Some(watch.as_str()).filter(|w| !w.is_empty());
                source::check_youtube(settings, watch, &mut validated.findings).await;
            }
        }
        None => validated.findings.push(Level::Note, "store", "not checked: fix the errors above first"),
    }
    let findings = &validated.findings;
    println!("Fanout configuration check\n{findings}");
    let (errors, warnings) = (findings.count(Level::Error), findings.count(Level::Warn));
    let verdict = if errors == 0 { "Fanout can start." } else { "Fanout cannot start until the errors are fixed." };
    println!("{errors} error(s), {warnings} warning(s). {verdict}");
    if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn check_store(settings: &Settings, findings: &mut Findings) {
    let opened = tokio::time::timeout(STORE_TIMEOUT, open_existing(&settings.store, findings)).await;
    let store = match opened {
        Ok(Ok(Some(store))) => store,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => return findings.push(Level::Error, "store", error.to_string()),
        Err(_) => return findings.push(Level::Error, "store", format!("no answer within {} s", STORE_TIMEOUT.as_secs())),
    };
    match tokio::time::timeout(STORE_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => findings.push(Level::Ok, "store", format!("{} reachable", store.backend())),
        Ok(Err(error)) => return findings.push(Level::Error, "store", error.to_string()),
        Err(_) => return findings.push(Level::Error, "store", format!("no answer within {} s", STORE_TIMEOUT.as_secs())),
    }
    check_key_against_store(settings, store.as_ref(), findings).await;
}

/// Asks Nimble's management API for its server status with the configured token: a wrong
/// token, an unreachable API and a malformed answer each get their own message.
async fn check_nimble(nimble: &config::NimbleSettings, findings: &mut Findings) {
    const SUBJECT: &str = "Nimble API";
    let client = match nimble.client() {
        Ok(client) => client.with_timeout(STORE_TIMEOUT),
        Err(error) => return findings.push(Level::Error, SUBJECT, error.to_string()),
    };
    match client.server_status().await {
        Ok(status) => {
            let connections = status.connections.map(|n| format!(", {n} connection(s)")).unwrap_or_default();
            findings.push(Level::Ok, SUBJECT, format!("{} answers with the configured token{connections}", nimble.api));
        }
        // Fanout starts without Nimble and keeps trying; a refused token or a strange answer
        // will not fix itself.
        Err(error) if error.is_unreachable() => {
            findings.push(Level::Warn, SUBJECT, format!("{error}; Fanout can start and will keep trying"))
        }
        Err(error) => findings.push(Level::Error, SUBJECT, error.to_string()),
    }
}

/// Opens the store without creating anything; `None` when there is nothing to open yet.
async fn open_existing(location: &StoreLocation, findings: &mut Findings) -> Result<Option<SharedStore>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) if !path.exists() => {
            findings.push(Level::Note, "store", format!("{} does not exist yet; it will be created at start", path.display()));
            Ok(None)
        }
        StoreLocation::Sqlite(path) => {
            let store = SqliteStore::open_existing(path).await?;
            let pending = store.pending_migrations().await?;
            if pending == SqliteStore::migration_count() {
                findings.push(Level::Note, "store", format!("{} has no schema yet; it will be created at start", path.display()));
                return Ok(None);
            }
            if pending > 0 {
                findings.push(Level::Note, "store", format!("{pending} schema update(s) will be applied at the next start"));
            }
            Ok(Some(std::sync::Arc::new(store)))
        }
        StoreLocation::Mongo { uri, database } => Ok(Some(std::sync::Arc::new(MongoStore::connect_existing(uri, database).await?))),
    }
}

async fn check_key_against_store(settings: &Settings, store: &dyn store::Store, findings: &mut Findings) {
    let key = match &settings.secret_key {
        Some(configured) => MasterKey::from_base64(configured.expose()).ok(),
        None => MasterKey::read_file(&settings.key_file()).ok().flatten(),
    };
    let Some(key) = key else {
        // No key yet: fine for a new store, fatal for one that already holds sealed secrets.
        return match store.meta("key_check").await {
            Ok(Some(_)) => findings.push(
                Level::Error,
                "secret key vs store",
                format!(
                    "the store holds secrets sealed with a key, but FANOUT_SECRET_KEY is not set and {} is missing: \
                     restore the key, or its tokens cannot be read",
                    settings.key_file().display()
                ),
            ),
            Ok(None) => findings.push(Level::Note, "secret key vs store", "no secrets sealed yet"),
            Err(error) => findings.push(Level::Error, "secret key vs store", error.to_string()),
        };
    };
    let cipher = Cipher::new(&key);
    match store::verify_key(store, &cipher).await {
        Ok(Some(_)) => findings.push(Level::Ok, "secret key vs store", format!("the store's secrets were sealed with key {}", key.id())),
        Ok(None) => findings.push(Level::Note, "secret key vs store", "no secrets sealed yet"),
        Err(error) => findings.push(Level::Error, "secret key vs store", error.to_string()),
    }
}
