//! The HTTP face: the router (health endpoints, the sign-up's form post and OAuth callback,
//! manage actions, Leptos pages and server functions, static files), the layers every request
//! passes — first of all [`canonical`], which refuses paths that routers could read two ways —
//! the built [`site`]'s files, and [`listen`], the server under it all.

pub mod canonical;
pub mod listen;
pub mod site;

use std::time::Duration;

use app::abuse::TrustForwardedFor;
use app::{App, shell};
use axum::extract::MatchedPath;
use axum::handler::Handler;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{admin, guard, health, manage, signup};

/// The largest request body accepted (forms are small).
const BODY_LIMIT: usize = 64 * 1024;
/// The Content-Security-Policy of responses that are not pages.
const STATIC_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/// The brotli quality (and gzip level) pages are compressed with as they are sent. Measured on
/// `/` (release, `ab -k -c 32`, the server's CPU time a request; BENCHMARKS.md): quality 1 costs
/// +13 % (gzip) and +15 % (brotli) over sending it plain and takes 6.8 KiB to 2.9 KiB; quality 4
/// costs +27 % and +43 % for 0.3 KiB less. The site's files are compressed at build time, at the
/// best quality, and never here.
const PAGE_COMPRESSION: i32 = 1;
/// How long a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the whole router around `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || crate::pages::provide_contexts(&state)
    };
    let app = {
        let options = state.leptos.clone();
        move || shell(options.clone())
    };
    // The site's files; a path that names none gets the pages' 404.
    let not_found = file_and_error_handler_with_context::<AppState, _>(context.clone(), shell).with_state(state.clone());
    let files = tower::ServiceBuilder::new()
        .layer(middleware::from_fn(site::caching))
        .map_response(IntoResponse::into_response)
        .service(site::files(&state.settings.site_root, not_found));
    let public_actions = Router::new()
        .route("/", post(signup::submit_form))
        .route(signup::CALLBACK_PATH, get(signup::callback))
        .route("/manage/{link}/{action}", post(manage::act))
        .route("/unsubscribe/{link}", get(crate::unsubscribe::ask).post(crate::unsubscribe::confirm))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::rate_limited));
    let admin_actions = Router::new()
        .route(admin::LOGIN_PATH, post(admin::login::login))
        .route("/admin/logout", post(admin::login::logout))
        .route("/admin/status/stream", get(admin::dashboard::stream))
        .route("/admin/accounts/{id}/{action}", post(admin::accounts::act))
        .route("/admin/control/{action}", post(admin::controls::act))
        .route("/admin/destinations/{id}/retry", post(admin::controls::retry))
        .route("/admin/profile", post(admin::controls::profile))
        .route("/admin/push-key", post(admin::controls::push_key))
        .route("/admin/notify/test", post(admin::notify::test))
        .route("/admin/direct", post(admin::direct::add))
        .route("/admin/direct/{id}", post(admin::direct::edit))
        .route("/admin/direct/{id}/{action}", post(admin::direct::act))
        .route("/admin/api-tokens", post(admin::api_tokens::create))
        .route("/admin/api-tokens/{id}/revoke", post(admin::api_tokens::revoke));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::render))
        .merge(public_actions)
        .merge(admin_actions)
        // Bearer tokens only: the gate (admin paths) never covers it, and it never reads a cookie.
        .nest(crate::api::PREFIX, crate::api::router(&state, crate::api::ApiRateLimit::default()))
        .leptos_routes_with_context(&state, routes, context, app)
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(state.clone(), admin::gate))
        .layer(middleware::from_fn_with_state(state.clone(), guard::same_origin))
        .layer(Extension(TrustForwardedFor(state.settings.trust_forwarded_for)))
        // Before the gate, the guards and every route: one reading of the path for all of them.
        .layer(middleware::from_fn(canonical::refuse_non_canonical))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), signup::form_too_large))
        // Manage links are capabilities: never send them to other sites in `Referer`. (Not
        // `no-referrer`: with it browsers send `Origin: null` even on Fanout's own form posts.)
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // Pages set their own policy with a per-response nonce; everything else (files,
        // redirects, JSON) gets one that allows nothing inline and no framing.
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STATIC_POLICY)))
        // Inside the compression, so the mark is on the response when it is judged.
        .layer(middleware::from_fn(uncompressed_dashboard))
        .layer(page_compression())
        // Pages (manage links and the dashboard among them), JSON and redirects are never
        // stored; the site's files say how they may be (`site::caching`).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            // The route's pattern only: paths and queries carry manage links and OAuth codes.
            let route = request.extensions().get::<MatchedPath>().map_or("(static or unknown)", MatchedPath::as_str);
            tracing::info_span!("request", method = %request.method(), route)
        }))
        .with_state(state)
}

/// Marks a response that must not be compressed.
#[derive(Debug, Clone, Copy)]
struct Uncompressed;

/// Marks the dashboard's pages uncompressed: each carries the session's CSRF token beside text
/// its address chooses (the event log's filters), and a compressed length would then tell an
/// eavesdropper, guess by guess, how much of the token an attacker's text repeats (BREACH).
async fn uncompressed_dashboard(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let admin = request.uri().path() == "/admin" || request.uri().path().starts_with("/admin/");
    let mut response = next.run(request).await;
    if admin {
        response.extensions_mut().insert(Uncompressed);
    }
    response
}

/// Compresses pages (HTML) for clients that take brotli or gzip, but the dashboard's
/// ([`uncompressed_dashboard`]); anything else passes as it is: the site's files come with their
/// precompressed twins, and the dashboard's event stream must not wait on a compressor's buffer.
fn page_compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    let html = |_: StatusCode, _: axum::http::Version, headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions| {
        headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
            && extensions.get::<Uncompressed>().is_none()
    };
    tower_http::compression::CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(tower_http::CompressionLevel::Precise(PAGE_COMPRESSION))
        .compress_when(html)
}

/// The router of `fanout engine`: health, readiness and metrics only — no pages.
pub fn engine_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::render))
        .layer(middleware::from_fn(canonical::refuse_non_canonical))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .with_state(state)
}

#[cfg(test)]
mod tests;
