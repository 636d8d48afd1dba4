//! Where the live comes from (`FANOUT_SOURCE`): pulled from YouTube, pushed to Fanout by the
//! broadcaster's encoder, or both (each the other's backup); and the push listener's settings —
//! its address, the certificate that makes it RTMPS, and the title a pushed live gets when
//! YouTube shows none. The stream key is not a setting: the admin makes one in Settings, and
//! it is shown once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{Findings, Level};

/// Where the live comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum SourceKind {
    /// Pulled from YouTube when the channel goes live (the default).
    Pull,
    /// Pushed to Fanout by the broadcaster: the live starts when the publisher does.
    Push,
    /// Both: whichever delivers feeds the destinations, the other stands by.
    Both,
}

impl SourceKind {
    /// Whether lives are pulled from YouTube.
    pub fn pulls(self) -> bool {
        matches!(self, Self::Pull | Self::Both)
    }

    /// Whether a pushed stream is accepted.
    pub fn accepts_push(self) -> bool {
        matches!(self, Self::Push | Self::Both)
    }
}

/// The push settings as given.
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Where the live comes from: `pull` (from YouTube, the default), `push` (the broadcaster's
    /// encoder publishes to Fanout) or `both` (each the other's backup).
    #[arg(long = "source", id = "fanout_source", env = "FANOUT_SOURCE", value_enum, default_value_t = SourceKind::Pull, global = true)]
    pub source: SourceKind,

    /// Where the push listener listens (RTMP, or RTMPS with a certificate).
    #[arg(long, env = "FANOUT_PUSH_LISTEN", default_value = "0.0.0.0:1935", global = true)]
    pub push_listen: SocketAddr,

    /// The certificate chain (PEM) that makes the push listener RTMPS.
    #[arg(long, env = "FANOUT_PUSH_TLS_CERT", global = true)]
    pub push_tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM).
    #[arg(long, env = "FANOUT_PUSH_TLS_KEY", global = true)]
    pub push_tls_key: Option<PathBuf>,

    /// The title of a pushed live when YouTube shows no live for it.
    #[arg(long, env = "FANOUT_PUSH_TITLE", default_value = "Live now", global = true)]
    pub push_title: String,
}

/// The validated push settings.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// Where the live comes from.
    pub source: SourceKind,
    /// The push listener's address.
    pub listen: SocketAddr,
    /// Its TLS configuration, when it speaks RTMPS.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The title of a pushed live YouTube shows nothing for.
    pub title: String,
}

/// Checks the push settings (reads the certificate and key when given).
pub(super) fn check_push(args: &PushArgs, findings: &mut Findings) -> Option<PushSettings> {
    let tls = match (&args.push_tls_cert, &args.push_tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => match server_config(cert, key) {
            Ok(config) => Some(config),
            Err(problem) => {
                findings.push(Level::Error, "FANOUT_PUSH_TLS_CERT", problem);
                return None;
            }
        },
        _ => {
            findings.push(Level::Error, "FANOUT_PUSH_TLS_CERT", "FANOUT_PUSH_TLS_CERT and FANOUT_PUSH_TLS_KEY go together");
            return None;
        }
    };
    let title = args.push_title.trim().to_string();
    if args.source.accepts_push() && title.is_empty() {
        findings.push(Level::Error, "FANOUT_PUSH_TITLE", "is empty: a pushed live YouTube shows nothing for needs a title");
        return None;
    }
    match args.source {
        SourceKind::Pull => findings.push(Level::Ok, "FANOUT_SOURCE", "pull: lives are pulled from YouTube"),
        kind => {
            let scheme = if tls.is_some() { "rtmps" } else { "rtmp" };
            let what = if kind == SourceKind::Both { "pulled from YouTube and pushed, each the other's backup" } else { "pushed" };
            findings.push(
                Level::Ok,
                "FANOUT_SOURCE",
                format!("{kind}: lives are {what}; the encoder publishes to {scheme}://<this host>:{}/ingest/<push key> (make the key in Settings)", args.push_listen.port()),
            );
            if tls.is_none() && !args.push_listen.ip().is_loopback() {
                findings.push(
                    Level::Warn,
                    "FANOUT_PUSH_TLS_CERT",
                    "not set: the push key crosses the internet in clear (set a certificate to make the listener RTMPS, or listen on loopback behind a TLS terminator)",
                );
            }
            findings.push(Level::Ok, "FANOUT_PUSH_TITLE", format!("“{title}” when YouTube shows no live for the pushed stream"));
        }
    }
    Some(PushSettings { source: args.source, listen: args.push_listen, tls, title })
}

/// The listener's TLS configuration from PEM files.
fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect)
        .map_err(|error| format!("cannot read a certificate chain from {}: {error}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|error| format!("cannot read a private key from {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map(Arc::new)
        .map_err(|error| format!("the certificate and the key do not go together: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(source: SourceKind) -> PushArgs {
        PushArgs {
            source,
            push_listen: "0.0.0.0:1935".parse().unwrap_or_else(|e| panic!("{e}")),
            push_tls_cert: None,
            push_tls_key: None,
            push_title: "Live now".into(),
        }
    }

    #[test]
    fn a_push_listener_without_tls_on_a_public_address_is_warned_about() {
        let mut findings = Findings::default();
        let settings = check_push(&args(SourceKind::Both), &mut findings).unwrap_or_else(|| panic!("valid: {findings}"));
        assert!(settings.source.pulls() && settings.source.accepts_push() && settings.tls.is_none());
        assert_eq!(findings.count(Level::Warn), 1, "{findings}");
        let mut findings = Findings::default();
        assert!(
            check_push(
                &PushArgs { push_listen: "127.0.0.1:1935".parse().unwrap_or_else(|e| panic!("{e}")), ..args(SourceKind::Push) },
                &mut findings
            )
            .is_some()
        );
        assert_eq!(findings.count(Level::Warn), 0, "behind a terminator on loopback: fine");
    }

    #[test]
    fn a_certificate_without_its_key_or_unreadable_is_an_error() {
        let mut findings = Findings::default();
        assert!(
            check_push(&PushArgs { push_tls_cert: Some("/nonexistent.pem".into()), ..args(SourceKind::Push) }, &mut findings).is_none()
        );
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, "not a certificate").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&key, "not a key").unwrap_or_else(|e| panic!("{e}"));
        let mut findings = Findings::default();
        let given = PushArgs { push_tls_cert: Some(cert), push_tls_key: Some(key), ..args(SourceKind::Push) };
        assert!(check_push(&given, &mut findings).is_none());
        assert_eq!(findings.count(Level::Error), 1, "{findings}");
    }
}
