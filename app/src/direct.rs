//! Direct destinations: plain RTMP/RTMPS targets outside Restream.io that the admin adds on the
//! dashboard (a Facebook page's own key, a backup server). The form's rules are written once
//! here ([`validate`]) and run by the server on every save; the stream key is sealed at rest and
//! never shown again after it is saved — the list only says that one is set.

#![allow(missing_docs)] // `#[server]` generates a public argument struct.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use url::Url;

/// The longest label.
pub const MAX_LABEL: usize = 80;
/// The longest stream key.
pub const MAX_KEY: usize = 512;

/// One direct destination as the dashboard lists it (never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectRow {
    pub id: String,
    pub label: String,
    /// `rtmp[s]://host[:port]/application`.
    pub server: String,
    pub enabled: bool,
}

/// A direct destination as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectForm {
    pub label: String,
    /// The server URL, or the whole URL with the key at its end.
    pub url: String,
    /// The stream key (empty when editing = keep the saved one).
    pub key: String,
}

/// A form that passed [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDirect {
    pub label: String,
    /// `rtmp[s]://host[:port]/application`, no trailing slash.
    pub server: String,
    /// The key, when one was given.
    pub key: Option<String>,
}

/// Why a direct destination's form is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectError {
    #[error("Give it a name (at most {MAX_LABEL} characters).")]
    Label,
    #[error("The URL must look like rtmp://host/application or rtmps://host:443/application.")]
    Url,
    #[error("The stream key is needed (at most {MAX_KEY} characters, no spaces).")]
    Key,
}

/// Checks the form. `key_required` is false when editing (an empty key keeps the saved one).
/// A URL pasted whole (`rtmp://host/app/key`) with an empty key field is split at its last
/// segment, as the platforms show it.
pub fn validate(form: &DirectForm, key_required: bool) -> Result<ValidDirect, Vec<DirectError>> {
    let mut errors = Vec::new();
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        errors.push(DirectError::Label);
    }
    let mut key = Some(form.key.trim().to_string()).filter(|k| !k.is_empty());
    let server = match split_url(&form.url, key.is_some()) {
        Some((server, pasted)) => {
            key = key.or(pasted);
            Some(server)
        }
        None => None,
    };
    if server.is_none() {
        errors.push(DirectError::Url);
    }
    let key_ok = match &key {
        Some(k) => k.chars().count() <= MAX_KEY && !k.chars().any(|c| c.is_whitespace() || c.is_control()),
        None => !key_required,
    };
    if !key_ok {
        errors.push(DirectError::Key);
    }
    match (errors.is_empty(), server) {
        (true, Some(server)) => Ok(ValidDirect { label: label.to_string(), server, key }),
        _ => Err(errors),
    }
}

/// `rtmp[s]://host[:port]/app[/key]` → the server part, and the key when it was pasted at the
/// end (only when the key field is empty: then the last segment is the key).
fn split_url(text: &str, key_given: bool) -> Option<(String, Option<String>)> {
    let url = Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "rtmp" | "rtmps") || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let base = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    match segments.split_last() {
        None => None,
        Some((app, [])) => Some((format!("{base}/{app}"), None)),
        Some((last, app)) if !key_given => Some((format!("{base}/{}", app.join("/")), Some((*last).to_string()))),
        Some(_) => Some((format!("{base}/{}", segments.join("/")), None)),
    }
}

/// Every direct destination (the admin gate refuses this without a session).
#[server(name = ReadDirect, prefix = "/api", endpoint = "admin_direct", input = server_fn::codec::GetUrl)]
pub async fn admin_direct() -> Result<Vec<DirectRow>, ServerFnError> {
    crate::admin::require_admin().await?;
    use crate::store::SharedStore;
    let store = crate::context::<SharedStore>()?;
    let directs = store.direct_destinations().await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(directs.into_iter().map(|d| DirectRow { id: d.id.to_string(), label: d.label, server: d.server, enabled: d.enabled }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(label: &str, url: &str, key: &str) -> DirectForm {
        DirectForm { label: label.into(), url: url.into(), key: key.into() }
    }

    #[test]
    fn a_server_url_and_a_key_are_kept_apart() {
        let valid = validate(&form(" Church page ", "rtmps://live-api-s.facebook.com:443/rtmp/", "FB-123"), true);
        assert_eq!(
            valid,
            Ok(ValidDirect {
                label: "Church page".into(),
                server: "rtmps://live-api-s.facebook.com:443/rtmp".into(),
                key: Some("FB-123".into())
            })
        );
    }

    #[test]
    fn a_whole_url_pasted_with_no_key_is_split_at_its_last_segment() {
        let valid = validate(&form("Backup", "rtmp://backup.example.org/live/abc-123", ""), true);
        assert_eq!(valid.map(|v| (v.server, v.key)), Ok(("rtmp://backup.example.org/live".into(), Some("abc-123".into()))));
    }

    #[test]
    fn editing_without_a_key_keeps_the_saved_one() {
        assert_eq!(validate(&form("Backup", "rtmp://backup.example.org/live", ""), false).map(|v| v.key), Ok(None));
        assert_eq!(validate(&form("Backup", "rtmp://backup.example.org/live", ""), true), Err(vec![DirectError::Key]));
    }

    #[test]
    fn bad_input_is_refused_with_every_reason() {
        assert_eq!(
            validate(&form("", "http://example.org/live", "has space"), true),
            Err(vec![DirectError::Label, DirectError::Url, DirectError::Key])
        );
        assert_eq!(validate(&form("x", "rtmp:///live", "k"), true), Err(vec![DirectError::Url]));
        assert_eq!(validate(&form("x", "rtmp://host", "k"), true), Err(vec![DirectError::Url]), "no application");
        assert_eq!(validate(&form("x", "rtmp://host/live?key=1", "k"), true), Err(vec![DirectError::Url]));
        assert_eq!(validate(&form(&"n".repeat(81), "rtmp://host/live", "k"), true), Err(vec![DirectError::Label]));
    }
}
