//! `/admin/lives/{video}`: one live's report (behind the server's admin gate) — what it was,
//! when and for how long, the most destinations at once, then two charts drawn on the server as
//! SVG (destinations streaming, egress; slate and grace periods shaded, reconnects marked) and
//! the worst destinations. Plain HTML: no island, no script, nothing of it in the WASM.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{format_duration, loaded};
use crate::dashboard::human_bitrate;
use crate::history::short_time;
use crate::report::chart::{self, Chart, HEIGHT, Measure, WIDTH};
use crate::report::{LiveReport, admin_live_report};

/// The report page.
#[component]
pub fn LiveReportPage() -> impl IntoView {
    let params = use_params_map();
    let report = Resource::new(move || params.get().get("video").unwrap_or_default(), admin_live_report);
    view! {
        <Title text="Live report" />
        <section class="space-y-6">
            <a href="/admin#history" class="text-sm text-indigo-700 underline">"← History"</a>
            {loaded(report, Some("Loading…"), |report| match report {
                Some(report) => view! { <Report report /> }.into_any(),
                None => view! {
                    <h1 class="text-3xl font-bold tracking-tight">"No such live"</h1>
                    <p class="text-sm text-slate-600">"Fanout has no live with this id; History lists the lives it has."</p>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Report(report: LiveReport) -> impl IntoView {
    let streaming = chart::chart(&report.samples, Measure::Streaming);
    let egress = chart::chart(&report.samples, Measure::Egress);
    let reconnects: u32 = report.samples.iter().map(|s| s.reconnects).sum();
    let none_yet = report.samples.is_empty();
    let when = |at: &Option<String>| at.as_deref().map(short_time).unwrap_or_else(|| "—".into());
    view! {
        <div class="space-y-1">
            <h1 id="report-title" class="text-3xl font-bold tracking-tight">{report.title.clone()}</h1>
            <a href=report.url.clone() class="text-sm text-indigo-700 underline" rel="noopener noreferrer" target="_blank">{report.url.clone()}</a>
        </div>
        <dl id="report-facts" class="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
            <Fact name="Started" value=when(&report.started_at) />
            <Fact name="Ended" value=when(&report.ended_at) />
            <Fact name="Duration" value=report.duration_secs.map(format_duration).unwrap_or_else(|| "—".into()) />
            <Fact name="Peak destinations" value=report.peak_destinations.to_string() />
            <Fact name="Destinations in all" value=report.destinations_seen.to_string() />
            <Fact name="Reconnects" value=reconnects.to_string() />
            <Fact name="Failures" value=report.failures.to_string() />
            <Fact name="State" value=report.state.clone() />
        </dl>
        {none_yet.then(|| view! {
            <p class="text-sm text-slate-600">"No samples were recorded for this live (lives restreamed before reports existed have none)."</p>
        })}
        <p class="flex flex-wrap gap-x-4 text-xs text-slate-600" aria-label="Legend">
            <span><span class="mr-1 inline-block h-3 w-3 bg-amber-200 align-middle"></span>"slate on (no source sent)"</span>
            <span><span class="mr-1 inline-block h-3 w-3 bg-slate-200 align-middle"></span>"no input (waiting for it, or lost: the grace)"</span>
            <span><span class="mr-1 inline-block h-3 w-0.5 bg-red-600 align-middle"></span>"reconnects"</span>
        </p>
        <figure class="space-y-1">
            <figcaption class="font-semibold">"Destinations streaming"</figcaption>
            <ChartSvg id="chart-streaming" label="Destinations streaming over time" chart=streaming />
        </figure>
        <figure class="space-y-1">
            <figcaption class="font-semibold">"Egress"</figcaption>
            <ChartSvg id="chart-egress" label="Egress over time" chart=egress />
        </figure>
        <Worst report />
    }
}

#[component]
fn Fact(name: &'static str, value: String) -> impl IntoView {
    view! {
        <div><dt class="text-slate-500">{name}</dt><dd class="font-medium">{value}</dd></div>
    }
}

/// The shading of the slate's periods (Tailwind's amber-200), and of the grace's (slate-200):
/// colours as SVG attributes, so the charts read even without the stylesheet.
const SLATE: &str = "#fde68a";
/// See [`SLATE`].
const GRACE: &str = "#e2e8f0";

/// A coordinate as the SVG carries it.
fn at(value: f64) -> String {
    format!("{value:.1}")
}

/// One chart, laid out by [`chart::chart`]: only elements and attributes (the CSP allows no
/// inline style).
#[component]
fn ChartSvg(id: &'static str, label: &'static str, chart: Chart) -> impl IntoView {
    let plot = chart.plot;
    let (top, bottom, left, right) = (at(plot.top), at(plot.bottom), at(plot.left), at(plot.right));
    let band = move |colour: &'static str| {
        let (top, height) = (at(plot.top), at(plot.bottom - plot.top));
        move |b: chart::Band| view! { <rect fill=colour x=at(b.x) y=top.clone() width=at(b.width) height=height.clone() /> }
    };
    let grid = chart.y_ticks.iter().map(|t| view! { <line x1=left.clone() x2=right.clone() y1=at(t.at) y2=at(t.at) /> }).collect_view();
    let values = chart.y_ticks.into_iter().map(|t| view! { <text x=at(plot.left - 6.0) y=at(t.at + 3.0)>{t.label}</text> }).collect_view();
    let times = chart.x_ticks.into_iter().map(|t| view! { <text x=at(t.at) y=at(plot.bottom + 16.0)>{t.label}</text> }).collect_view();
    let marks = chart
        .reconnects
        .into_iter()
        .map(|m| {
            let words = format!("{} reconnect{} by {}", m.count, if m.count == 1 { "" } else { "s" }, m.when);
            view! { <line class="reconnect" x1=at(m.x) x2=at(m.x) y1=top.clone() y2=bottom.clone()><title>{words}</title></line> }
        })
        .collect_view();
    view! {
        <svg id=id class="h-auto w-full max-w-3xl rounded-lg border border-slate-200 bg-white" viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img" aria-label=label data-points=chart.count.to_string()>
            <title>{label}</title>
            <g>{chart.grace.into_iter().map(band(GRACE)).collect_view()}</g>
            <g>{chart.slate.into_iter().map(band(SLATE)).collect_view()}</g>
            <g stroke="#e2e8f0" stroke-width="1">{grid}</g>
            <g fill="#64748b" font-size="10" text-anchor="end">{values}</g>
            <g fill="#64748b" font-size="10" text-anchor="middle">{times}</g>
            <g stroke="#dc2626" stroke-width="1.5">{marks}</g>
            <polyline stroke="#4f46e5" fill="none" stroke-width="2" stroke-linejoin="round" points=chart.points />
            <line stroke="#94a3b8" x1=left.clone() x2=right.clone() y1=bottom.clone() y2=bottom.clone() stroke-width="1" />
        </svg>
    }
}

/// The worst destinations, worst first.
#[component]
fn Worst(report: LiveReport) -> impl IntoView {
    view! {
        <section aria-labelledby="worst-title" class="space-y-2">
            <h2 id="worst-title" class="text-lg font-semibold">"Worst destinations"</h2>
            <p class="text-sm text-slate-600">
                "Longest without streaming while the source's media flowed (connecting, retrying, failed, needing a reconnect), then most reconnects, then lowest bitrate while streaming."
            </p>
            {if report.worst.is_empty() {
                view! { <p class="text-sm text-slate-600">"No destination was recorded."</p> }.into_any()
            } else {
                view! {
                    <table id="worst" class="min-w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr><th class="py-2 pr-4">"Destination"</th><th class="pr-4">"Not streaming"</th><th class="pr-4">"Reconnects"</th><th>"Lowest bitrate"</th></tr>
                        </thead>
                        <tbody>
                            {report.worst.into_iter().map(|w| view! {
                                <tr class="border-b border-slate-100">
                                    <td class="py-2 pr-4">{w.name}</td>
                                    <td class="pr-4">{format_duration(u64::from(w.down_secs))}</td>
                                    <td class="pr-4">{w.reconnects}</td>
                                    <td>{w.lowest_bps.map(human_bitrate).unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
