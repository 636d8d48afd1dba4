//! The backend's settings: Fanout's built-in relay (the default) or, with
//! `FANOUT_BACKEND=nimble`, an existing Nimble Streamer — where its management API is, its token,
//! and where the ingest publishes the live (Nimble's RTMP listener, application and stream, an
//! optional publishing login). Checked like every other setting; the token and the password
//! are never shown.

use std::net::{IpAddr, Ipv4Addr};

use app::secrets::Secret;
use fanout_nimble::{IngestLogin, NimbleClient, NimbleConfigValues, NimbleError, Source};
use url::Url;

use super::args::{BackendKind, ConfigArgs};
use super::{Findings, Level};

/// The backend: what sends the live to the destinations.
#[derive(Debug, Clone)]
pub enum BackendSettings {
    /// Fanout's built-in RTMP relay.
    Builtin,
    /// An existing Nimble Streamer, driven through its management API.
    Nimble(Box<NimbleSettings>),
}

/// How Fanout reaches and feeds a Nimble Streamer.
#[derive(Debug, Clone)]
pub struct NimbleSettings {
    /// The management API's base URL.
    pub api: Url,
    /// Nimble's `management_token`.
    pub token: Secret,
    /// The host of Nimble's RTMP listener.
    pub ingest_host: String,
    /// Its port.
    pub ingest_port: u16,
    /// The application the ingest publishes to.
    pub app: String,
    /// The stream the ingest publishes to.
    pub stream: String,
    /// A publishing login (name, password), when Nimble's ingest application has one.
    pub login: Option<(String, Secret)>,
}

impl NimbleSettings {
    /// Where the relay publishes the live inside Nimble: its RTMP application with the ingest
    /// login as the application's query (a secret: never shown).
    pub fn ingest_target(&self) -> crate::relay::RtmpTarget {
        crate::relay::RtmpTarget {
            tls: false,
            host: self.ingest_host.clone(),
            port: self.ingest_port,
            app: self.app.clone(),
            key: Secret::new(self.stream.clone()),
            app_query: self.login.as_ref().map(|(login, password)| Secret::new(format!("rtmpauth={login}:{}", password.expose()))),
        }
    }

    /// The ingest URL as it may be shown (no password).
    pub fn ingest_shown(&self) -> String {
        let login = self.login.as_ref().map(|(login, _)| format!(" (login `{login}`, password not shown)")).unwrap_or_default();
        format!("rtmp://{}:{}/{}/{}{login}", self.ingest_host, self.ingest_port, self.app, self.stream)
    }

    /// Where the republish rules take the live from.
    pub fn source(&self) -> Source {
        Source { app: self.app.clone(), stream: self.stream.clone() }
    }

    /// A client of the management API.
    pub fn client(&self) -> Result<NimbleClient, NimbleError> {
        NimbleClient::new(self.api.as_str(), self.token.clone())
    }

    /// The values `nimble.conf` and `rules.conf` are rendered with, for a Nimble on this host:
    /// the management API on loopback at the configured port, RTMP on the ingest's address.
    pub fn template_values(&self) -> Result<NimbleConfigValues, String> {
        let api_host = self.api.host_str().unwrap_or_default();
        if !is_loopback(api_host) {
            return Err(format!(
                "FANOUT_NIMBLE_API points at {api_host}: the rendered nimble.conf keeps Nimble's management API on \
                 loopback, so Fanout must run on the Nimble host with FANOUT_NIMBLE_API=http://127.0.0.1:<port>"
            ));
        }
        let rtmp_listen_ip = match self.ingest_host.trim_matches(['[', ']']) {
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            host => host.parse::<IpAddr>().map_err(|_| {
                format!(
                    "FANOUT_NIMBLE_INGEST names the host {host:?}: give the IP address Nimble's RTMP listener binds \
                     (e.g. rtmp://127.0.0.1:1935)"
                )
            })?,
        };
        let mut values = NimbleConfigValues::new(self.token.clone());
        values.management_port = self.api.port_or_known_default().unwrap_or(values.management_port);
        values.rtmp_listen_ip = rtmp_listen_ip;
        values.rtmp_port = self.ingest_port;
        values.ingest = self.source();
        values.ingest_login = self.login.as_ref().map(|(login, password)| IngestLogin { login: login.clone(), password: password.clone() });
        Ok(values)
    }
}

/// Checks `FANOUT_BACKEND` (or its earlier name, `FANOUT_RELAY`) and, for `nimble`, the Nimble
/// settings.
pub(super) fn check_backend(args: &ConfigArgs, findings: &mut Findings) -> Option<BackendSettings> {
    let (subject, kind) = match (args.backend, args.relay) {
        (Some(kind), _) => ("FANOUT_BACKEND", kind),
        (None, Some(kind)) => ("FANOUT_BACKEND (read from FANOUT_RELAY, its earlier name)", kind),
        (None, None) => ("FANOUT_BACKEND", BackendKind::Builtin),
    };
    match kind {
        BackendKind::Builtin => {
            findings.push(Level::Ok, subject, "builtin: Fanout's own RTMP relay sends the live to every destination");
            if args.nimble_token.as_ref().is_some_and(|t| !t.expose().trim().is_empty()) {
                findings.push(Level::Note, "FANOUT_NIMBLE_TOKEN", "set (not shown) but unused while the backend is builtin");
            }
            Some(BackendSettings::Builtin)
        }
        BackendKind::Nimble => {
            findings.push(
                Level::Ok,
                subject,
                "nimble: Nimble Streamer republishes the live to every destination (one rule each, made by Fanout)",
            );
            check_nimble(args, findings).map(|settings| BackendSettings::Nimble(Box::new(settings)))
        }
    }
}

/// The Nimble settings alone, whatever `FANOUT_BACKEND` says (for `fanout nimble-config`): the
/// settings, or the findings that say what is wrong.
pub fn nimble_settings(args: &ConfigArgs) -> Result<NimbleSettings, Findings> {
    let mut findings = Findings::default();
    match check_nimble(args, &mut findings) {
        Some(settings) if findings.count(Level::Error) == 0 => Ok(settings),
        _ => Err(findings),
    }
}

fn check_nimble(args: &ConfigArgs, findings: &mut Findings) -> Option<NimbleSettings> {
    let api = check_api(&args.nimble_api, findings);
    let token = check_token(args.nimble_token.as_ref(), findings);
    let ingest = check_ingest(&args.nimble_ingest, findings);
    let app = check_name("FANOUT_NIMBLE_APP", &args.nimble_app, findings);
    let stream = check_name("FANOUT_NIMBLE_STREAM", &args.nimble_stream, findings);
    let login = check_login(args, ingest.as_ref().map(|(host, _)| host.as_str()), findings);
    let (ingest_host, ingest_port) = ingest?;
    let settings = NimbleSettings { api: api?, token: token?, ingest_host, ingest_port, app: app?, stream: stream?, login: login? };
    findings.push(Level::Ok, "FANOUT_NIMBLE_INGEST", format!("the ingest publishes to {}", settings.ingest_shown()));
    Some(settings)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn check_api(text: &str, findings: &mut Findings) -> Option<Url> {
    const SUBJECT: &str = "FANOUT_NIMBLE_API";
    let url = match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => {
            findings.push(Level::Error, SUBJECT, format!("`{text}` is not an http:// URL with a host (e.g. http://127.0.0.1:8082)"));
            return None;
        }
    };
    if let Err(error) = NimbleClient::new(url.as_str(), Secret::new("checking-the-address-only")) {
        findings.push(Level::Error, SUBJECT, error.to_string());
        return None;
    }
    let host = url.host_str().unwrap_or_default();
    if is_loopback(host) {
        findings.push(Level::Ok, SUBJECT, url.as_str());
    } else {
        findings.push(
            Level::Warn,
            SUBJECT,
            format!(
                "{url} is not on loopback: Nimble's API should listen on 127.0.0.1 only (a request's hash can be replayed \
                 by anyone who sees it); reach a remote Nimble through a tunnel"
            ),
        );
    }
    Some(url)
}

fn check_token(token: Option<&Secret>, findings: &mut Findings) -> Option<Secret> {
    const SUBJECT: &str = "FANOUT_NIMBLE_TOKEN";
    let Some(token) = token.filter(|t| !t.expose().trim().is_empty()) else {
        findings.push(
            Level::Error,
            SUBJECT,
            "not set: FANOUT_BACKEND=nimble needs Nimble's management_token (make one with `openssl rand -base64 24`; \
             `fanout nimble-config` writes it into nimble.conf)",
        );
        return None;
    };
    match fanout_nimble::render(&NimbleConfigValues::new(token.clone())) {
        Ok(_) => findings.push(Level::Ok, SUBJECT, "set (not shown)"),
        Err(problem) => findings.push(Level::Warn, SUBJECT, format!("set (not shown), but weak: {problem}")),
    }
    Some(token.clone())
}

fn check_ingest(text: &str, findings: &mut Findings) -> Option<(String, u16)> {
    const SUBJECT: &str = "FANOUT_NIMBLE_INGEST";
    let refuse = |findings: &mut Findings, why: &str| {
        findings.push(Level::Error, SUBJECT, format!("`{text}` {why} (e.g. rtmp://127.0.0.1:1935)"));
        None
    };
    let Ok(url) = Url::parse(text.trim()) else { return refuse(findings, "is not a URL") };
    if url.scheme() != "rtmp" {
        return refuse(findings, "must start with rtmp://");
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else { return refuse(findings, "has no host") };
    if !matches!(url.path(), "" | "/") || url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return refuse(
            findings,
            "must be rtmp://host:port only (the application and stream are FANOUT_NIMBLE_APP and FANOUT_NIMBLE_STREAM, \
             the login FANOUT_NIMBLE_INGEST_LOGIN)",
        );
    }
    Some((host.to_string(), url.port().unwrap_or(1935)))
}

/// Letters, digits, `_`, `-` and `.`: what an RTMP application or stream name, and the
/// templates, take safely.
fn check_name(subject: &'static str, name: &str, findings: &mut Findings) -> Option<String> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
        findings.push(Level::Error, subject, format!("`{name}` must be 1 to 64 letters, digits, `_`, `-` or `.`"));
        return None;
    }
    findings.push(Level::Ok, subject, name);
    Some(name.to_string())
}

fn check_login(args: &ConfigArgs, host: Option<&str>, findings: &mut Findings) -> Option<Option<(String, Secret)>> {
    const SUBJECT: &str = "FANOUT_NIMBLE_INGEST_LOGIN";
    let login = args.nimble_ingest_login.as_deref().map(str::trim).filter(|l| !l.is_empty());
    let password = args.nimble_ingest_password.as_ref().filter(|p| !p.expose().trim().is_empty());
    match (login, password) {
        (Some(login), Some(password)) => {
            let url_safe = |text: &str, extra: &str| text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
            if !url_safe(login, "_-.") || !url_safe(password.expose(), "-_.~") {
                findings.push(
                    Level::Error,
                    SUBJECT,
                    "the login may use letters, digits, `_ - .` and the password letters, digits, `- _ . ~` (both travel \
                     in the ingest URL)",
                );
                return None;
            }
            findings.push(Level::Ok, SUBJECT, format!("`{login}` (FANOUT_NIMBLE_INGEST_PASSWORD set, not shown)"));
            Some(Some((login.to_string(), password.clone())))
        }
        (None, None) => {
            if host.is_some_and(|h| !is_loopback(h)) {
                findings.push(
                    Level::Warn,
                    SUBJECT,
                    "not set while Nimble's RTMP listener is not on loopback: anyone could publish to the ingest \
                     application unless Nimble restricts it",
                );
            }
            Some(None)
        }
        (Some(_), None) | (None, Some(_)) => {
            findings.push(
                Level::Error,
                SUBJECT,
                "FANOUT_NIMBLE_INGEST_LOGIN and FANOUT_NIMBLE_INGEST_PASSWORD go together: set both or neither",
            );
            None
        }
    }
}
