//! The API's door: a request passes only with `Authorization: Bearer <token>` naming a token the
//! store has (by its SHA-256), within that token's rate limit; its use is recorded (at most once
//! a minute) and the [`Caller`] goes into the request. The admin's session cookie is not read.
//! Logs name the token's id, never the token.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use app::store::{ApiTokenId, SharedStore};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use super::tokens;

/// Requests a token may make in a burst.
pub const BURST: u32 = 60;
/// Requests a token may make per minute, sustained.
pub const PER_MINUTE: u32 = 120;

/// The per-token request budget: [`BURST`] at once, then [`PER_MINUTE`]. Keyed by the ids of
/// tokens the store has (an unknown token is refused before it is counted), so its memory is
/// bounded by the tokens made.
#[derive(Clone)]
pub struct ApiRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<ApiTokenId>>,
}

impl std::fmt::Debug for ApiRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiRateLimit")
    }
}

impl Default for ApiRateLimit {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        Self { limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))) }
    }
}

impl ApiRateLimit {
    /// Counts one request of `token`: `Err(wait)` when it is over its budget.
    pub fn check(&self, token: &ApiTokenId) -> Result<(), Duration> {
        self.limiter.check_key(token).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Who is calling: the token's id and name (for events and logs).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub id: ApiTokenId,
    /// Its name.
    pub name: String,
}

impl Caller {
    /// How events name what this caller did.
    pub fn by(&self) -> String {
        format!("API token “{}”", self.name)
    }
}

/// What the door needs.
#[derive(Clone)]
pub struct Door {
    /// Where tokens are looked up.
    pub store: SharedStore,
    /// The per-token budget.
    pub limit: ApiRateLimit,
}

impl std::fmt::Debug for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Door")
    }
}

/// The bearer token of `headers`, if any (the scheme compared without regard to case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The middleware in front of every API route but the OpenAPI document.
pub async fn authenticate(State(door): State<Door>, mut request: Request, next: Next) -> Response {
    let Some(sent) = bearer(request.headers()) else { return ApiError::MissingToken.into_response() };
    let hash = tokens::hash(sent);
    let token = match door.store.api_token_by_hash(&hash).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            tracing::info!("refused an API request with an unknown or revoked token");
            return ApiError::InvalidToken.into_response();
        }
        Err(error) => {
            tracing::error!(%error, "cannot look up an API token");
            return ApiError::Store.into_response();
        }
    };
    if let Err(wait) = door.limit.check(&token.id) {
        tracing::warn!(token = %token.id, "an API token reached its rate limit");
        return ApiError::RateLimited(wait.as_secs().max(1)).into_response();
    }
    tokens::touch(&door.store, &token).await;
    request.extensions_mut().insert(Caller { id: token.id, name: token.name });
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_a_bearer_authorization_carries_a_token() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")));
            bearer(&headers).map(str::to_string)
        };
        assert_eq!(with("Bearer fanout_x"), Some("fanout_x".into()));
        assert_eq!(with("bearer  fanout_x "), Some("fanout_x".into()));
        assert_eq!(with("Basic abc"), None);
        assert_eq!(with("Bearer "), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn a_token_over_its_burst_must_wait() {
        let limit = ApiRateLimit::default();
        let (one, two) = (ApiTokenId::random(), ApiTokenId::random());
        for _ in 0..BURST {
            assert!(limit.check(&one).is_ok());
        }
        assert!(limit.check(&one).is_err(), "over the burst");
        assert!(limit.check(&two).is_ok(), "each token has its own budget");
    }
}
