//! Where a destination is: an `rtmp://` or `rtmps://` URL split into host, port, application
//! and stream key. The key is a secret: it is never displayed or logged.

use std::fmt;

use app::secrets::Secret;
use url::Url;

/// Why a destination URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL.
    #[error("not a URL")]
    NotAUrl,
    /// Neither `rtmp://` nor `rtmps://`.
    #[error("the scheme must be rtmp:// or rtmps://")]
    Scheme,
    /// No host.
    #[error("the URL has no host")]
    NoHost,
    /// No application or stream key in the path.
    #[error("the URL must end with /<application>/<stream key>")]
    NoStreamKey,
}

/// An RTMP(S) destination.
#[derive(Clone, PartialEq, Eq)]
pub struct RtmpTarget {
    /// Over TLS (`rtmps://`).
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port (1935 for RTMP, 443 for RTMPS by default).
    pub port: u16,
    /// The RTMP application, e.g. `live`.
    pub app: String,
    /// The stream key (everything after the application, query included).
    pub key: Secret,
    /// A query the application is connected with (`?rtmpauth=login:password` for Nimble or
    /// Wowza): a secret, sent in `connect` and `tcUrl`, never shown.
    pub app_query: Option<Secret>,
}

impl RtmpTarget {
    /// Parses `rtmp[s]://host[:port]/app/key`.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let url = Url::parse(text.trim()).map_err(|_| TargetError::NotAUrl)?;
        let tls = match url.scheme() {
            "rtmp" => false,
            "rtmps" => true,
            _ => return Err(TargetError::Scheme),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(TargetError::NoHost)?.to_string();
        let port = url.port().unwrap_or(if tls { 443 } else { 1935 });
        let path = url.path().trim_start_matches('/');
        let (app, key) = path.split_once('/').ok_or(TargetError::NoStreamKey)?;
        let key = match url.query() {
            Some(query) => format!("{key}?{query}"),
            None => key.to_string(),
        };
        if app.is_empty() || key.is_empty() {
            return Err(TargetError::NoStreamKey);
        }
        Ok(Self { tls, host, port, app: app.to_string(), key: Secret::new(key), app_query: None })
    }

    /// The application as `connect` names it (with its query, if any: holds a secret).
    pub fn connect_app(&self) -> String {
        match &self.app_query {
            Some(query) => format!("{}?{}", self.app, query.expose()),
            None => self.app.clone(),
        }
    }

    /// `rtmp[s]://host:port/app[?query]`: the `tcUrl` a publisher announces (may hold a secret).
    pub fn tc_url(&self) -> String {
        format!("{}://{}:{}/{}", self.scheme(), self.host, self.port, self.connect_app())
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "rtmps" } else { "rtmp" }
    }
}

/// Shows the URL with the key (and any application query) hidden: `rtmp://host:port/app/***`.
impl fmt::Display for RtmpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}/{}/***", self.scheme(), self.host, self.port, self.app)
    }
}

impl fmt::Debug for RtmpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RtmpTarget({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restream_style_urls_split_into_app_and_key() {
        let target = RtmpTarget::parse("rtmp://live.restream.io/live/re_123_abc").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((target.tls, target.host.as_str(), target.port, target.app.as_str()), (false, "live.restream.io", 1935, "live"));
        assert_eq!(target.key.expose(), "re_123_abc");
        assert_eq!(target.to_string(), "rtmp://live.restream.io:1935/live/***");
        assert!(!format!("{target:?}").contains("re_123"), "the key is never shown");

        let tls = RtmpTarget::parse("rtmps://global-live.mux.com/app/k/with/slashes?x=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((tls.tls, tls.port, tls.key.expose()), (true, 443, "k/with/slashes?x=1"));
        assert_eq!(RtmpTarget::parse("rtmp://127.0.0.1:19350/live/key").map(|t| t.port), Ok(19350));

        let mut nimble = RtmpTarget::parse("rtmp://10.0.0.5:1936/fanout/live").unwrap_or_else(|e| panic!("{e}"));
        nimble.app_query = Some(Secret::new("rtmpauth=ingest:pw-h7Gq2"));
        assert_eq!(nimble.connect_app(), "fanout?rtmpauth=ingest:pw-h7Gq2");
        assert_eq!(nimble.tc_url(), "rtmp://10.0.0.5:1936/fanout?rtmpauth=ingest:pw-h7Gq2");
        assert!(!nimble.to_string().contains("pw-h7Gq2") && !format!("{nimble:?}").contains("pw-h7Gq2"), "{nimble}");
    }

    #[test]
    fn malformed_urls_are_refused_with_the_reason() {
        assert_eq!(RtmpTarget::parse("http://x/live/key"), Err(TargetError::Scheme));
        assert_eq!(RtmpTarget::parse("rtmp://host/live"), Err(TargetError::NoStreamKey));
        assert_eq!(RtmpTarget::parse("rtmp://host/live/"), Err(TargetError::NoStreamKey));
        assert_eq!(RtmpTarget::parse("not a url"), Err(TargetError::NotAUrl));
    }
}
