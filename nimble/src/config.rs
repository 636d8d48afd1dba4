//! Nimble's own configuration for Fanout: `nimble.conf` (the management API on loopback, with
//! its token) and `rules.conf` (the RTMP application Fanout's ingest publishes to), rendered
//! from the templates in `nimble/conf/` with values from Fanout's configuration.
//!
//! The templates hold placeholders only (`{{name}}`); no secret is committed. [`render`] fills
//! them and refuses what would leave Nimble open or guessable: an empty, short, default or
//! placeholder-looking token or password, a name that would break the file's syntax, a
//! placeholder left unfilled, or an RTMP listener beyond loopback without a publishing login.
//! Keys used in `nimble.conf`: `port`, `logging`, `management_listen_interfaces`,
//! `management_port`, `management_token` (Nimble Streamer native API reference, "Starting
//! point: enable API access"). The `rules.conf` layout (`SyncResponse` → `RtmpSettings` with
//! `interfaces` and `apps`, `RtmpPublishSettings`) is that of a rules.conf Nimble wrote.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use md5::{Digest, Md5};

use crate::Secret;
use crate::sync::Source;

/// The `nimble.conf` template.
pub const NIMBLE_CONF_TEMPLATE: &str = include_str!("../conf/nimble.conf.template");
/// The `rules.conf` template.
pub const RULES_CONF_TEMPLATE: &str = include_str!("../conf/rules.conf.template");

/// The shortest token or password accepted.
pub const MIN_SECRET_LEN: usize = 16;

/// Values that are someone's example, never a secret (compared without case).
const DEFAULT_SECRETS: &[&str] = &[
    "mypassword", // the reference's own example of management_token
    "password",
    "passw0rd",
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "token",
    "nimble",
    "admin",
    "default",
    "example",
    "test",
    "1234567890123456",
    "0000000000000000",
];

/// A login for publishing to the ingest application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLogin {
    /// The login.
    pub login: String,
    /// Its password.
    pub password: Secret,
}

/// What the templates are filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NimbleConfigValues {
    /// `management_token`: Fanout's `FANOUT_NIMBLE_TOKEN` (or however the server names it).
    pub management_token: Secret,
    /// `management_port` (Nimble's default: 8082).
    pub management_port: u16,
    /// `port`, Nimble's HTTP streaming port (Nimble's default: 8081).
    pub http_port: u16,
    /// `logging`: error, info, verbose or debug.
    pub logging: String,
    /// The address Nimble's RTMP listener binds (loopback unless the ingest runs elsewhere).
    pub rtmp_listen_ip: IpAddr,
    /// The RTMP port (1935).
    pub rtmp_port: u16,
    /// Where Fanout's ingest publishes: the RTMP application and stream.
    pub ingest: Source,
    /// A login for publishing; required when the RTMP listener is not on loopback.
    pub ingest_login: Option<IngestLogin>,
    /// The `hash` revision written into rules.conf; `None`: derived from the values.
    pub revision: Option<u64>,
}

impl NimbleConfigValues {
    /// Nimble's defaults around a token: API on 8082, HTTP on 8081, RTMP on 127.0.0.1:1935,
    /// ingest to `fanout/live`, no login.
    pub fn new(management_token: Secret) -> Self {
        Self {
            management_token,
            management_port: 8082,
            http_port: 8081,
            logging: "info".into(),
            rtmp_listen_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rtmp_port: 1935,
            ingest: Source { app: "fanout".into(), stream: "live".into() },
            ingest_login: None,
            revision: None,
        }
    }

    /// The management API's base URL for [`crate::NimbleClient::new`].
    pub fn management_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.management_port)
    }

    /// The URL Fanout's ingest (ffmpeg) publishes to: `rtmp://host:port/app/stream`, or with a
    /// login `rtmp://host:port/app?rtmpauth=login:password/stream` — the query form Nimble
    /// takes publishing credentials in (the one the seed's ingest used). A secret, since it may
    /// carry the password; [`render`] allows only URL-safe characters in the login and password.
    pub fn ingest_url(&self) -> Secret {
        let host = match self.rtmp_listen_ip {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST).to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let auth = self.ingest_login.as_ref().map(|l| format!("?rtmpauth={}:{}", l.login, l.password.expose())).unwrap_or_default();
        Secret::new(format!("rtmp://{host}:{}/{}{auth}/{}", self.rtmp_port, self.ingest.app, self.ingest.stream))
    }
}

/// Why the configuration cannot be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A secret is empty.
    #[error("the {what} is empty: set it in Fanout's configuration (e.g. `openssl rand -base64 24`)")]
    EmptySecret {
        /// Which secret.
        what: &'static str,
    },
    /// A secret is too short to resist guessing.
    #[error("the {what} is shorter than {MIN_SECRET_LEN} characters: use a long random value (e.g. `openssl rand -base64 24`)")]
    ShortSecret {
        /// Which secret.
        what: &'static str,
    },
    /// A secret is a well-known default or example.
    #[error("the {what} is a well-known default: use a long random value instead")]
    DefaultSecret {
        /// Which secret.
        what: &'static str,
    },
    /// A secret looks like a placeholder someone forgot to replace.
    #[error("the {what} looks like a placeholder (e.g. {{{{…}}}}, <…>, your-…): set the real value")]
    PlaceholderSecret {
        /// Which secret.
        what: &'static str,
    },
    /// A value has characters the file cannot hold safely.
    #[error("the {what} {value:?} may only use letters, digits and {allowed}")]
    InvalidValue {
        /// Which value.
        what: &'static str,
        /// The value (never a secret).
        value: String,
        /// The other characters allowed.
        allowed: &'static str,
    },
    /// Nimble's RTMP listener would be reachable from outside with no login.
    #[error("Nimble's RTMP listener on {ip} is not loopback: set an ingest login, or anyone could publish to it")]
    OpenIngest {
        /// The listening address.
        ip: IpAddr,
    },
    /// A template placeholder was left unfilled (a template and this code disagree).
    #[error("the {file} template has a placeholder this Fanout does not fill: {placeholder}")]
    UnfilledPlaceholder {
        /// Which file.
        file: &'static str,
        /// The placeholder.
        placeholder: String,
    },
    /// A rendered file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The two rendered files. They hold the token and passwords: `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    nimble_conf: Secret,
    rules_conf: Secret,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rendered { nimble_conf: ***, rules_conf: *** }")
    }
}

impl Rendered {
    /// `nimble.conf`'s content.
    pub fn nimble_conf(&self) -> &str {
        self.nimble_conf.expose()
    }

    /// `rules.conf`'s content.
    pub fn rules_conf(&self) -> &str {
        self.rules_conf.expose()
    }

    /// Writes `nimble.conf` and `rules.conf` into `dir` (e.g. `/etc/nimble`), readable by
    /// their owner only.
    pub fn write_to(&self, dir: &Path) -> Result<(), ConfigError> {
        for (name, content) in [("nimble.conf", self.nimble_conf()), ("rules.conf", self.rules_conf())] {
            let path = dir.join(name);
            write_private(&path, content).map_err(|e| ConfigError::Write { path: path.display().to_string(), reason: e.to_string() })?;
        }
        Ok(())
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

/// Fills both templates with `values`, refusing anything unsafe (see the module doc).
pub fn render(values: &NimbleConfigValues) -> Result<Rendered, ConfigError> {
    check_secret("Nimble management token", &values.management_token)?;
    check_name("logging level", &values.logging, "")?;
    check_name("ingest application", &values.ingest.app, "_ - .")?;
    check_name("ingest stream", &values.ingest.stream, "_ - .")?;
    if let Some(login) = &values.ingest_login {
        check_name("ingest login", &login.login, "_ - .")?;
        check_secret("ingest password", &login.password)?;
        if !login.password.expose().chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)) {
            return Err(ConfigError::InvalidValue {
                what: "ingest password",
                value: "***".into(),
                allowed: "- _ . ~ (it travels in the ingest URL)",
            });
        }
    } else if !values.rtmp_listen_ip.is_loopback() {
        return Err(ConfigError::OpenIngest { ip: values.rtmp_listen_ip });
    }
    let json = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let (login, password) = values.ingest_login.as_ref().map(|l| (l.login.as_str(), l.password.expose())).unwrap_or(("", ""));
    let revision = values.revision.unwrap_or_else(|| revision_of(values)).to_string();
    let nimble_conf = fill(
        "nimble.conf",
        NIMBLE_CONF_TEMPLATE,
        &[
            ("http_port", values.http_port.to_string()),
            ("logging", values.logging.clone()),
            ("management_listen_interfaces", Ipv4Addr::LOCALHOST.to_string()),
            ("management_port", values.management_port.to_string()),
            ("management_token", values.management_token.expose().to_string()),
        ],
    )?;
    let rules_conf = fill(
        "rules.conf",
        RULES_CONF_TEMPLATE,
        &[
            ("revision", revision),
            ("rtmp_listen_ip", json(&values.rtmp_listen_ip.to_string())),
            ("rtmp_port", values.rtmp_port.to_string()),
            ("ingest_app", json(&values.ingest.app)),
            ("ingest_login", json(login)),
            ("ingest_password", json(password)),
        ],
    )?;
    Ok(Rendered { nimble_conf: Secret::new(nimble_conf), rules_conf: Secret::new(rules_conf) })
}

/// Replaces every `{{name}}`; fails on one left over.
fn fill(file: &'static str, template: &str, values: &[(&str, String)]) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(ConfigError::UnfilledPlaceholder { file, placeholder: rest[start..].chars().take(40).collect() });
        };
        let name = after[..end].trim();
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
            .ok_or_else(|| ConfigError::UnfilledPlaceholder { file, placeholder: format!("{{{{{name}}}}}") })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A revision number that changes when the non-secret values do.
fn revision_of(values: &NimbleConfigValues) -> u64 {
    let mut digest = Md5::new();
    let login = values.ingest_login.as_ref().map(|l| l.login.as_str()).unwrap_or("");
    for part in [values.rtmp_listen_ip.to_string(), values.rtmp_port.to_string(), values.ingest.app.clone(), login.to_string()] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let bytes = digest.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    // Nimble's own revisions are millisecond timestamps (13 digits); stay in that range.
    u64::from_be_bytes(first) % 10_000_000_000_000
}

fn check_secret(what: &'static str, secret: &Secret) -> Result<(), ConfigError> {
    let value = secret.expose();
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::EmptySecret { what });
    }
    let lower = trimmed.to_ascii_lowercase();
    if trimmed.contains("{{")
        || trimmed.contains("}}")
        || (trimmed.starts_with('<') && trimmed.ends_with('>'))
        || (trimmed.starts_with("${") && trimmed.ends_with('}'))
        || ["your", "replace", "placeholder", "xxxx", "todo", "fixme"].iter().any(|w| lower.contains(w))
    {
        return Err(ConfigError::PlaceholderSecret { what });
    }
    let alphanumeric: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    if DEFAULT_SECRETS.iter().any(|d| lower == *d || alphanumeric == d.replace(['-', '_'], ""))
        || lower.chars().all(|c| lower.starts_with(c))
    {
        return Err(ConfigError::DefaultSecret { what });
    }
    if value.chars().count() < MIN_SECRET_LEN {
        return Err(ConfigError::ShortSecret { what });
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#' || c == '"' || c == '\\') {
        return Err(ConfigError::InvalidValue { what, value: "***".into(), allowed: "printable symbols except space, #, \" and \\" });
    }
    Ok(())
}

fn check_name(what: &'static str, value: &str, allowed: &'static str) -> Result<(), ConfigError> {
    let extra: Vec<char> = allowed.chars().filter(|c| !c.is_whitespace()).collect();
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c)) {
        return Err(ConfigError::InvalidValue {
            what,
            value: value.chars().take(60).collect(),
            allowed: if allowed.is_empty() { "nothing else" } else { allowed },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Zq8-v1NfT3xK0pLr9aWm";
    const PASSWORD: &str = "h7Gq2-Lm9xR4tVb8Kc";

    fn values() -> NimbleConfigValues {
        let mut values = NimbleConfigValues::new(Secret::new(TOKEN));
        values.ingest_login = Some(IngestLogin { login: "fanout-ingest".into(), password: Secret::new(PASSWORD) });
        values
    }

    #[test]
    fn rendered_files_have_no_placeholder_and_no_default_secret() {
        let rendered = render(&values()).unwrap_or_else(|e| panic!("{e}"));
        for content in [rendered.nimble_conf(), rendered.rules_conf()] {
            assert!(!content.contains("{{"), "a placeholder is left: {content}");
        }
        let is_default = |value: &str| DEFAULT_SECRETS.iter().any(|d| value.eq_ignore_ascii_case(d));
        for line in rendered.nimble_conf().lines().filter(|l| !l.starts_with('#')) {
            let value = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or_default();
            assert!(!is_default(value), "a default secret in {line:?}");
        }
        let json: serde_json::Value = serde_json::from_str(rendered.rules_conf()).unwrap_or_else(|e| panic!("{e}"));
        fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        let mut values = Vec::new();
        strings(&json, &mut values);
        assert!(values.iter().all(|v| !is_default(v)), "a default secret in rules.conf: {values:?}");
        assert!(!rendered.nimble_conf().contains("}}"));
        assert!(rendered.nimble_conf().contains(&format!("management_token = {TOKEN}\n")));
        assert!(rendered.nimble_conf().contains("management_listen_interfaces = 127.0.0.1\n"));
        assert!(rendered.nimble_conf().contains("management_port = 8082\n"));
    }

    #[test]
    fn rendered_rules_conf_is_json_with_the_ingest_application() {
        let rendered = render(&values()).unwrap_or_else(|e| panic!("{e}"));
        let json: serde_json::Value =
            serde_json::from_str(rendered.rules_conf()).unwrap_or_else(|e| panic!("{e}: {}", rendered.rules_conf()));
        let settings = &json["SyncResponse"]["RtmpSettings"];
        assert_eq!(settings["interfaces"][0]["ip"], "127.0.0.1");
        assert_eq!(settings["interfaces"][0]["port"], 1935);
        assert_eq!(settings["apps"][0]["app"], "fanout");
        assert_eq!(settings["apps"][0]["login"], "fanout-ingest");
        assert_eq!(settings["apps"][0]["password"], PASSWORD);
        assert_eq!(json["SyncResponse"]["RtmpPublishSettings"]["settings"], serde_json::json!([]));
        assert!(!format!("{rendered:?}").contains(TOKEN));
    }

    #[test]
    fn the_templates_themselves_hold_no_secret() {
        for template in [NIMBLE_CONF_TEMPLATE, RULES_CONF_TEMPLATE] {
            assert!(!template.contains(TOKEN) && !template.contains(PASSWORD));
        }
        assert!(NIMBLE_CONF_TEMPLATE.contains("management_token = {{management_token}}"));
    }

    #[test]
    fn weak_tokens_are_refused() {
        let refused = |token: &str| render(&NimbleConfigValues::new(Secret::new(token))).err();
        assert_eq!(refused(""), Some(ConfigError::EmptySecret { what: "Nimble management token" }));
        assert_eq!(refused("   "), Some(ConfigError::EmptySecret { what: "Nimble management token" }));
        assert_eq!(refused("mypassword"), Some(ConfigError::DefaultSecret { what: "Nimble management token" }));
        assert_eq!(refused("Change-Me"), Some(ConfigError::DefaultSecret { what: "Nimble management token" }));
        assert_eq!(refused("aaaaaaaaaaaaaaaaaaaa"), Some(ConfigError::DefaultSecret { what: "Nimble management token" }));
        assert_eq!(refused("{{management_token}}"), Some(ConfigError::PlaceholderSecret { what: "Nimble management token" }));
        assert_eq!(refused("<your-token-here>"), Some(ConfigError::PlaceholderSecret { what: "Nimble management token" }));
        assert_eq!(refused("short-token"), Some(ConfigError::ShortSecret { what: "Nimble management token" }));
        assert!(matches!(refused("a-long-token-with a space"), Some(ConfigError::InvalidValue { .. })));
        assert_eq!(refused(TOKEN), None);
    }

    #[test]
    fn an_open_rtmp_listener_needs_a_login_and_names_are_checked() {
        let mut open = NimbleConfigValues::new(Secret::new(TOKEN));
        open.rtmp_listen_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert!(matches!(render(&open), Err(ConfigError::OpenIngest { .. })));
        let mut bad_app = values();
        bad_app.ingest.app = "live\",\"x".into();
        assert!(matches!(render(&bad_app), Err(ConfigError::InvalidValue { what: "ingest application", .. })));
        let mut weak_password = values();
        weak_password.ingest_login = Some(IngestLogin { login: "fanout".into(), password: Secret::new("password") });
        assert_eq!(render(&weak_password).err(), Some(ConfigError::DefaultSecret { what: "ingest password" }));
        let mut unsafe_password = values();
        unsafe_password.ingest_login = Some(IngestLogin { login: "fanout".into(), password: Secret::new("h7Gq2/Lm9x@R4tVb8Kc") });
        assert!(matches!(render(&unsafe_password), Err(ConfigError::InvalidValue { what: "ingest password", .. })));
    }

    #[test]
    fn an_unknown_placeholder_is_an_error() {
        assert_eq!(fill("x", "a = {{nope}}", &[]), Err(ConfigError::UnfilledPlaceholder { file: "x", placeholder: "{{nope}}".into() }));
        assert_eq!(fill("x", "a = {{ b }}!", &[("b", "1".into())]), Ok("a = 1!".into()));
    }

    #[test]
    fn the_ingest_url_carries_the_login_as_rtmpauth() {
        let url = values().ingest_url();
        assert_eq!(url.expose(), format!("rtmp://127.0.0.1:1935/fanout?rtmpauth=fanout-ingest:{PASSWORD}/live"));
        assert_eq!(format!("{url:?}"), "***");
        assert_eq!(NimbleConfigValues::new(Secret::new(TOKEN)).ingest_url().expose(), "rtmp://127.0.0.1:1935/fanout/live");
    }
}
