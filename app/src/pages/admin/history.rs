//! The History section: past lives (title, its report, start, duration, peak destinations, failures) and
//! the event log, newest first, a page at a time, filtered by kind and account. Filters and
//! pages live in the address (`?kind=…&account=…&before=…#history`), so they work without
//! JavaScript and can be bookmarked.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{BUTTON, format_duration, loaded};
use crate::history::{EventRow, event_kinds, short_time};
use crate::report::report_path;

#[component]
pub(super) fn History() -> impl IntoView {
    view! {
        <section id="history" aria-labelledby="history-title" class="space-y-3">
            <h2 id="history-title" class="text-lg font-semibold">"History"</h2>
            <Lives />
            <Events />
        </section>
    }
}

#[component]
fn Lives() -> impl IntoView {
    let lives = super::data().lives;
    view! {
        {loaded(lives, None, move |rows| match rows {
            rows if rows.is_empty() => view! {
                <p class="text-sm text-slate-600">"No live yet. When the channel goes live, it is listed here with how it went."</p>
            }.into_any(),
            rows => view! {
                <div class="overflow-x-auto">
                    <table id="lives" class="min-w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr><th class="py-2 pr-4">"Live"</th><th class="pr-4"><span class="sr-only">"Report"</span></th><th class="pr-4">"Started"</th><th class="pr-4">"Duration"</th>
                                <th class="pr-4">"Peak destinations"</th><th class="pr-4">"Failures"</th><th>"State"</th></tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|live| view! {
                                <tr class="border-b border-slate-100" data-video=live.video_id.clone()>
                                    <td class="py-2 pr-4"><a href=live.url class="text-indigo-700 underline" rel="noopener noreferrer" target="_blank">{live.title}</a></td>
                                    <td class="pr-4"><a href=report_path(&live.video_id) class="report-link text-indigo-700 underline">"Report"</a></td>
                                    <td class="whitespace-nowrap pr-4">{short_time(&live.detected_at)}</td>
                                    <td class="whitespace-nowrap pr-4">{live.duration_secs.map(format_duration).unwrap_or_else(|| "—".into())}</td>
                                    <td class="pr-4">{live.peak_destinations}</td>
                                    <td class="pr-4">{live.failures}</td>
                                    <td>{live.state}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any(),
        })}
    }
}

/// The log's page and filters, from the address: `(before, kind, account)`.
pub(super) fn filters() -> (Option<i64>, Option<String>, Option<String>) {
    let q = use_query_map().get();
    (
        q.get("before").and_then(|b| b.parse::<i64>().ok()),
        q.get("kind").filter(|k| !k.is_empty()),
        q.get("account").filter(|a| !a.is_empty()),
    )
}

/// The event log with its filters and pages.
#[component]
fn Events() -> impl IntoView {
    let page = super::data().events;
    let accounts = super::data().accounts;
    let select = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";
    view! {
        <h3 class="font-semibold">"Events"</h3>
        <form method="get" action="/admin#history" class="flex flex-wrap items-center gap-2">
            <select name="kind" aria-label="Kind of event" class=select>
                <option value="">"Every kind"</option>
                {move || {
                    let chosen = filters().1.unwrap_or_default();
                    event_kinds().into_iter().map(|k| view! { <option value=k selected=chosen == k>{k.replace('_', " ")}</option> }).collect_view()
                }}
            </select>
            <Suspense>
                <select name="account" aria-label="Account" class=select>
                    <option value="">"Every account"</option>
                    {move || {
                        let chosen = filters().2.unwrap_or_default();
                        accounts.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|a| {
                            let selected = chosen == a.id;
                            view! { <option value=a.id selected=selected>{a.name}</option> }
                        }).collect_view()
                    }}
                </select>
            </Suspense>
            <button class=BUTTON>"Filter"</button>
            <a href="/admin#history" class="text-sm text-indigo-700 underline">"Newest, all"</a>
        </form>
        {loaded(page, Some("Loading…"), move |page| match page {
            page if page.events.is_empty() => view! { <p class="text-sm text-slate-600">"No event matches."</p> }.into_any(),
            page => {
                let (_, kind, account) = filters();
                let older = page.next_before.map(|before| {
                    let mut query = url::form_urlencoded::Serializer::new(String::new());
                    query.append_pair("before", &before.to_string());
                    if let Some(kind) = &kind { query.append_pair("kind", kind); }
                    if let Some(account) = &account { query.append_pair("account", account); }
                    format!("/admin?{}#history", query.finish())
                });
                view! {
                    <ol id="events" class="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                        {page.events.into_iter().map(|event| view! { <EventItem event /> }).collect_view()}
                    </ol>
                    {older.map(|href| view! { <a id="events-older" href=href class="text-sm text-indigo-700 underline">"Older events →"</a> })}
                }.into_any()
            }
        })}
    }
}

#[component]
fn EventItem(event: EventRow) -> impl IntoView {
    view! {
        <li class="flex flex-wrap gap-x-3 px-3 py-1" data-kind=event.kind.clone()>
            <time class="whitespace-nowrap text-slate-500" datetime=event.at.clone()>{short_time(&event.at)}</time>
            <span class="text-xs uppercase tracking-wide text-slate-500">{event.kind.replace('_', " ")}</span>
            <span class="min-w-0 break-words">{event.message}</span>
        </li>
    }
}
