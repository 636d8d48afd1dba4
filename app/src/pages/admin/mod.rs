//! `/admin`: the dashboard (behind the server's admin gate). Its sections: the source and the
//! live now with the capacity plan (`now`), the controls (`controls`), one row per destination
//! (`destinations`), the volunteers' accounts (`accounts`), direct destinations (`direct`),
//! past lives and the event log (`history`), and the effective configuration (`settings`);
//! each past live's report is a page of its own (`report`, `/admin/lives/{video}`).
//! Rendered whole on the server. The sections that follow the engine (now, capacity, controls,
//! destinations) are one island, [`LiveStatus`], given the status the page was rendered with:
//! once hydrated it follows `/admin/status/stream` (Server-Sent Events) and updates in place,
//! never more than about a second behind the engine; it also makes actions that cannot be
//! undone ask first (forms marked `data-confirm`), wherever they are on the page. The accounts'
//! search is an island of its own; the rest is plain HTML. Every action is a plain form post
//! carrying the session's CSRF token, so the page also works without JavaScript.

// `#[component]` makes each section's props struct `pub`, which `unreachable_pub` flags; a lazy
// `#[island]` adds a public hydrate function without docs.
#![allow(unreachable_pub, missing_docs)]

mod accounts;
mod api_tokens;
mod controls;
mod destinations;
mod direct;
mod history;
mod now;
mod report;
mod settings;

use std::collections::HashMap;

use crate::admin::{Flash, admin_identity};
use crate::dashboard::{DashboardStatus, admin_dashboard};
use leptos::prelude::*;
use leptos_meta::Title;
pub use report::LiveReportPage;

/// How many bitrate samples a destination's sparkline keeps (one per status update, ~1 s).
#[cfg(feature = "hydrate")]
const SPARK_SAMPLES: usize = 60;

/// Recent bitrates per destination id, oldest first (filled in the browser from the stream).
type Bitrates = RwSignal<HashMap<crate::model::DestinationId, Vec<u64>>>;

/// What the server-rendered sections read, fetched once per page (on the server: these reads
/// never run in the browser). The sections render inside a closure that runs again as
/// `identity` and `first` resolve; resources made there would be fetched again each time.
#[derive(Clone, Copy)]
struct Data {
    accounts: Resource<Result<Vec<crate::dashboard::AccountRow>, ServerFnError>>,
    settings: Resource<Result<crate::admin::AdminSettings, ServerFnError>>,
    direct: Resource<Result<Vec<crate::direct::DirectRow>, ServerFnError>>,
    lives: Resource<Result<Vec<crate::history::LiveRow>, ServerFnError>>,
    events: Resource<Result<crate::history::EventsPage, ServerFnError>>,
}

impl Data {
    fn new() -> Self {
        Self {
            accounts: Resource::new(|| (), |()| crate::dashboard::admin_accounts()),
            settings: Resource::new(|| (), |()| crate::admin::admin_settings()),
            direct: Resource::new(|| (), |()| crate::direct::admin_direct()),
            lives: Resource::new(|| (), |()| crate::history::admin_lives()),
            events: Resource::new(history::filters, |(before, kind, account)| crate::history::admin_events(before, kind, account)),
        }
    }
}

/// The page's data (provided by [`AdminPage`]).
fn data() -> Data {
    expect_context::<Data>()
}

/// Classes of the dashboard's small buttons.
const BUTTON: &str = "rounded-md border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100";

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let identity = Resource::new(|| (), |()| admin_identity());
    let first = Resource::new(|| (), |()| admin_dashboard());
    provide_context(Data::new());
    view! {
        <Title text="Admin" />
        <section class="space-y-6">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || match (identity.get(), first.get()) {
                    // Each section erased to `AnyView`: the page's whole view type would be too
                    // deep for the compiler otherwise.
                    (Some(Ok(who)), Some(first)) => vec![
                        view! { <Header user=who.user.clone() csrf=who.csrf.clone() /> }.into_any(),
                        view! { <Flash flash=who.flash.clone() /> }.into_any(),
                        {
                            let csrf = who.csrf.clone();
                            view! {
                                <LiveStatus status=first.unwrap_or_default() csrf=who.csrf.clone()>
                                    <controls::ProfileForm csrf=csrf.clone() />
                                </LiveStatus>
                            }.into_any()
                        },
                        view! { <accounts::Accounts csrf=who.csrf.clone() /> }.into_any(),
                        view! { <direct::Direct csrf=who.csrf.clone() /> }.into_any(),
                        view! { <history::History /> }.into_any(),
                        view! { <settings::Settings csrf=who.csrf.clone() /> }.into_any(),
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

/// What the last action did (or why it could not), kept in the session by the server.
#[component]
fn Flash(flash: Option<Flash>) -> impl IntoView {
    match flash {
        Some(Flash { done: false, text }) => {
            view! { <p id="flash" role="alert" class="rounded-md bg-red-50 p-3 text-sm text-red-800">{text}</p> }.into_any()
        }
        Some(Flash { done: true, text }) => {
            view! { <p id="flash" role="status" class="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900">{text}</p> }.into_any()
        }
        None => ().into_any(),
    }
}

/// The sections that follow the engine, an island: `status` is the state the page was
/// rendered with, then each state the stream sends; `children` is the profile form (rendered by
/// the server, inside Controls). Lazy: its code is a WASM chunk of its own, fetched by the
/// dashboard only (`cargo leptos build --split`).
#[island(lazy)]
fn LiveStatus(status: DashboardStatus, csrf: String, children: Children) -> impl IntoView {
    let live = RwSignal::new(status);
    let bitrates: Bitrates = RwSignal::new(HashMap::new());
    // After the island has hydrated, so hydration sees exactly the state the server rendered.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        follow_stream(live, bitrates);
        confirm_before_posting();
    });
    crate::island_hydrated();
    let status = Signal::from(live);
    view! {
        // Each section erased to `AnyView`, as the page's are.
        <div class="space-y-6">
            {view! { <now::Now status /> }.into_any()}
            {view! { <now::Capacity status /> }.into_any()}
            {view! { <controls::Controls status csrf=csrf.clone()>{children()}</controls::Controls> }.into_any()}
            {view! { <destinations::Destinations status bitrates csrf /> }.into_any()}
        </div>
    }
}

/// A section's data once its resource has loaded (`loading` shown meanwhile, if any): `show`
/// renders it; a failure is said plainly, in the section's place. The one way the dashboard's
/// sections wait for their data.
fn loaded<T, V>(
    resource: Resource<Result<T, ServerFnError>>,
    loading: Option<&'static str>,
    show: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    let fallback = move || loading.map(|text| view! { <p class="text-sm text-slate-500">{text}</p> });
    view! {
        <Suspense fallback>
            {move || resource.get().map(|result| match result {
                Ok(data) => show(data).into_any(),
                Err(error) => view! { <p role="alert" class="text-sm text-red-700">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// The hidden field every admin form carries.
#[component]
fn Csrf(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token /> }
}

/// Makes every form marked `data-confirm="question"` ask its question before it posts (in the
/// browser; the CSP allows no inline handlers, so this is one listener on the document, which
/// sees the submits of the server-rendered sections too). Without JavaScript the forms post as
/// they are.
#[cfg(feature = "hydrate")]
fn confirm_before_posting() {
    use gloo::events::{EventListener, EventListenerOptions};
    use wasm_bindgen::JsCast;
    let options = EventListenerOptions::enable_prevent_default();
    let listener = EventListener::new_with_options(&gloo::utils::document(), "submit", options, |event| {
        let question = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|form| form.get_attribute("data-confirm"));
        let Some(question) = question else { return };
        let confirmed = web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(true);
        if !confirmed {
            event.prevent_default();
        }
    });
    // The dashboard lives as long as the page; the listener goes with it.
    listener.forget();
}

/// `text` in lower case, to compare names and searches. In the browser it asks JavaScript's
/// `toLowerCase`: Rust's own needs Unicode's case tables, which would sit in the first WASM file
/// every page loads (a lazy island's code is split out, its data is not).
fn lowercase(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::js_sys::JsString::from(text).to_lower_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        text.to_lowercase()
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
fn follow_stream(live: RwSignal<DashboardStatus>, bitrates: Bitrates) {
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
            live.set(status);
        }
    });
    let _ = source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
    on_status.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || source.with_value(web_sys::EventSource::close));
}
