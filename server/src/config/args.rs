//! The command line: every setting as a flag with its environment variable (flags win), and
//! its help text — what `fanout --help` shows.

use std::path::PathBuf;

use app::secrets::Secret;
use clap::{Args, ValueEnum};

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

    /// Directory holding the built site (`pkg/fanout[.<hash>].js`, `.wasm`, `.css`, their
    /// precompressed twins, `hash.txt` and public assets), as `scripts/lib.sh`'s `build_site`
    /// writes it with `cargo leptos build`.
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

    /// Restream's streaming-updates WebSocket, listened to for every account during a live (what
    /// Restream really receives, each social channel online or not); Fanout adds the account's
    /// access token to its query.
    #[arg(long, env = "FANOUT_RESTREAM_UPDATES_URL", default_value = "wss://streaming.api.restream.io/ws", global = true)]
    pub restream_updates_url: String,

    /// Restream's chat WebSocket, read for its connections only (a platform whose connection
    /// expired in Restream, for the volunteer to reconnect there); `off` to not open it.
    #[arg(long, env = "FANOUT_RESTREAM_CHAT_URL", default_value = "wss://chat.api.restream.io/ws", global = true)]
    pub restream_chat_url: String,

    /// How the live is pulled, and the levers for YouTube.
    #[command(flatten)]
    pub source: super::source::SourceArgs,

    /// Where the live comes from, and the push listener.
    #[command(flatten)]
    pub push: super::push::PushArgs,

    /// The slate through gaps in the source.
    #[command(flatten)]
    pub slate: super::slate::SlateArgs,

    /// The backend — what sends the live to the destinations: `builtin` (Fanout's own RTMP
    /// relay, the default) or `nimble` (an existing Nimble Streamer, driven through its
    /// management API: one republish rule per destination).
    #[arg(long = "backend", id = "fanout_backend", value_name = "BACKEND", env = "FANOUT_BACKEND", value_enum, global = true)]
    pub backend: Option<BackendKind>,

    /// The backend's earlier name (`FANOUT_RELAY`), still read when `FANOUT_BACKEND` is not set.
    #[arg(long = "relay", id = "fanout_relay", value_name = "BACKEND", env = "FANOUT_RELAY", value_enum, global = true, hide = true)]
    pub relay: Option<BackendKind>,

    /// Nimble's management API (`management_listen_interfaces`:`management_port` in its
    /// nimble.conf), for `FANOUT_BACKEND=nimble`.
    #[arg(long, env = "FANOUT_NIMBLE_API", default_value = "http://127.0.0.1:8082", global = true)]
    pub nimble_api: String,

    /// Nimble's `management_token` (16 characters or more; `openssl rand -base64 24`). Prefer the
    /// environment variable.
    #[arg(long, env = "FANOUT_NIMBLE_TOKEN", hide_env_values = true, global = true)]
    pub nimble_token: Option<Secret>,

    /// Nimble's RTMP listener the ingest (ffmpeg) publishes the live to: `rtmp://host:port`.
    #[arg(long, env = "FANOUT_NIMBLE_INGEST", default_value = "rtmp://127.0.0.1:1935", global = true)]
    pub nimble_ingest: String,

    /// The RTMP application on Nimble the ingest publishes to (the republish rules' source).
    #[arg(long, env = "FANOUT_NIMBLE_APP", default_value = "fanout", global = true)]
    pub nimble_app: String,

    /// The stream name on Nimble the ingest publishes to.
    #[arg(long, env = "FANOUT_NIMBLE_STREAM", default_value = "live", global = true)]
    pub nimble_stream: String,

    /// A publishing login for Nimble's ingest application (needed when its RTMP listener is
    /// not on loopback); goes with `FANOUT_NIMBLE_INGEST_PASSWORD`.
    #[arg(long, env = "FANOUT_NIMBLE_INGEST_LOGIN", global = true)]
    pub nimble_ingest_login: Option<String>,

    /// The password of that login. Prefer the environment variable.
    #[arg(long, env = "FANOUT_NIMBLE_INGEST_PASSWORD", hide_env_values = true, global = true)]
    pub nimble_ingest_password: Option<Secret>,

    /// Public actions (sign-up starts, OAuth callbacks, manage actions) allowed per client
    /// address per minute.
    #[arg(long, env = "FANOUT_RATE_LIMIT", default_value_t = 20, global = true)]
    pub rate_limit: u32,

    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it;
    /// otherwise clients could pick their own address).
    #[arg(long, env = "FANOUT_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,

    /// The server port's real capacity in Mbit/s, for the dashboard's capacity planner.
    #[arg(long, env = "FANOUT_PORT_MBPS", global = true)]
    pub port_mbps: Option<u32>,

    /// Who may sign in to the admin dashboard: `name:argon2-hash`, comma-separated (make a hash
    /// with `fanout hash-password`). With none, `/admin` says how to create one.
    #[arg(long, env = "FANOUT_ADMIN_USERS", hide_env_values = true, global = true)]
    pub admin_users: Option<String>,

    /// How many days events (and disconnected volunteers' accounts) are kept.
    #[arg(long, env = "FANOUT_RETENTION_DAYS", default_value_t = 90, global = true)]
    pub retention_days: u32,

    /// The most events kept (the oldest go first).
    #[arg(long, env = "FANOUT_EVENTS_MAX", default_value_t = 100_000, global = true)]
    pub events_max: u64,

    /// A bearer token `/metrics` requires (`Authorization: Bearer …`); without it `/metrics` is
    /// open. Prefer the environment variable.
    #[arg(long, env = "FANOUT_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<Secret>,

    /// Where notifications go: e-mail and webhooks.
    #[command(flatten)]
    pub notify: super::notify::NotifyArgs,

    /// This server's place in a cluster of several hosts.
    #[command(flatten)]
    pub node: super::node::NodeArgs,

    /// Log filter, e.g. `info` or `server=debug,info` (tracing's EnvFilter syntax).
    #[arg(long, env = "FANOUT_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "FANOUT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Which backend sends the live to the destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Fanout's built-in RTMP relay.
    Builtin,
    /// An existing Nimble Streamer, through its management API.
    Nimble,
}

/// How log lines are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
