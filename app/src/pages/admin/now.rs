//! The source and the live now (watched channel, the live's title, thumbnail and link, its
//! phase and for how long, the ingest), what stands in the way of the source (a banner with
//! what the operator can do), and the capacity plan.

use leptos::prelude::*;

use super::format_duration;
use crate::dashboard::{DashboardStatus, human_bitrate};
use crate::model::SourceProblemNote;

/// The source and the live now.
#[component]
pub(super) fn Now(status: Signal<DashboardStatus>) -> impl IntoView {
    view! {
        <section id="now" aria-labelledby="now-title" class="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="now-title" class="text-lg font-semibold">"Now"</h2>
            {move || {
                let s = status.get();
                let watching = s.watching.clone().unwrap_or_else(|| "no channel configured (FANOUT_YOUTUBE_CHANNEL)".into());
                let live = match s.live.clone() {
                    Some(live) => view! {
                        <div id="live" data-phase=live.phase.to_string() data-slate=s.input_slate.to_string() class="flex flex-wrap items-start gap-3">
                            {live.thumbnail_url.clone().map(|src| view! { <img src=src alt="" class="h-20 w-36 rounded object-cover" /> })}
                            <div>
                                <a href=live.url.clone() class="font-semibold text-indigo-700 underline" rel="noopener noreferrer" target="_blank">{live.title.clone()}</a>
                                <p class="text-sm text-slate-600">
                                    <span id="live-phase" class="font-medium">{if s.input_slate { "slate".to_string() } else { live.phase.to_string() }}</span>
                                    " for " {format_duration(live.phase_secs)}
                                    {s.input_slate.then_some(" — the destinations see the slate until the source is back or the grace ends")}
                                </p>
                            </div>
                        </div>
                    }.into_any(),
                    None => view! { <p id="live" data-phase="none" class="text-slate-600">"No live right now. Fanout starts on its own when one begins."</p> }.into_any(),
                };
                let input = if s.input_slate {
                    "no source: sending the slate".to_string()
                } else if s.input_publishing {
                    let from = if s.input_pushed { "the broadcaster's pushed stream" } else { "the pull from YouTube" };
                    format!("receiving {} from {from}", human_bitrate(s.input_bps))
                } else {
                    "no input".to_string()
                };
                view! {
                    <p class="text-sm text-slate-600">"Watching " <span id="watching" class="font-medium">{watching}</span></p>
                    {s.detection.clone().map(|d| view! { <p class="text-sm text-amber-800">{d}</p> })}
                    {problem_banner("source-problem", "The channel", s.source_problem.clone())}
                    {problem_banner("ingest-problem", "The live's stream", s.ingest_problem.clone())}
                    {(!s.source_warnings.is_empty()).then(|| view! {
                        <ul id="source-warnings" class="list-disc space-y-1 rounded-md border border-amber-300 bg-amber-50 p-2 pl-6 text-sm text-amber-900">
                            {s.source_warnings.clone().into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                        </ul>
                    })}
                    {live}
                    <p class="text-sm text-slate-600">"Ingest: " <span id="ingest">{input}</span>
                        {s.ingest_state.map(|state| format!(" · {state}"))}
                        {s.ingest_error.clone().map(|e| view! { <span class="text-red-700">" · " {e}</span> })}
                    </p>
                }
            }}
        </section>
    }
}

/// What stands between Fanout and the channel (or the live's stream), and what the operator can
/// do about it — never a silent "no live".
fn problem_banner(id: &'static str, what: &'static str, note: Option<SourceProblemNote>) -> Option<impl IntoView> {
    note.map(|note| {
        view! {
            <div id=id role="alert" data-problem=note.problem.to_string() class="space-y-1 rounded-md bg-red-50 p-3 text-sm text-red-900">
                <p class="font-medium">{what} ": " {note.problem.summary()}</p>
                <p class="break-words text-red-800">{note.detail}</p>
                <p>"What you can do: " {note.problem.advice()}</p>
            </div>
        }
    })
}

/// Egress against the port, and the planner's advice.
#[component]
pub(super) fn Capacity(status: Signal<DashboardStatus>) -> impl IntoView {
    view! {
        <section id="capacity" aria-labelledby="capacity-title" class="space-y-1 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="capacity-title" class="text-lg font-semibold">"Capacity"</h2>
            {move || match status.get().capacity {
                Some(c) => view! {
                    <p class="text-sm text-slate-700">
                        {format!("{} out of a {} port", human_bitrate(c.egress_bps), human_bitrate(c.port_bps))}
                        {(c.planned_bps > 0).then(|| format!(" · with every destination streaming: {} ({})", human_bitrate(c.planned_bps), percent(c.planned_share)))}
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

/// A share as people read it: `0.2 %`, `37 %`.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p < 10.0 { format!("{p:.1} %") } else { format!("{p:.0} %") }
}
