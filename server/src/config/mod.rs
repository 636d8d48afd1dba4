//! Fanout's configuration: the command-line flags with their environment fallbacks, and their
//! validation into [`Settings`]. Validation reports every problem at once, each saying what to
//! do, and never echoes a secret's value.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use app::channels::YoutubeChannel;
use app::secrets::{KEY_FILE_NAME, Secret};
use app::setup::{MissingSetting, SetupStatus};
use app::store::StoreLocation;

mod args;
mod checks;
mod nimble;
mod node;
mod notify;
pub mod push;
pub mod slate;
pub mod source;
mod template;

pub use args::{BackendKind, ConfigArgs, LogFormat};
use checks::*;
pub use nimble::{BackendSettings, NimbleSettings, nimble_settings};
pub use node::{NodeArgs, NodeSettings};
pub use notify::NotifyArgs;
pub use template::env_template;

pub use push::{PushSettings, SourceKind};
pub use source::{JsRuntime, SourceArgs, SourceSettings, YoutubeProxy};
use url::Url;

/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "fanout.db";

/// The Restream.io application Fanout signs volunteers up with.
#[derive(Debug, Clone)]
pub struct RestreamApp {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Secret,
}

/// Restream's WebSockets (without a token: Fanout adds each account's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatesUrls {
    /// The streaming updates (`FANOUT_RESTREAM_UPDATES_URL`).
    pub streaming: Url,
    /// The chat API, read for its connections (`FANOUT_RESTREAM_CHAT_URL`); `None` when `off`.
    pub chat: Option<Url>,
}

/// How the live engine runs.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// YouTube's base URL.
    pub youtube_url: Url,
    /// Between looks at `/live`.
    pub poll: std::time::Duration,
    /// How long lost input is waited for.
    pub grace: std::time::Duration,
    /// Title template.
    pub title_template: String,
    /// Description template (with `\n` as a line break).
    pub description_template: String,
    /// The RTMP ingest base stream keys are appended to.
    pub restream_ingest: String,
    /// Restream's WebSockets, listened to during a live.
    pub restream_updates: UpdatesUrls,
    /// How the live is pulled, and the levers for YouTube.
    pub source: SourceSettings,
    /// Where the live comes from, and the push listener.
    pub push: PushSettings,
    /// The slate, when on.
    pub slate: Option<crate::relay::slate::SlateConfig>,
    /// The backend: what sends the live to the destinations.
    pub backend: BackendSettings,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The public base URL, when configured (otherwise derived from the bound address).
    pub public_url: Option<Url>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The store.
    pub store: StoreLocation,
    /// The configured master key, if any (otherwise the key file is used).
    pub secret_key: Option<Secret>,
    /// The watched channel, when configured.
    pub youtube_channel: Option<YoutubeChannel>,
    /// The Restream.io application, when configured.
    pub restream: Option<RestreamApp>,
    /// Restream.io's API base URL.
    pub restream_api_url: Url,
    /// The built site.
    pub site_root: PathBuf,
    /// Public actions per client address per minute.
    pub rate_limit_per_minute: NonZeroU32,
    /// How the engine runs.
    pub engine: EngineSettings,
    /// Whether `X-Forwarded-For` names the client.
    pub trust_forwarded_for: bool,
    /// Who may sign in to the admin dashboard.
    pub admin_users: crate::access::AdminUsers,
    /// The port's capacity (Mbit/s), when given.
    pub port_mbps: Option<u32>,
    /// This server's place in a cluster of several hosts, when it is a node of one.
    pub node: Option<NodeSettings>,
    /// How long events and disconnected accounts are kept.
    pub retention: app::store::Retention,
    /// The token `/metrics` requires, when set.
    pub metrics_token: Option<Secret>,
    /// Where notifications go.
    pub notify: crate::notify::NotifySettings,
    /// The log filter.
    pub log: String,
    /// The log format.
    pub log_format: LogFormat,
}

impl Settings {
    /// The key file in the data directory.
    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join(KEY_FILE_NAME)
    }

    /// What the pages should tell the admin is not configured yet.
    pub fn setup_status(&self) -> SetupStatus {
        let mut missing = Vec::new();
        if self.restream.is_none() {
            missing.push(MissingSetting {
                variables: vec!["RESTREAM_CLIENT_ID".into(), "RESTREAM_CLIENT_SECRET".into()],
                consequence: "volunteers cannot sign up: Fanout has no Restream.io application to send them to.".into(),
            });
        }
        if self.youtube_channel.is_none() {
            missing.push(MissingSetting {
                variables: vec!["FANOUT_YOUTUBE_CHANNEL".into()],
                consequence: "no live will be detected: Fanout does not know which YouTube channel to watch.".into(),
            });
        }
        SetupStatus {
            missing,
            signup_open: self.restream.is_some(),
            watched_channel: self.youtube_channel.as_ref().map(ToString::to_string),
            admins_configured: !self.admin_users.is_empty(),
        }
    }
}

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Set and valid.
    Ok,
    /// Fine, worth knowing (a default in use, something created at start).
    Note,
    /// Fanout runs, but part of it will not work.
    Warn,
    /// Fanout cannot start like this.
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Ok => "ok",
            Self::Note => "note",
            Self::Warn => "warn",
            Self::Error => "ERROR",
        })
    }
}

/// One line of a configuration report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How it weighs.
    pub level: Level,
    /// What it is about (a setting's name).
    pub subject: &'static str,
    /// What was found, and what to do.
    pub detail: String,
}

/// The findings of a validation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    /// Adds a finding.
    pub fn push(&mut self, level: Level, subject: &'static str, detail: impl Into<String>) {
        self.0.push(Finding { level, subject, detail: detail.into() });
    }

    /// How many findings are at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.0.iter().filter(|f| f.level == level).count()
    }

    /// The findings as the dashboard's Settings section lists them (secrets are never in a
    /// finding: they read "set (not shown)").
    pub fn report(&self) -> Vec<app::admin::SettingRow> {
        self.0
            .iter()
            .map(|f| app::admin::SettingRow {
                level: f.level.to_string().to_lowercase(),
                name: f.subject.to_string(),
                value: f.detail.clone(),
            })
            .collect()
    }

    /// The findings at `level` or worse.
    pub fn at_least(&self, level: Level) -> impl Iterator<Item = &Finding> {
        self.0.iter().filter(move |f| f.level >= level)
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.0 {
            writeln!(f, "  {:<5}  {:<24}  {}", finding.level, finding.subject, finding.detail)?;
        }
        Ok(())
    }
}

/// The outcome of validating [`ConfigArgs`]: settings when nothing is an error, and every finding.
#[derive(Debug)]
pub struct Validated {
    /// The settings, when no finding is an error.
    pub settings: Option<Settings>,
    /// Every finding, in the order of the settings.
    pub findings: Findings,
}

/// Checks every setting; never touches the network or writes a file.
pub fn validate(args: &ConfigArgs) -> Validated {
    let mut findings = Findings::default();
    let listen = check_listen(&args.listen, &mut findings);
    let public_url = check_public_url(args.public_url.as_deref(), listen, &mut findings);
    check_data_dir(&args.data_dir, &mut findings);
    let store = check_store(args, &mut findings);
    check_key(args.secret_key.as_ref(), &args.data_dir, &mut findings);
    let youtube_channel = check_youtube_channel(args.youtube_channel.as_deref(), &mut findings);
    let restream = check_restream_app(args, &mut findings);
    let restream_api_url = check_url("RESTREAM_API_URL", &args.restream_api_url, &mut findings);
    check_site_root(&args.site_root, &mut findings);
    let rate_limit = check_rate_limit(args.rate_limit, &mut findings);
    let engine = check_engine(args, &mut findings);
    if args.trust_forwarded_for {
        findings.push(
            Level::Note,
            "FANOUT_TRUST_FORWARDED_FOR",
            "client addresses are taken from X-Forwarded-For (run behind a proxy that sets it)",
        );
    }
    let admin_users = check_admin_users(args.admin_users.as_deref(), &mut findings);
    let port_mbps = check_port_mbps(args.port_mbps, &mut findings);
    let node = node::check_node(&args.node, args.port_mbps, store.as_ref(), &mut findings);
    let retention = check_retention(args.retention_days, args.events_max, &mut findings);
    let metrics_token = check_metrics_token(args.metrics_token.as_ref(), &mut findings);
    let notify = notify::check_notify(&args.notify, &mut findings);
    check_log_filter(&args.log, &mut findings);

    let build = || {
        Some(Settings {
            listen: listen?,
            public_url,
            data_dir: args.data_dir.clone(),
            store: store?,
            secret_key: args.secret_key.clone().filter(|k| !k.expose().trim().is_empty()),
            youtube_channel,
            restream,
            restream_api_url: restream_api_url?,
            site_root: args.site_root.clone(),
            rate_limit_per_minute: rate_limit?,
            engine: engine?,
            trust_forwarded_for: args.trust_forwarded_for,
            admin_users: admin_users?,
            port_mbps: port_mbps?,
            node: node?,
            retention: retention?,
            metrics_token: metrics_token?,
            notify: notify?,
            log: args.log.clone(),
            log_format: args.log_format,
        })
    };
    let settings = if findings.count(Level::Error) == 0 { build() } else { None };
    Validated { settings, findings }
}

#[cfg(test)]
pub(crate) mod tests;
