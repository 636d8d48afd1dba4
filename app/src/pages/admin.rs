//! `/admin`: the dashboard (behind the server's admin gate): who is signed in, the source and
//! the live now, the counts of destinations by state and one row per destination. Rendered
//! whole on the server; once hydrated, it follows `/admin/status/stream` (Server-Sent Events)
//! and updates in place, never more than about a second behind the engine.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::admin::admin_identity;
use crate::dashboard::{DashboardStatus, DestinationRow, admin_dashboard, human_bitrate, human_bytes};

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let identity = Resource::new(|| (), |()| admin_identity());
    let first = Resource::new(|| (), |()| admin_dashboard());
    let live: RwSignal<Option<DashboardStatus>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    follow_stream(live);
    let status = move || live.get().or_else(|| first.get().and_then(Result::ok)).unwrap_or_default();
    view! {
        <Title text="Admin" />
        <section class="space-y-6">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h1 class="text-3xl font-bold tracking-tight">"Admin"</h1>
                <Suspense>
                    {move || identity.get().map(|who| match who {
                        Ok(who) => view! {
                            <form method="post" action="/admin/logout" class="flex items-center gap-3 text-sm text-slate-600">
                                <span id="admin-user">"Signed in as " <strong>{who.user.clone()}</strong></span>
                                <input type="hidden" name="csrf" value=who.csrf.clone() />
                                <button id="logout" type="submit" class="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-100">"Sign out"</button>
                            </form>
                        }.into_any(),
                        // The session ended (idle, or signed out in another tab).
                        Err(_) => view! {
                            <a href="/admin/login" rel="external" class="text-sm font-semibold text-indigo-700 underline">"Sign in again"</a>
                        }.into_any(),
                    })}
                </Suspense>
            </div>
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || first.get().map(|_| view! {
                    <Now status=Signal::derive(status) />
                    <Capacity status=Signal::derive(status) />
                    <Destinations status=Signal::derive(status) />
                })}
            </Suspense>
        </section>
    }
}

/// The source and the live now.
#[component]
fn Now(status: Signal<DashboardStatus>) -> impl IntoView {
    view! {
        <section id="now" aria-labelledby="now-title" class="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="now-title" class="text-lg font-semibold">"Now"</h2>
            {move || {
                let s = status.get();
                let watching = s.watching.clone().unwrap_or_else(|| "no channel configured (FANOUT_YOUTUBE_CHANNEL)".into());
                let live = match s.live.clone() {
                    Some(live) => view! {
                        <div id="live" data-phase=live.phase.clone() class="flex flex-wrap items-start gap-3">
                            {live.thumbnail_url.clone().map(|src| view! { <img src=src alt="" class="h-20 w-36 rounded object-cover" /> })}
                            <div>
                                <a href=live.url.clone() class="font-semibold text-indigo-700 underline" rel="noopener noreferrer" target="_blank">{live.title.clone()}</a>
                                <p class="text-sm text-slate-600">
                                    <span id="live-phase" class="font-medium">{live.phase.clone()}</span>
                                    " for " {format_duration(live.phase_secs)}
                                </p>
                            </div>
                        </div>
                    }.into_any(),
                    None => view! { <p id="live" data-phase="none" class="text-slate-600">"No live right now. Fanout starts on its own when one begins."</p> }.into_any(),
                };
                let input = if s.input_publishing {
                    format!("receiving {}", human_bitrate(s.input_bps))
                } else {
                    "no input".to_string()
                };
                view! {
                    <p class="text-sm text-slate-600">"Watching " <span id="watching" class="font-medium">{watching}</span></p>
                    {s.detection.clone().map(|d| view! { <p class="text-sm text-amber-800">{d}</p> })}
                    {live}
                    <p class="text-sm text-slate-600">"Ingest: " <span id="ingest">{input}</span>
                        {s.ingest_state.clone().map(|state| format!(" · {state}"))}
                        {s.ingest_error.clone().map(|e| view! { <span class="text-red-700">" · " {e}</span> })}
                    </p>
                }
            }}
        </section>
    }
}

/// Egress against the port, and the planner's advice.
#[component]
fn Capacity(status: Signal<DashboardStatus>) -> impl IntoView {
    view! {
        <section id="capacity" aria-labelledby="capacity-title" class="space-y-1 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="capacity-title" class="text-lg font-semibold">"Capacity"</h2>
            {move || match status.get().capacity {
                Some(c) => view! {
                    <p class="text-sm text-slate-700">
                        {format!("{} out of a {} port", human_bitrate(c.egress_bps), human_bitrate(c.port_bps))}
                        {(c.planned_bps > 0).then(|| format!(" · with every destination streaming: {} ({:.0} %)", human_bitrate(c.planned_bps), c.planned_share * 100.0))}
                    </p>
                    {c.advice.map(|a| view! { <p id="capacity-advice" role="alert" class="rounded-md bg-amber-50 p-3 text-sm text-amber-900">{a}</p> })}
                }.into_any(),
                None => view! {
                    <p class="text-sm text-slate-600">"Set " <code class="rounded bg-slate-100 px-1">"FANOUT_PORT_MBPS"</code>
                        " to the server port's real capacity, and this plans destinations × bitrate against it."</p>
                }.into_any(),
            }}
        </section>
    }
}

/// Counts by state, then one row per destination.
#[component]
fn Destinations(status: Signal<DashboardStatus>) -> impl IntoView {
    view! {
        <section id="destinations" aria-labelledby="destinations-title" class="space-y-3">
            <h2 id="destinations-title" class="text-lg font-semibold">"Destinations"</h2>
            <p id="destination-counts" class="text-sm text-slate-700">
                {move || {
                    let s = status.get();
                    if s.destinations.is_empty() {
                        "No destination yet: they appear when a live starts and volunteers are connected.".to_string()
                    } else {
                        let counts: Vec<String> = s.counts().into_iter().map(|(state, n)| format!("{n} {state}")).collect();
                        format!("{} · {} out", counts.join(" · "), human_bitrate(s.egress_bps()))
                    }
                }}
            </p>
            <div class="overflow-x-auto" class:hidden=move || status.get().destinations.is_empty()>
                <table class="min-w-full text-left text-sm">
                    <thead class="border-b border-slate-200 text-slate-500">
                        <tr><th class="py-2 pr-4">"Account"</th><th class="pr-4">"State"</th><th class="pr-4">"Bitrate"</th><th class="pr-4">"Sent"</th><th class="pr-4">"Reconnects"</th><th>"Last error"</th></tr>
                    </thead>
                    <tbody>
                        <For each=move || status.get().destinations key=|d| (d.account_id.clone(), d.state.clone(), d.bytes_sent) let:row>
                            <Row row />
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Row(row: DestinationRow) -> impl IntoView {
    let badge = match row.state.as_str() {
        "streaming" => "bg-emerald-100 text-emerald-800",
        "retrying" => "bg-amber-100 text-amber-900",
        "connecting" => "bg-sky-100 text-sky-900",
        _ => "bg-slate-100 text-slate-700",
    };
    view! {
        <tr class="border-b border-slate-100" data-account=row.account_id.clone() data-state=row.state.clone()>
            <td class="py-2 pr-4 font-medium">{row.name.clone()}</td>
            <td class="pr-4"><span class=format!("rounded px-2 py-0.5 text-xs font-semibold {badge}")>{row.state.clone()}</span></td>
            <td class="pr-4">{human_bitrate(row.bitrate_bps)}</td>
            <td class="pr-4">{human_bytes(row.bytes_sent)}</td>
            <td class="pr-4">{row.reconnects}</td>
            <td class="text-slate-600">{row.last_error.clone().unwrap_or_default()}</td>
        </tr>
    }
}

fn format_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

/// Follows the status stream and puts every state it sends into `live` (browser only).
#[cfg(feature = "hydrate")]
fn follow_stream(live: RwSignal<Option<DashboardStatus>>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new("/admin/status/stream") else { return };
    let on_status = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if let Some(text) = event.data().as_string()
            && let Ok(status) = serde_json::from_str::<DashboardStatus>(&text)
        {
            live.set(Some(status));
        }
    });
    let _ = source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
    on_status.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || source.with_value(web_sys::EventSource::close));
}
