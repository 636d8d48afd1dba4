//! Restream.io, as Fanout talks to it: the OAuth client ([`oauth`]: authorize URL, code
//! exchange, refresh, revocation), the API client ([`api`]: profile, channels, platforms,
//! titles, stream key), the [`tokens`] keeper, the [`titles`] templates, and [`updates`], the
//! listeners of Restream's streaming-updates WebSocket (what Restream really receives). Every
//! API address derives from one base URL (`RESTREAM_API_URL`), the WebSockets' from theirs
//! (`FANOUT_RESTREAM_UPDATES_URL`, `FANOUT_RESTREAM_CHAT_URL`), so tests point them at the
//! stand-in.
//! No token, code or secret is ever logged or put in an error message.

pub mod api;
pub mod oauth;
pub mod titles;
pub mod tokens;
pub mod updates;

use url::Url;

/// Restream's addresses, all under one base.
#[derive(Debug, Clone)]
pub struct Endpoints {
    base: Url,
}

impl Endpoints {
    /// The endpoints under `base` (e.g. `https://api.restream.io`).
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    fn join(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    /// The authorize dialog (`/login`).
    pub fn authorize(&self) -> Url {
        self.join("/login")
    }

    /// The token endpoint.
    pub fn token(&self) -> Url {
        self.join("/oauth/token")
    }

    /// The revocation endpoint.
    pub fn revoke(&self) -> Url {
        self.join("/oauth/revoke")
    }

    /// An API path, e.g. `/v2/user/profile`.
    pub fn api(&self, path: &str) -> Url {
        self.join(path)
    }
}

/// The HTTP client for Restream: bounded time, and no redirects (an OAuth client must not
/// follow them, and the API never needs to).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .user_agent(concat!("fanout/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_derives_from_the_base() {
        let real = Endpoints::new(Url::parse("https://api.restream.io").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(real.authorize().as_str(), "https://api.restream.io/login");
        assert_eq!(real.token().as_str(), "https://api.restream.io/oauth/token");
        assert_eq!(real.api("/v2/user/profile").as_str(), "https://api.restream.io/v2/user/profile");
        let nested = Endpoints::new(Url::parse("http://127.0.0.1:9/restream/").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(nested.revoke().as_str(), "http://127.0.0.1:9/restream/oauth/revoke");
    }
}
