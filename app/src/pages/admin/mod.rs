//! `/admin`: the dashboard (behind the server's admin gate). Its sections: the source and the
//! live now with the capacity plan (`now`), the controls (`controls`), one row per destination
//! (`destinations`), the volunteers' accounts (`accounts`), direct destinations (`direct`),
//! past lives and the event log (`history`), and the effective configuration (`settings`).
//! Rendered whole on the server; once hydrated, it follows `/admin/status/stream` (Server-Sent
//! Events) and updates in place, never more than about a second behind the engine. Every action
//! is a plain form post carrying the session's CSRF token, so the page also works without
//! JavaScript; with it, actions that cannot be undone ask first.

// `#[component]` makes each section's props struct `pub`, which `unreachable_pub` flags.
#![allow(unreachable_pub)]

mod accounts;
mod controls;
mod destinations;
mod direct;
mod history;
mod now;
mod settings;

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::admin::admin_identity;
use crate::dashboard::{DashboardStatus, admin_dashboard};

/// How many bitrate samples a destination's sparkline keeps (one per status update, ~1 s).
#[cfg(feature = "hydrate")]
const SPARK_SAMPLES: usize = 60;

/// Recent bitrates per destination id, oldest first (filled in the browser from the stream).
type Bitrates = RwSignal<HashMap<String, Vec<u64>>>;

/// Classes of the dashboard's small buttons.
const BUTTON: &str = "rounded-md border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100";

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let identity = Resource::new(|| (), |()| admin_identity());
    let first = Resource::new(|| (), |()| admin_dashboard());
    let live: RwSignal<Option<DashboardStatus>> = RwSignal::new(None);
    let bitrates: Bitrates = RwSignal::new(HashMap::new());
    #[cfg(feature = "hydrate")]
    follow_stream(live, bitrates);
    let status = Signal::derive(move || live.get().or_else(|| first.get().and_then(Result::ok)).unwrap_or_default());
    view! {
        <Title text="Admin" />
        <section class="space-y-6">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || match (identity.get(), first.get()) {
                    // Each section erased to `AnyView`: the page's whole view type would be too
                    // deep for the compiler otherwise.
                    (Some(Ok(who)), Some(_)) => vec![
                        view! { <Header user=who.user.clone() csrf=who.csrf.clone() /> }.into_any(),
                        view! { <Flash /> }.into_any(),
                        view! { <now::Now status /> }.into_any(),
                        view! { <now::Capacity status /> }.into_any(),
                        view! { <controls::Controls status csrf=who.csrf.clone() /> }.into_any(),
                        view! { <destinations::Destinations status bitrates csrf=who.csrf.clone() /> }.into_any(),
                        view! { <accounts::Accounts csrf=who.csrf.clone() /> }.into_any(),
                        view! { <direct::Direct csrf=who.csrf.clone() /> }.into_any(),
                        view! { <history::History /> }.into_any(),
                        view! { <settings::Settings /> }.into_any(),
                    ].into_any(),
                    // The session ended (idle, or signed out in another tab).
                    (Some(Err(_)), _) => view! {
                        <h1 class="text-3xl font-bold tracking-tight">"Admin"</h1>
                        <a href="/admin/login" rel="external" class="text-sm font-semibold text-indigo-700 underline">"Sign in again"</a>
                    }.into_any(),
                    _ => ().into_any(),
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Header(user: String, csrf: String) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-center justify-between gap-2">
            <h1 class="text-3xl font-bold tracking-tight">"Admin"</h1>
            <form method="post" action="/admin/logout" class="flex items-center gap-3 text-sm text-slate-600">
                <span id="admin-user">"Signed in as " <strong>{user}</strong></span>
                <input type="hidden" name="csrf" value=csrf />
                <button id="logout" type="submit" class=BUTTON>"Sign out"</button>
            </form>
        </div>
        <nav aria-label="Sections" class="flex flex-wrap gap-x-4 gap-y-1 text-sm text-indigo-700">
            {[("now", "Now"), ("controls", "Controls"), ("destinations", "Destinations"), ("accounts", "Accounts"),
              ("direct", "Direct destinations"), ("history", "History"), ("settings", "Settings")]
                .into_iter()
                .map(|(id, label)| view! { <a href=format!("#{id}") class="underline">{label}</a> })
                .collect_view()}
        </nav>
    }
}

/// What the last action did (or why it could not), from the query the server redirected with.
#[component]
fn Flash() -> impl IntoView {
    let query = use_query_map();
    move || {
        let q = query.get();
        match (q.get("notice"), q.get("problem")) {
            (_, Some(problem)) => {
                view! { <p id="flash" role="alert" class="rounded-md bg-red-50 p-3 text-sm text-red-800">{problem}</p> }.into_any()
            }
            (Some(notice), None) => {
                view! { <p id="flash" role="status" class="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900">{notice}</p> }.into_any()
            }
            (None, None) => ().into_any(),
        }
    }
}

/// The hidden field every admin form carries.
#[component]
fn Csrf(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token /> }
}

/// A submit handler that asks `question` first (in the browser; the CSP allows no inline
/// handlers, so this is the hydrated app's own listener). Without JavaScript the form posts
/// as it is.
fn confirm(question: &'static str) -> impl Fn(leptos::ev::SubmitEvent) + Copy + 'static {
    move |event| {
        #[cfg(feature = "hydrate")]
        {
            let confirmed = web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(true);
            if !confirmed {
                event.prevent_default();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, question);
    }
}

fn format_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

/// Follows the status stream: every state it sends goes into `live`, and each destination's
/// bitrate into its sparkline (browser only).
#[cfg(feature = "hydrate")]
fn follow_stream(live: RwSignal<Option<DashboardStatus>>, bitrates: Bitrates) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new("/admin/status/stream") else { return };
    let on_status = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if let Some(text) = event.data().as_string()
            && let Ok(status) = serde_json::from_str::<DashboardStatus>(&text)
        {
            bitrates.update(|all| {
                all.retain(|id, _| status.destinations.iter().any(|d| &d.id == id));
                for d in &status.destinations {
                    let samples = all.entry(d.id.clone()).or_default();
                    samples.push(d.bitrate_bps);
                    if samples.len() > SPARK_SAMPLES {
                        samples.remove(0);
                    }
                }
            });
            live.set(Some(status));
        }
    });
    let _ = source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
    on_status.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || source.with_value(web_sys::EventSource::close));
}
