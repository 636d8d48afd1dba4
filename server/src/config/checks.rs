//! One check per setting: each reads what was given, pushes its findings, and returns the
//! parsed value when it is valid.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;

use app::channels::YoutubeChannel;
use app::secrets::{KEY_FILE_NAME, MasterKey, Secret};
use app::store::StoreLocation;
use url::Url;

use super::{ConfigArgs, EngineSettings, Findings, Level, RestreamApp, SQLITE_FILE_NAME};

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

/// A WebSocket address: `ws://` or `wss://` with a host, and no query (the token goes there)
/// or fragment.
fn websocket_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
        return Err(format!("`{text}` must be a ws:// or wss:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` must not have a query or fragment (Fanout adds the access token itself)"));
    }
    Ok(url)
}

/// Restream's two WebSockets; a plain `ws://` to another host than loopback is worth a warning
/// (the access token would cross the network in the clear).
pub(super) fn check_updates(args: &ConfigArgs, findings: &mut Findings) -> Option<super::UpdatesUrls> {
    let check = |subject: &'static str, text: &str, findings: &mut Findings| match websocket_url(text) {
        Ok(url) => {
            let loopback =
                url.host_str().is_some_and(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()));
            if url.scheme() == "ws" && !loopback {
                findings.push(Level::Warn, subject, format!("{url}: not TLS, so every access token crosses the network readable"));
            } else {
                findings.push(Level::Ok, subject, format!("{url} (+ each account's access token)"));
            }
            Some(url)
        }
        Err(problem) => {
            findings.push(Level::Error, subject, problem);
            None
        }
    };
    let streaming = check("FANOUT_RESTREAM_UPDATES_URL", &args.restream_updates_url, findings);
    let chat = match args.restream_chat_url.trim() {
        "off" | "" => {
            findings.push(Level::Note, "FANOUT_RESTREAM_CHAT_URL", "off: a platform to reconnect in Restream is not noticed");
            Some(None)
        }
        text => check("FANOUT_RESTREAM_CHAT_URL", text, findings).map(Some),
    };
    Some(super::UpdatesUrls { streaming: streaming?, chat: chat? })
}

fn valid_mongo_database(name: &str) -> bool {
    !name.is_empty() && name.len() < 64 && !name.contains(['/', '\\', '.', ' ', '"', '$', '\0'])
}

pub(super) fn check_listen(text: &str, findings: &mut Findings) -> Option<SocketAddr> {
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

pub(super) fn check_public_url(text: Option<&str>, listen: Option<SocketAddr>, findings: &mut Findings) -> Option<Url> {
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

pub(super) fn check_url(subject: &'static str, text: &str, findings: &mut Findings) -> Option<Url> {
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

pub(super) fn check_store(args: &ConfigArgs, findings: &mut Findings) -> Option<StoreLocation> {
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

pub(super) fn check_youtube_channel(text: Option<&str>, findings: &mut Findings) -> Option<YoutubeChannel> {
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

pub(super) fn check_restream_app(args: &ConfigArgs, findings: &mut Findings) -> Option<RestreamApp> {
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
            findings.push(
                Level::Error,
                "RESTREAM_CLIENT_SECRET",
                "RESTREAM_CLIENT_ID is set but RESTREAM_CLIENT_SECRET is not: set both or neither",
            );
            None
        }
        (None, Some(_)) => {
            findings.push(
                Level::Error,
                "RESTREAM_CLIENT_ID",
                "RESTREAM_CLIENT_SECRET is set but RESTREAM_CLIENT_ID is not: set both or neither",
            );
            None
        }
    }
}

pub(super) fn check_engine(args: &ConfigArgs, findings: &mut Findings) -> Option<EngineSettings> {
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
    let restream_updates = check_updates(args, findings);
    let source = super::source::check_source(&args.source, findings);
    let push = super::push::check_push(&args.push, findings);
    let slate = super::slate::check_slate(&args.slate, &args.source.ffmpeg, findings);
    let backend = super::nimble::check_backend(args, findings);
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
        restream_updates: restream_updates?,
        source: source?,
        push: push?,
        slate: slate?,
        backend: backend?,
    })
}

pub(super) fn check_rate_limit(per_minute: u32, findings: &mut Findings) -> Option<NonZeroU32> {
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

pub(super) fn check_log_filter(filter: &str, findings: &mut Findings) {
    match tracing_subscriber::EnvFilter::try_new(filter) {
        Ok(_) => findings.push(Level::Ok, "FANOUT_LOG", filter),
        Err(e) => findings.push(Level::Error, "FANOUT_LOG", format!("`{filter}` is not a log filter: {e}")),
    }
}

pub(super) fn check_data_dir(dir: &Path, findings: &mut Findings) {
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
pub(super) fn check_key(configured: Option<&Secret>, data_dir: &Path, findings: &mut Findings) {
    if let Some(key) = configured.filter(|k| !k.expose().trim().is_empty()) {
        match MasterKey::from_base64(key.expose()) {
            Ok(key) => findings.push(Level::Ok, "FANOUT_SECRET_KEY", format!("set (key id {})", key.id())),
            Err(problem) => findings.push(Level::Error, "FANOUT_SECRET_KEY", problem.to_string()),
        }
        return;
    }
    let path = data_dir.join(KEY_FILE_NAME);
    match MasterKey::read_file(&path) {
        Ok(Some(key)) => findings.push(Level::Ok, "FANOUT_SECRET_KEY", format!("not set; using {} (key id {})", path.display(), key.id())),
        Ok(None) => findings.push(
            Level::Note,
            "FANOUT_SECRET_KEY",
            format!("not set; a key will be generated into {} at start (back it up)", path.display()),
        ),
        Err(problem) => findings.push(Level::Error, "FANOUT_SECRET_KEY", format!("not set, and {}: {problem}", path.display())),
    }
}

pub(super) fn check_site_root(root: &Path, findings: &mut Findings) {
    let site = crate::http::site::SiteFiles::read(root);
    let missing: Vec<&str> = site.files.iter().map(String::as_str).filter(|f| !root.join(f).is_file()).collect();
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

pub(super) fn check_admin_users(text: Option<&str>, findings: &mut Findings) -> Option<crate::access::AdminUsers> {
    match crate::access::AdminUsers::parse(text.unwrap_or_default()) {
        Ok(users) if users.is_empty() => {
            findings.push(Level::Warn, "FANOUT_ADMIN_USERS", "no admin: the dashboard stays closed (make one with `fanout hash-password`)");
            Some(users)
        }
        Ok(users) => {
            findings.push(Level::Ok, "FANOUT_ADMIN_USERS", format!("{} admin(s): {}", users.names().len(), users.names().join(", ")));
            Some(users)
        }
        Err(error) => {
            findings.push(Level::Error, "FANOUT_ADMIN_USERS", error.to_string());
            None
        }
    }
}

pub(super) fn check_port_mbps(port_mbps: Option<u32>, findings: &mut Findings) -> Option<Option<u32>> {
    match port_mbps {
        None => Some(None),
        Some(mbps) if (1..=400_000).contains(&mbps) => {
            findings.push(Level::Ok, "FANOUT_PORT_MBPS", format!("the port carries {mbps} Mbit/s"));
            Some(Some(mbps))
        }
        Some(mbps) => {
            findings.push(Level::Error, "FANOUT_PORT_MBPS", format!("{mbps} is not between 1 and 400000 (Mbit/s)"));
            None
        }
    }
}

pub(super) fn check_retention(days: u32, events_max: u64, findings: &mut Findings) -> Option<app::store::Retention> {
    let mut ok = true;
    if !(1..=3650).contains(&days) {
        findings.push(Level::Error, "FANOUT_RETENTION_DAYS", format!("{days} is not between 1 and 3650 (days)"));
        ok = false;
    }
    if !(100..=100_000_000).contains(&events_max) {
        findings.push(Level::Error, "FANOUT_EVENTS_MAX", format!("{events_max} is not between 100 and 100000000"));
        ok = false;
    }
    if !ok {
        return None;
    }
    findings.push(
        Level::Ok,
        "FANOUT_RETENTION_DAYS",
        format!("events and disconnected accounts are kept {days} days (at most {events_max} events)"),
    );
    Some(app::store::Retention { max_age: time::Duration::days(i64::from(days)), max_count: events_max })
}

pub(super) fn check_metrics_token(token: Option<&Secret>, findings: &mut Findings) -> Option<Option<Secret>> {
    match token.filter(|t| !t.expose().is_empty()) {
        None => {
            findings.push(
                Level::Note,
                "FANOUT_METRICS_TOKEN",
                "not set: /metrics answers anyone who can reach it (it names no stream key)",
            );
            Some(None)
        }
        Some(token) if token.expose().len() >= 16 && token.expose().chars().all(|c| c.is_ascii_graphic()) => {
            findings.push(Level::Ok, "FANOUT_METRICS_TOKEN", "set (not shown): /metrics needs it as a bearer token");
            Some(Some(token.clone()))
        }
        Some(_) => {
            findings.push(Level::Error, "FANOUT_METRICS_TOKEN", "must be at least 16 printable characters without spaces (not shown)");
            None
        }
    }
}
