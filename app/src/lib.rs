//! Fanout's web face: the page shell, routes, components and server functions, shared by the
//! server (feature `ssr`) and the browser (feature `hydrate`). It runs in Leptos' islands mode:
//! the server renders every page whole, and the browser makes only the islands interactive (the
//! header's menu, the sign-up form, the dashboard's live part), each hydrated from the props the
//! server serialised into it; the rest of the page is plain HTML that never loads code.
//!
//! With `ssr` it also owns what those server functions stand on: the [`store`] (SQLite or
//! MongoDB) and the [`secrets`] that seal tokens at rest.

pub mod admin;
pub mod capacity;
pub mod channels;
pub mod components;
pub mod dashboard;
pub mod direct;
pub mod history;
pub mod manage;
pub mod model;
pub mod pages;
pub mod received;
pub mod report;
pub mod setup;
pub mod signup;
pub mod weburl;

#[cfg(feature = "ssr")]
pub mod abuse;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::components::layout::Layout;
use crate::pages::{
    admin::{AdminPage, LiveReportPage},
    admin_login::AdminLoginPage,
    manage::ManagePage,
    not_found::NotFound,
    signup::SignupPage,
    signup_problem::SignupProblemPage,
};

/// What the server provided for this request (the store, the signer, the settings…), or a
/// server-function error naming what is missing: the one way server functions reach it.
#[cfg(feature = "ssr")]
pub fn context<T: Clone + Send + Sync + 'static>() -> Result<T, ServerFnError> {
    use_context::<T>().ok_or_else(|| ServerFnError::new(format!("the server did not provide {}", std::any::type_name::<T>())))
}

/// The Content-Security-Policy of a page whose inline scripts (hydration, resolved resources)
/// carry `nonce`: Fanout's own scripts, styles, images and server functions, its WASM, and
/// nothing else — no other inline code, no framing, no plugins, no `<base>`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https://i.ytimg.com; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// Sets the page's Content-Security-Policy header with this response's nonce.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use axum::http::{HeaderValue, header};
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else { return };
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="fanout-css" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The application: the layout around the routed pages. It runs on the server only (routing
/// included: following a link loads the page the server renders); the browser runs its islands.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Fanout".to_string() } else { format!("{page} · Fanout") }
        } />
        <Router>
            <Layout>
                // Async: the server resolves every resource and sends the page whole, so it reads
                // (and its forms work) without JavaScript, and a resource can set the status code.
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=SignupPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("login")) view=AdminLoginPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("lives"), ParamSegment("video")) view=LiveReportPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("manage"), ParamSegment("token")) view=ManagePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("signup"), StaticSegment("problem")) view=SignupProblemPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Called by every island as it is made. Once each island on the page has hydrated, marks the
/// document hydrated (`<html data-hydrated="true">`), so tools and tests can tell a live page
/// from server-rendered HTML. (The islands are hydrated one by one by Leptos' loader, after the
/// `hydrate` entry returns, so the entry cannot say when they are done; each island's first
/// effect runs once its own view is hydrated.)
pub fn island_hydrated() {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        thread_local! {
            static HYDRATED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let hydrated = HYDRATED.with(|count| {
            count.set(count.get() + 1);
            count.get()
        });
        let document = gloo::utils::document();
        let islands = document.query_selector_all("leptos-island").map(|all| all.length()).unwrap_or(0);
        if hydrated >= islands {
            // Only fails when the document has no root element, which a rendered page always has.
            let _ = gloo::utils::document_element().set_attribute("data-hydrated", "true");
        }
    });
}
