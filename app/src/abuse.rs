//! Abuse protection shared by server functions and plain routes: who the client is
//! ([`ClientAddress`]) and the per-address limit on public actions ([`PublicRateLimit`]).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Whether the client address may be taken from `X-Forwarded-For` (set as a request extension
/// when Fanout runs behind a reverse proxy that sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustForwardedFor(pub bool);

/// The address a request came from: the peer, or — behind a trusted proxy — the last address
/// the proxy appended to `X-Forwarded-For`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The address as rate limits and throttles count it: an IPv4 address (IPv4-mapped IPv6
    /// included) alone, an IPv6 address by its /64 — one subscriber's network, which they can
    /// fill with as many addresses as they like.
    pub fn bucket(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
            },
        }
    }
}

/// Why the client address is unknown (the server was not started with connection info).
#[derive(Debug, thiserror::Error)]
#[error("the client's address is not known")]
pub struct NoClientAddress;

impl axum::response::IntoResponse for NoClientAddress {
    fn into_response(self) -> axum::response::Response {
        (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = NoClientAddress;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let trusted = parts.extensions.get::<TrustForwardedFor>().is_some_and(|t| t.0);
        if trusted {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(address) = forwarded {
                return Ok(Self(address));
            }
        }
        parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| Self(info.0.ip())).ok_or(NoClientAddress)
    }
}

/// At most `per_minute` public actions (sign-up starts, OAuth callbacks, manage actions) per
/// client address, with bursts of the same size.
#[derive(Clone)]
pub struct PublicRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for PublicRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicRateLimit")
    }
}

impl PublicRateLimit {
    /// A limit of `per_minute` actions per address.
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self { limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))) }
    }

    /// Counts one action from `client` (by its [`ClientAddress::bucket`]): `Err(wait)` when it
    /// is over the limit.
    pub fn check(&self, client: ClientAddress) -> Result<(), Duration> {
        self.limiter.check_key(&client.bucket()).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses that are back under the limit (call now and then, to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_budget() {
        let limit = PublicRateLimit::per_minute(NonZeroU32::MIN.saturating_add(2));
        let a = ClientAddress(IpAddr::from([192, 0, 2, 1]));
        let b = ClientAddress(IpAddr::from([192, 0, 2, 2]));
        assert!(limit.check(a).is_ok() && limit.check(a).is_ok() && limit.check(a).is_ok());
        let wait = limit.check(a).err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limit.check(b).is_ok(), "another address is not affected");
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let limit = PublicRateLimit::per_minute(NonZeroU32::MIN);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap_or_else(|e| panic!("{e}"));
        let same_64: IpAddr = "2001:db8:1:2:ffff:0:0:9".parse().unwrap_or_else(|e| panic!("{e}"));
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(limit.check(ClientAddress(one)).is_ok());
        assert!(limit.check(ClientAddress(same_64)).is_err(), "the same /64 shares one budget");
        assert!(limit.check(ClientAddress(next_64)).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ClientAddress(mapped).bucket(), IpAddr::from([192, 0, 2, 7]));
    }
}
