//! The TLS client configuration Fanout's own connections use (RTMPS destinations, Restream's
//! WebSockets): rustls with the ring provider and the Mozilla roots (webpki-roots), built once
//! per purpose.

use std::sync::Arc;

/// A client configuration that trusts the public roots, offering `alpn` (none when empty).
pub fn client_config(alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            // The ring provider supports the default versions; this branch is unreachable in practice.
            rustls::ClientConfig::builder().with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth()
        });
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}
