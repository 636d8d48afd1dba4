//! Request guards: state-changing requests must come from Fanout's own pages (same origin, see
//! `crate::origin`), and public actions are rate-limited per client address, answered with a
//! real 429 page.

use app::abuse::{ClientAddress, PublicRateLimit};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::pages::render_page;
use crate::state::AppState;

/// Refuses (403) a state-changing request a browser sent from another page than Fanout's own.
/// Browsers say where a request comes from in `Sec-Fetch-Site`, which is trusted first
/// (`same-origin`, or `none` for one the user made); without it, `Origin` must be Fanout's.
/// A request with neither header is not from a browser page and cannot be forged by one.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let foreign = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none")),
        None => headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_some_and(|origin| !state.own_origins.allows(origin)),
    };
    if foreign {
        tracing::warn!(method = %request.method(), "refused a cross-site request");
        return (StatusCode::FORBIDDEN, "Cross-site requests are refused.").into_response();
    }
    next.run(request).await
}

/// Counts the request against its address's budget; over it, answers 429 with the problem page
/// and `Retry-After`.
pub async fn rate_limited(State(state): State<AppState>, client: ClientAddress, request: Request, next: Next) -> Response {
    match PublicRateLimit::check(&state.rate_limit, client) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::warn!(client = %client.0, "rate limit reached");
            let headers = request.headers().clone();
            let mut response = render_page(&state, "/signup/problem?reason=rate_limited", headers, || ()).await;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}
