//! Rendering the app's pages for the server: what every render is given (the store, the
//! signer, the settings… as Leptos context, [`provide_contexts`]), and [`render_page`] for a
//! handler that answers with a page rather than a redirect (a form posted back with its
//! messages, a 429).

use std::sync::Arc;

use app::shell;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;

use crate::state::AppState;

/// Puts what server functions need into the Leptos context of a request.
pub fn provide_contexts(state: &AppState) {
    provide_context(state.setup.clone());
    provide_context(state.store.clone());
    provide_context(state.signup.clone());
    provide_context(state.rate_limit.clone());
    provide_context(state.links.clone());
    provide_context(state.public_url.clone());
    provide_context(app::manage::api::MailConfigured(state.settings.notify.smtp.is_some()));
    provide_context(crate::admin::dashboard::source(state));
    provide_context(app::admin::SettingsView {
        rows: Arc::clone(&state.report),
        profile_configured: state.settings.engine.source.transcode,
        push_url: state.engine.as_ref().and_then(|engine| engine.push()).map(|push| push.url_for(&public_host(&state.public_url.0))),
    });
}

/// Renders the page at `uri` (path and query) as the router would for a GET with `headers`,
/// with `extra` context added: for handlers that answer a post with a page.
pub async fn render_page(state: &AppState, uri: &str, headers: HeaderMap, extra: impl Fn() + Clone + Send + Sync + 'static) -> Response {
    let context = {
        let state = state.clone();
        move || {
            provide_contexts(&state);
            extra();
        }
    };
    let options = state.leptos.clone();
    let render = leptos_axum::render_app_async_with_context(context, move || shell(options.clone()));
    let Ok(mut request) = Request::builder().method(Method::GET).uri(uri).body(Body::empty()) else {
        tracing::error!(uri, "cannot build a request to render");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    *request.headers_mut() = headers;
    render(request).await
}

/// The host name (or address) of the public URL, as an encoder would reach this server.
pub fn public_host(public_url: &str) -> String {
    url::Url::parse(public_url).ok().and_then(|url| url.host_str().map(str::to_string)).unwrap_or_else(|| "this-server".into())
}
