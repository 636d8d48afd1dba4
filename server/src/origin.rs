//! Where Fanout's own pages come from: the public URL's origin and the bound address's, which a
//! state-changing request must come from (`guard::same_origin`). A leaf.

use std::net::SocketAddr;

/// The origins (`scheme://host[:port]`) Fanout's own pages are served from.
#[derive(Debug, Clone)]
pub struct OwnOrigins(Vec<String>);

impl OwnOrigins {
    /// The public URL's origin, and the bound address's (with `localhost` for loopback).
    pub fn new(public_url: &url::Url, bound: SocketAddr) -> Self {
        let mut origins = vec![public_url.origin().ascii_serialization(), format!("http://{bound}")];
        if bound.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", bound.port()));
        }
        Self(origins)
    }

    /// Whether `origin` is one of them (compared without regard to case).
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|own| own.eq_ignore_ascii_case(origin))
    }
}
