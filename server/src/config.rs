//! Fanout's configuration: the command-line flags with their environment fallbacks, and their
//! validation into [`Settings`]. Validation reports every problem at once, each saying what to
//! do, and never echoes a secret's value.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use app::channels::YoutubeChannel;
use app::secrets::{KEY_FILE_NAME, MasterKey, Secret};
use app::setup::{MissingSetting, SetupStatus};
use app::store::StoreLocation;
use clap::{Args, ValueEnum};

use crate::ingest::{PullMode, TranscodeProfile};
use url::Url;

/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "fanout.db";

/// Every setting, as given on the command line or in the environment (flags win).
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Address and port the web server listens on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "FANOUT_LISTEN", default_value = "127.0.0.1:3000", global = true)]
    pub listen: String,

    /// Base URL volunteers' browsers reach this server at, e.g. `https://fanout.example.org`
    /// (used for OAuth redirects and manage links). Default: `http://` + the listen address.
    #[arg(long, env = "FANOUT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Directory for the embedded store (`fanout.db`) and the generated `secret.key`.
    #[arg(long, env = "FANOUT_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// MongoDB connection string (`mongodb://…` or `mongodb+srv://…`); when set, MongoDB is the
    /// store instead of the embedded SQLite file. Prefer the environment variable: command
    /// lines are visible to other local users.
    #[arg(long, env = "FANOUT_MONGO_URI", hide_env_values = true, global = true)]
    pub mongo_uri: Option<Secret>,

    /// MongoDB database name.
    #[arg(long, env = "FANOUT_MONGO_DATABASE", default_value = "fanout", global = true)]
    pub mongo_database: String,

    /// Master key sealing tokens at rest: base64 of 32 random bytes (`openssl rand -base64 32`).
    /// Default: generated once into `<data dir>/secret.key` (mode 0600). Back it up: tokens
    /// cannot be read without it. Prefer the environment variable.
    #[arg(long, env = "FANOUT_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<Secret>,

    /// The YouTube channel whose lives are restreamed: a channel URL, `@handle` or `UC…` id.
    #[arg(long, env = "FANOUT_YOUTUBE_CHANNEL", global = true)]
    pub youtube_channel: Option<String>,

    /// Client id of Fanout's Restream.io application (developers.restream.io).
    #[arg(long, env = "RESTREAM_CLIENT_ID", global = true)]
    pub restream_client_id: Option<String>,

    /// Client secret of Fanout's Restream.io application. Prefer the environment variable.
    #[arg(long, env = "RESTREAM_CLIENT_SECRET", hide_env_values = true, global = true)]
    pub restream_client_secret: Option<Secret>,

    /// Base URL of Restream.io's API (a stand-in's address in tests).
    #[arg(long, env = "RESTREAM_API_URL", default_value = "https://api.restream.io", global = true)]
    pub restream_api_url: String,

    /// Directory holding the built site (`pkg/fanout.js`, `.wasm`, `.css` and public assets),
    /// as written by `cargo leptos build`.
    #[arg(long, env = "FANOUT_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: PathBuf,

    /// YouTube's base URL (a stand-in's address in tests).
    #[arg(long, env = "FANOUT_YOUTUBE_URL", default_value = "https://www.youtube.com", global = true)]
    pub youtube_url: String,

    /// Seconds between looks at the channel's `/live` page (±20 % jitter).
    #[arg(long, env = "FANOUT_POLL_SECS", default_value_t = 15, global = true)]
    pub poll_secs: u64,

    /// Seconds a live waits for its lost input before it ends.
    #[arg(long, env = "FANOUT_GRACE_SECS", default_value_t = 60, global = true)]
    pub grace_secs: u64,

    /// Title set on every volunteer channel; `{title}`, `{url}` and `{date}` are filled in.
    #[arg(long, env = "FANOUT_TITLE_TEMPLATE", default_value = "{title}", global = true)]
    pub title_template: String,

    /// Description set on every volunteer channel; `{title}`, `{url}` and `{date}` are filled in.
    #[arg(long, env = "FANOUT_DESCRIPTION_TEMPLATE", default_value = "{title}\n\nLive now: {url}", global = true)]
    pub description_template: String,

    /// The RTMP ingest each account's stream key is appended to.
    #[arg(long, env = "FANOUT_RESTREAM_INGEST", default_value = "rtmp://live.restream.io/live", global = true)]
    pub restream_ingest: String,

    /// How the live is pulled: `hls` (ffmpeg reads the manifest) or `yt-dlp` (piped into ffmpeg).
    #[arg(long, env = "FANOUT_PULL", value_enum, default_value_t = PullMode::Hls, global = true)]
    pub pull: PullMode,

    /// `copy` (remux only, the default), or transcode to `720p` or `480p`.
    #[arg(long, env = "FANOUT_TRANSCODE", value_enum, default_value_t = TranscodeProfile::Copy, global = true)]
    pub transcode: TranscodeProfile,

    /// The ffmpeg program.
    #[arg(long, env = "FANOUT_FFMPEG", default_value = "ffmpeg", global = true)]
    pub ffmpeg: String,

    /// The yt-dlp program.
    #[arg(long, env = "FANOUT_YT_DLP", default_value = "yt-dlp", global = true)]
    pub yt_dlp: String,

    /// Public actions (sign-up starts, OAuth callbacks, manage actions) allowed per client
    /// address per minute.
    #[arg(long, env = "FANOUT_RATE_LIMIT", default_value_t = 20, global = true)]
    pub rate_limit: u32,

    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it;
    /// otherwise clients could pick their own address).
    #[arg(long, env = "FANOUT_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,

    /// Log filter, e.g. `info` or `server=debug,info` (tracing's EnvFilter syntax).
    #[arg(long, env = "FANOUT_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "FANOUT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The Restream.io application Fanout signs volunteers up with.
#[derive(Debug, Clone)]
pub struct RestreamApp {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Secret,
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
    /// How the live is pulled.
    pub pull: PullMode,
    /// Copy or transcode.
    pub transcode: TranscodeProfile,
    /// The ffmpeg program.
    pub ffmpeg: String,
    /// The yt-dlp program.
    pub yt_dlp: String,
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

fn web_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` must be an http:// or https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` must not have a query or fragment"));
    }
    Ok(url)
}

fn valid_mongo_database(name: &str) -> bool {
    !name.is_empty() && name.len() < 64 && !name.contains(['/', '\\', '.', ' ', '"', '$', '\0'])
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
        findings.push(Level::Note, "FANOUT_TRUST_FORWARDED_FOR", "client addresses are taken from X-Forwarded-For (run behind a proxy that sets it)");
    }
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
            log: args.log.clone(),
            log_format: args.log_format,
        })
    };
    let settings = if findings.count(Level::Error) == 0 { build() } else { None };
    Validated { settings, findings }
}

fn check_listen(text: &str, findings: &mut Findings) -> Option<SocketAddr> {
    match text.parse::<SocketAddr>() {
        Ok(addr) => {
            findings.push(Level::Ok, "FANOUT_LISTEN", addr.to_string());
            Some(addr)
        }
        Err(_) => {
            let detail = format!("`{text}` is not an address:port (e.g. 127.0.0.1:3000 or 0.0.0.0:8080)");
            findings.push(Level::Error, "FANOUT_LISTEN", detail);
            None
        }
    }
}

fn check_public_url(text: Option<&str>, listen: Option<SocketAddr>, findings: &mut Findings) -> Option<Url> {
    if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
        return check_url("FANOUT_PUBLIC_URL", text, findings);
    }
    match listen {
        Some(addr) if addr.ip().is_unspecified() => findings.push(
            Level::Warn,
            "FANOUT_PUBLIC_URL",
            format!(
                "not set while listening on all interfaces: OAuth redirects would point at http://{addr}; \
                 set it to the address volunteers reach this server at"
            ),
        ),
        Some(addr) => findings.push(Level::Note, "FANOUT_PUBLIC_URL", format!("not set; using http://{addr} (from the listen address)")),
        None => findings.push(Level::Note, "FANOUT_PUBLIC_URL", "not set; derived from the listen address"),
    }
    None
}

fn check_url(subject: &'static str, text: &str, findings: &mut Findings) -> Option<Url> {
    match web_url(text) {
        Ok(url) => {
            findings.push(Level::Ok, subject, url.as_str());
            Some(url)
        }
        Err(problem) => {
            findings.push(Level::Error, subject, problem);
            None
        }
    }
}

fn check_store(args: &ConfigArgs, findings: &mut Findings) -> Option<StoreLocation> {
    let Some(uri) = args.mongo_uri.as_ref().map(|u| u.expose().trim()).filter(|u| !u.is_empty()) else {
        let path = args.data_dir.join(SQLITE_FILE_NAME);
        findings.push(Level::Note, "FANOUT_MONGO_URI", format!("not set; using the embedded store {}", path.display()));
        return Some(StoreLocation::Sqlite(path));
    };
    if !(uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://")) {
        findings.push(Level::Error, "FANOUT_MONGO_URI", "must start with mongodb:// or mongodb+srv:// (value not shown)");
        return None;
    }
    let database = &args.mongo_database;
    if !valid_mongo_database(database) {
        findings.push(Level::Error, "FANOUT_MONGO_DATABASE", format!("`{database}` is not a valid MongoDB database name"));
        return None;
    }
    findings.push(Level::Ok, "FANOUT_MONGO_URI", format!("MongoDB, database `{database}` (URI not shown)"));
    Some(StoreLocation::Mongo { uri: Secret::new(uri), database: database.clone() })
}

fn check_youtube_channel(text: Option<&str>, findings: &mut Findings) -> Option<YoutubeChannel> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        findings.push(Level::Warn, "FANOUT_YOUTUBE_CHANNEL", "not set: no live will be detected until it is");
        return None;
    };
    match YoutubeChannel::parse(text) {
        Ok(channel) => {
            findings.push(Level::Ok, "FANOUT_YOUTUBE_CHANNEL", channel.to_string());
            Some(channel)
        }
        Err(problem) => {
            findings.push(Level::Error, "FANOUT_YOUTUBE_CHANNEL", problem.to_string());
            None
        }
    }
}

fn check_restream_app(args: &ConfigArgs, findings: &mut Findings) -> Option<RestreamApp> {
    let id = args.restream_client_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let secret = args.restream_client_secret.as_ref().map(|s| s.expose().trim()).filter(|s| !s.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => {
            findings.push(Level::Ok, "RESTREAM_CLIENT_ID", id);
            findings.push(Level::Ok, "RESTREAM_CLIENT_SECRET", "set (not shown)");
            Some(RestreamApp { client_id: id.to_string(), client_secret: Secret::new(secret) })
        }
        (None, None) => {
            findings.push(
                Level::Warn,
                "RESTREAM_CLIENT_ID",
                "RESTREAM_CLIENT_ID and RESTREAM_CLIENT_SECRET are not set: volunteers cannot sign up until they are",
            );
            None
        }
        (Some(_), None) => {
            findings.push(Level::Error, "RESTREAM_CLIENT_SECRET", "RESTREAM_CLIENT_ID is set but RESTREAM_CLIENT_SECRET is not: set both or neither");
            None
        }
        (None, Some(_)) => {
            findings.push(Level::Error, "RESTREAM_CLIENT_ID", "RESTREAM_CLIENT_SECRET is set but RESTREAM_CLIENT_ID is not: set both or neither");
            None
        }
    }
}

fn check_engine(args: &ConfigArgs, findings: &mut Findings) -> Option<EngineSettings> {
    let youtube_url = check_url("FANOUT_YOUTUBE_URL", &args.youtube_url, findings);
    let seconds = |subject: &'static str, value: u64, range: std::ops::RangeInclusive<u64>, findings: &mut Findings| {
        if range.contains(&value) {
            findings.push(Level::Ok, subject, format!("{value} s"));
            Some(std::time::Duration::from_secs(value))
        } else {
            findings.push(Level::Error, subject, format!("{value} is not between {} and {} seconds", range.start(), range.end()));
            None
        }
    };
    let poll = seconds("FANOUT_POLL_SECS", args.poll_secs, 1..=3600, findings);
    let grace = seconds("FANOUT_GRACE_SECS", args.grace_secs, 1..=3600, findings);
    let title_ok = if args.title_template.trim().is_empty() {
        findings.push(Level::Error, "FANOUT_TITLE_TEMPLATE", "is empty: use at least `{title}`");
        false
    } else {
        findings.push(Level::Ok, "FANOUT_TITLE_TEMPLATE", format!("`{}`", args.title_template));
        true
    };
    let ingest_ok = match crate::relay::RtmpTarget::parse(&format!("{}/key", args.restream_ingest.trim_end_matches('/'))) {
        Ok(target) => {
            findings.push(Level::Ok, "FANOUT_RESTREAM_INGEST", format!("{} + the account's stream key", target.tc_url()));
            true
        }
        Err(error) => {
            findings.push(Level::Error, "FANOUT_RESTREAM_INGEST", format!("`{}` is not an RTMP ingest: {error}", args.restream_ingest));
            false
        }
    };
    findings.push(Level::Ok, "FANOUT_PULL", format!("{} (transcode: {})", args.pull, args.transcode));
    if !(title_ok && ingest_ok) {
        return None;
    }
    Some(EngineSettings {
        youtube_url: youtube_url?,
        poll: poll?,
        grace: grace?,
        title_template: args.title_template.clone(),
        description_template: args.description_template.replace("\\n", "\n"),
        restream_ingest: args.restream_ingest.trim_end_matches('/').to_string(),
        pull: args.pull,
        transcode: args.transcode,
        ffmpeg: args.ffmpeg.clone(),
        yt_dlp: args.yt_dlp.clone(),
    })
}

fn check_rate_limit(per_minute: u32, findings: &mut Findings) -> Option<NonZeroU32> {
    match NonZeroU32::new(per_minute).filter(|n| n.get() <= 10_000) {
        Some(limit) => {
            findings.push(Level::Ok, "FANOUT_RATE_LIMIT", format!("{limit} public actions per address per minute"));
            Some(limit)
        }
        None => {
            findings.push(Level::Error, "FANOUT_RATE_LIMIT", format!("{per_minute} is not between 1 and 10000"));
            None
        }
    }
}

fn check_log_filter(filter: &str, findings: &mut Findings) {
    match tracing_subscriber::EnvFilter::try_new(filter) {
        Ok(_) => findings.push(Level::Ok, "FANOUT_LOG", filter),
        Err(e) => findings.push(Level::Error, "FANOUT_LOG", format!("`{filter}` is not a log filter: {e}")),
    }
}

fn check_data_dir(dir: &Path, findings: &mut Findings) {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => match tempfile::tempfile_in(dir) {
            Ok(_) => findings.push(Level::Ok, "FANOUT_DATA_DIR", format!("{} (writable)", dir.display())),
            Err(e) => findings.push(Level::Error, "FANOUT_DATA_DIR", format!("{} is not writable: {e}", dir.display())),
        },
        Ok(_) => findings.push(Level::Error, "FANOUT_DATA_DIR", format!("{} exists but is not a directory", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            findings.push(Level::Note, "FANOUT_DATA_DIR", format!("{} does not exist yet; it will be created at start", dir.display()))
        }
        Err(e) => findings.push(Level::Error, "FANOUT_DATA_DIR", format!("cannot use {}: {e}", dir.display())),
    }
}

/// Checks the configured key or the key file.
fn check_key(configured: Option<&Secret>, data_dir: &Path, findings: &mut Findings) {
    if let Some(key) = configured.filter(|k| !k.expose().trim().is_empty()) {
        match MasterKey::from_base64(key.expose()) {
            Ok(key) => findings.push(Level::Ok, "FANOUT_SECRET_KEY", format!("set (key id {})", key.id())),
            Err(problem) => findings.push(Level::Error, "FANOUT_SECRET_KEY", problem.to_string()),
        }
        return;
    }
    let path = data_dir.join(KEY_FILE_NAME);
    match MasterKey::read_file(&path) {
        Ok(Some(key)) => {
            findings.push(Level::Ok, "FANOUT_SECRET_KEY", format!("not set; using {} (key id {})", path.display(), key.id()))
        }
        Ok(None) => findings.push(
            Level::Note,
            "FANOUT_SECRET_KEY",
            format!("not set; a key will be generated into {} at start (back it up)", path.display()),
        ),
        Err(problem) => findings.push(Level::Error, "FANOUT_SECRET_KEY", format!("not set, and {}: {problem}", path.display())),
    }
}

/// The files `cargo leptos build` writes that the pages load.
pub const SITE_FILES: &[&str] = &["pkg/fanout.js", "pkg/fanout.wasm", "pkg/fanout.css"];

fn check_site_root(root: &Path, findings: &mut Findings) {
    let missing: Vec<&str> = SITE_FILES.iter().copied().filter(|f| !root.join(f).is_file()).collect();
    if missing.is_empty() {
        findings.push(Level::Ok, "FANOUT_SITE_ROOT", root.display().to_string());
    } else {
        findings.push(
            Level::Warn,
            "FANOUT_SITE_ROOT",
            format!(
                "{} lacks {}: pages will render without their script and styles (build them with `cargo leptos build`)",
                root.display(),
                missing.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests;
