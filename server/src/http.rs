//! The HTTP face: the router (health endpoints, Leptos pages and server functions, static
//! files) and the layers every request passes (tracing without query strings, body limit,
//! timeout, panic catcher).

use std::time::Duration;

use app::{App, shell};
use axum::Router;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::health;
use crate::state::AppState;

/// The largest request body accepted (forms are small).
const BODY_LIMIT: usize = 64 * 1024;
/// How long a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the whole router around `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || state.provide_contexts()
    };
    let app = {
        let options = state.leptos.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .leptos_routes_with_context(&state, routes, context.clone(), app)
        .fallback(file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            // The path only: query strings can carry OAuth codes and states.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
