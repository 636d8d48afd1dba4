//! The Destinations section: counts by state at the top, and what Restream reports over all of
//! them (destinations it receives, social channels online, viewers); then one row per
//! destination — name, the Restream channels behind it, two truths side by side ("Fanout sends":
//! state, bitrate with a sparkline of the last minute; "Restream receives": its incoming
//! bitrate, or "sent but not received"), each social channel online / offline / error with its
//! viewers, bytes, reconnects, last error, title result — sortable and filterable by state, each
//! with a "Reconnect now" control.

use leptos::prelude::*;

use super::{BUTTON, Bitrates, Csrf};
use strum::VariantArray;

use crate::dashboard::{DashboardStatus, DestinationRow, RestreamTotals, human_bitrate, human_bytes};
use crate::model::{DestinationKind, DestinationState};
use crate::received::{ChannelState, IncomingStream, ReceivedHealth};

/// How rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    /// By state (the order of the counts), then name.
    State,
    /// By name.
    Name,
    /// Highest bitrate first.
    Bitrate,
}

impl SortBy {
    fn parse(word: &str) -> Self {
        match word {
            "name" => Self::Name,
            "bitrate" => Self::Bitrate,
            _ => Self::State,
        }
    }
}

/// Filters and sorts rows as the admin chose (`filter` is a state, `None` for all).
fn arranged(mut rows: Vec<DestinationRow>, filter: Option<DestinationState>, sort: SortBy) -> Vec<DestinationRow> {
    rows.retain(|r| filter.is_none_or(|state| r.state == state));
    match sort {
        SortBy::State => rows.sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.name.cmp(&b.name))),
        SortBy::Name => rows.sort_by_key(|r| super::lowercase(&r.name)),
        SortBy::Bitrate => rows.sort_by(|a, b| b.bitrate_bps.cmp(&a.bitrate_bps).then_with(|| a.name.cmp(&b.name))),
    }
    rows
}

/// Restream's totals in words: "Restream receives 2 of 3 destinations · 3 of 4 channels online
/// · 42 viewers · 1 sent but not received"; `None` until Restream reports on any.
fn restream_line(totals: RestreamTotals) -> Option<String> {
    if totals.reported == 0 {
        return None;
    }
    let mut parts = vec![
        format!("Restream receives {} of {} destinations", totals.received, totals.reported),
        format!("{} of {} channels online", totals.channels_online, totals.channels),
    ];
    if let Some(viewers) = totals.viewers {
        parts.push(format!("{viewers} viewer{}", if viewers == 1 { "" } else { "s" }));
    }
    if totals.flagged > 0 {
        parts.push(format!("{} sent but not received", totals.flagged));
    }
    Some(parts.join(" · "))
}

/// Counts by state, the filter and sort controls, then the rows.
#[component]
pub(super) fn Destinations(status: Signal<DashboardStatus>, bitrates: Bitrates, csrf: String) -> impl IntoView {
    let (filter, set_filter) = signal(None::<DestinationState>);
    let (sort, set_sort) = signal(SortBy::State);
    let csrf = StoredValue::new(csrf);
    let select = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";
    view! {
        <section id="destinations" aria-labelledby="destinations-title" class="space-y-3">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 id="destinations-title" class="text-lg font-semibold">"Destinations"</h2>
                <div class="flex flex-wrap gap-2" class:hidden=move || status.get().destinations.is_empty()>
                    <select id="destination-filter" aria-label="Show destinations in state" class=select
                        on:change=move |ev| set_filter.set(event_target_value(&ev).parse().ok())>
                        <option value="">"All states"</option>
                        {DestinationState::VARIANTS.iter().map(|s| view! { <option value=s.as_str()>{s.as_str().replace('_', " ")}</option> }).collect_view()}
                    </select>
                    <select id="destination-sort" aria-label="Sort destinations by" class=select
                        on:change=move |ev| set_sort.set(SortBy::parse(&event_target_value(&ev)))>
                        <option value="state">"Sort by state"</option>
                        <option value="name">"Sort by name"</option>
                        <option value="bitrate">"Sort by bitrate"</option>
                    </select>
                </div>
            </div>
            <p id="destination-counts" class="text-sm text-slate-700">
                {move || {
                    let s = status.get();
                    if s.destinations.is_empty() {
                        "No destination yet: they appear when a live starts and volunteers are connected (or a direct destination is added).".to_string()
                    } else {
                        let counts: Vec<String> = s.counts().into_iter().map(|(state, n)| format!("{n} {}", state.replace('_', " "))).collect();
                        format!("{} · {} out", counts.join(" · "), human_bitrate(s.egress_bps()))
                    }
                }}
            </p>
            <p id="restream-totals" class="text-sm text-slate-700" class:hidden=move || restream_line(status.get().restream_totals()).is_none()>
                {move || restream_line(status.get().restream_totals()).unwrap_or_default()}
            </p>
            <div class="relative overflow-x-auto" class:hidden=move || status.get().destinations.is_empty()>
                <table class="min-w-full text-left text-sm">
                    <thead class="border-b border-slate-200 text-slate-500">
                        <tr>
                            <th class="py-2 pr-4">"Destination"</th><th class="pr-4">"Fanout sends"</th>
                            <th class="pr-4">"Restream receives"</th><th class="pr-4">"Channels"</th>
                            <th class="pr-4">"Sent"</th><th class="pr-4">"Reconnects"</th><th class="pr-4">"Last error"</th>
                            <th class="pr-4">"Titles"</th><th><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || arranged(status.get().destinations, filter.get(), sort.get())
                            key=|d| (d.id.clone(), d.state, d.bytes_sent, d.last_error.clone(), d.flag, d.received.as_ref().map(ReceivedHealth::line))
                            children=move |row| view! { <Row row bitrates csrf=csrf.get_value() /> }.into_any()
                        />
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Row(row: DestinationRow, bitrates: Bitrates, csrf: String) -> AnyView {
    let badge = match row.state {
        DestinationState::Streaming => "bg-emerald-100 text-emerald-800",
        DestinationState::Retrying | DestinationState::NeedsReconnect => "bg-amber-100 text-amber-900",
        DestinationState::Connecting => "bg-sky-100 text-sky-900",
        DestinationState::Failed => "bg-red-100 text-red-800",
        DestinationState::Paused | DestinationState::Stopped => "bg-slate-100 text-slate-700",
    };
    let id = row.id.clone();
    let samples = move || bitrates.with(|all| all.get(&id).cloned().unwrap_or_default());
    let can_retry = row.state.is_sending() || row.state == DestinationState::Failed;
    let action = format!("/admin/destinations/{}/retry", row.id);
    let behind = if row.kind == DestinationKind::Direct { "direct RTMP".to_string() } else { row.channels.join(", ") };
    let flag = row.flag.map(|f| f.to_string());
    view! {
        <tr class="border-b border-slate-100 align-top" data-account=row.id.to_string() data-kind=row.kind.to_string()
            data-state=row.state.as_str() data-flag=flag>
            <td class="py-2 pr-4"><span class="font-medium">{row.name.clone()}</span>
                <span class="block text-xs text-slate-500">{behind}</span></td>
            <td class="whitespace-nowrap pr-4" data-side="sends">
                <span class=format!("rounded px-2 py-0.5 text-xs font-semibold {badge}")>{row.state.as_str().replace('_', " ")}</span>
                <span class="block">{human_bitrate(row.bitrate_bps)} " " {move || sparkline(&samples()).into_any()}</span>
            </td>
            <td class="pr-4" data-side="receives">{receives(&row)}</td>
            <td class="pr-4"><Channels received=row.received.clone() /></td>
            <td class="whitespace-nowrap pr-4">{human_bytes(row.bytes_sent)}</td>
            <td class="pr-4">{row.reconnects}</td>
            <td class="pr-4 text-slate-600">{row.last_error.clone().unwrap_or_default()}</td>
            <td class="pr-4 text-slate-600">{row.titles.clone().unwrap_or_default()}</td>
            <td>
                {can_retry.then(|| view! {
                    <form method="post" action=action data-confirm="Reconnect this destination now?">
                        <Csrf token=csrf /><button class=BUTTON>"Reconnect now"</button>
                    </form>
                }.into_any())}
            </td>
        </tr>
    }
    .into_any()
}

/// The stream Restream receives, in words: "1.5 Mbit/s · 30 fps · keyframes every 2 s ·
/// h264/aac".
fn incoming_words(stream: &IncomingStream) -> String {
    let mut parts = vec![human_bitrate(stream.bitrate_bps)];
    if let Some(fps) = stream.fps {
        parts.push(format!("{fps:.0} fps"));
    }
    if let Some(interval) = stream.keyframe_interval {
        parts.push(format!("keyframes every {interval:.0} s"));
    }
    let codecs: Vec<&str> = [&stream.video_codec, &stream.audio_codec].into_iter().flatten().map(String::as_str).collect();
    if !codecs.is_empty() {
        parts.push(codecs.join("/"));
    }
    parts.join(" · ")
}

/// "Restream receives": the incoming stream as Restream measures it, or why it is not shown.
fn receives(row: &DestinationRow) -> AnyView {
    let Some(received) = row.received.as_ref() else {
        return view! { <span class="text-slate-400">"—"</span> }.into_any();
    };
    if let Some(flag) = row.flag {
        return view! { <span class="rounded bg-red-100 px-2 py-0.5 text-xs font-semibold text-red-800">{flag.describe()}</span> }
            .into_any();
    }
    let reconnect = received.reconnect_advice();
    let main = match (&received.incoming, received.listening) {
        (Some(incoming), _) => view! { <span class="whitespace-nowrap">{incoming_words(incoming)}</span> }.into_any(),
        (None, true) => view! { <span class="text-slate-600">"not receiving"</span> }.into_any(),
        (None, false) => view! { <span class="text-slate-400">"no report yet"</span> }.into_any(),
    };
    view! {
        {main}
        {reconnect.into_iter().map(|line| view! { <span class="block text-xs font-semibold text-amber-800">{line}</span> }).collect_view()}
    }
    .into_any()
}

/// Each social channel behind the destination: online / offline / error, with its viewers.
#[component]
fn Channels(received: Option<ReceivedHealth>) -> impl IntoView {
    let channels = received.map(|r| r.channels).unwrap_or_default();
    view! {
        <ul class="space-y-0.5">
            {channels.into_iter().map(|c| {
                let colour = match c.state {
                    ChannelState::Online => "bg-emerald-100 text-emerald-800",
                    ChannelState::Connecting | ChannelState::Unknown => "bg-slate-100 text-slate-700",
                    ChannelState::Offline => "bg-amber-100 text-amber-900",
                    ChannelState::Error => "bg-red-100 text-red-800",
                };
                let viewers = c.viewers.map(|v| format!(" · {v} viewers")).unwrap_or_default();
                view! {
                    <li class="whitespace-nowrap text-xs" data-channel=c.id.to_string() data-channel-state=c.state.as_str()>
                        <span class="font-medium">{c.platform}</span> " "
                        <span class=format!("rounded px-1.5 py-0.5 font-semibold {colour}")>{c.state.as_str()}</span>{viewers}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// A small line of the last minute's bitrate (an inline SVG; nothing until two samples).
fn sparkline(samples: &[u64]) -> impl IntoView + use<> {
    const WIDTH: f64 = 60.0;
    const HEIGHT: f64 = 16.0;
    if samples.len() < 2 {
        return ().into_any();
    }
    let max = samples.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = WIDTH / (samples.len() - 1) as f64;
    let points: Vec<String> = samples
        .iter()
        .enumerate()
        .map(|(i, &bps)| format!("{:.1},{:.1}", i as f64 * step, HEIGHT - (bps as f64 / max) * (HEIGHT - 2.0) - 1.0))
        .collect();
    view! {
        <svg class="inline-block align-middle text-indigo-500" width="60" height="16" viewBox="0 0 60 16" role="img" aria-label="bitrate over the last minute">
            <polyline fill="none" stroke="currentColor" stroke-width="1.5" points=points.join(" ") />
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, state: &str, bps: u64) -> DestinationRow {
        DestinationRow::sample(name, state, bps)
    }

    /// A filter as the select gives it: a state's word, or empty for all.
    fn only(word: &str) -> Option<DestinationState> {
        word.parse().ok()
    }

    #[test]
    fn the_incoming_stream_reads_as_people_say_it() {
        let stream = IncomingStream {
            bitrate_bps: 1_500_000,
            fps: Some(30.0),
            keyframe_interval: Some(2.0),
            video_codec: Some("h264".into()),
            audio_codec: Some("aac".into()),
        };
        assert_eq!(incoming_words(&stream), "1.5 Mbit/s · 30 fps · keyframes every 2 s · h264/aac");
        assert_eq!(incoming_words(&IncomingStream { bitrate_bps: 320_000, ..IncomingStream::default() }), "320 kbit/s");
    }

    #[test]
    fn restreams_totals_read_as_a_line_once_it_reports() {
        assert_eq!(restream_line(RestreamTotals::default()), None, "nothing until Restream reports");
        let totals = RestreamTotals { received: 2, reported: 3, channels_online: 3, channels: 4, viewers: Some(42), flagged: 1 };
        assert_eq!(
            restream_line(totals).as_deref(),
            Some("Restream receives 2 of 3 destinations · 3 of 4 channels online · 42 viewers · 1 sent but not received")
        );
        let quiet = RestreamTotals { received: 1, reported: 1, channels_online: 0, channels: 1, viewers: None, flagged: 0 };
        assert_eq!(restream_line(quiet).as_deref(), Some("Restream receives 1 of 1 destinations · 0 of 1 channels online"));
    }

    #[test]
    fn rows_filter_by_state_and_sort_three_ways() {
        let rows = vec![row("Cy", "retrying", 0), row("Ana", "streaming", 900), row("bo", "streaming", 1500), row("Di", "paused", 0)];
        let names = |rows: Vec<DestinationRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(arranged(rows.clone(), only(""), SortBy::State)), ["Ana", "bo", "Cy", "Di"]);
        assert_eq!(names(arranged(rows.clone(), only(""), SortBy::Name)), ["Ana", "bo", "Cy", "Di"]);
        assert_eq!(names(arranged(rows.clone(), only(""), SortBy::Bitrate)), ["bo", "Ana", "Cy", "Di"]);
        assert_eq!(names(arranged(rows.clone(), only("streaming"), SortBy::Bitrate)), ["bo", "Ana"]);
        assert_eq!(names(arranged(rows, only("failed"), SortBy::State)), Vec::<String>::new());
    }
}
