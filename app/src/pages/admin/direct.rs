//! The Direct destinations section: plain RTMP/RTMPS targets outside Restream — add one (label,
//! server URL, stream key), rename it or change its URL or key (the saved key is never shown:
//! an empty key field keeps it), switch it off and on, remove it.

use leptos::prelude::*;

use super::{BUTTON, Csrf, loaded};
use crate::direct::{DirectRow, MAX_KEY, MAX_LABEL};

const INPUT: &str = "w-full rounded-md border border-slate-300 px-3 py-1 text-sm";

#[component]
pub(super) fn Direct(csrf: String) -> impl IntoView {
    let directs = super::data().direct;
    let csrf = StoredValue::new(csrf);
    view! {
        <section id="direct" aria-labelledby="direct-title" class="space-y-3">
            <h2 id="direct-title" class="text-lg font-semibold">"Direct destinations"</h2>
            <p class="text-sm text-slate-600">"Targets outside Restream.io (a page's own RTMP key, a backup server): streamed to at every live, without titles."</p>
            {loaded(directs, None, move |rows| match rows {
                rows if rows.is_empty() => view! { <p class="text-sm text-slate-600">"None yet."</p> }.into_any(),
                rows => view! {
                    <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
                        {rows.into_iter().map(|row| view! { <li><DirectItem row csrf=csrf.get_value() /></li> }).collect_view()}
                    </ul>
                }.into_any(),
            })}
            <details class="rounded-lg border border-slate-200 bg-white p-3">
                <summary class="cursor-pointer text-sm font-semibold">"Add a direct destination"</summary>
                <form id="direct-add" method="post" action="/admin/direct" class="mt-3 grid gap-2 sm:grid-cols-3">
                    <Csrf token=csrf.get_value() />
                    <Fields label=String::new() url=String::new() key_required=true />
                    <div class="sm:col-span-3"><button class=BUTTON>"Add"</button></div>
                </form>
            </details>
        </section>
    }
}

/// The label, URL and key fields, shared by the add and edit forms.
#[component]
fn Fields(label: String, url: String, key_required: bool) -> impl IntoView {
    let key_hint = if key_required { "Stream key" } else { "New stream key (empty: keep the saved one)" };
    view! {
        <label class="text-sm">"Name" <input name="label" required maxlength=MAX_LABEL value=label class=INPUT /></label>
        <label class="text-sm">"Server URL" <input name="url" required placeholder="rtmps://host:443/app" value=url class=INPUT /></label>
        <label class="text-sm">{key_hint} <input name="key" type="password" autocomplete="off" required=key_required maxlength=MAX_KEY class=INPUT /></label>
    }
}

#[component]
fn DirectItem(row: DirectRow, csrf: String) -> impl IntoView {
    let base = format!("/admin/direct/{}", row.id);
    let (toggle, toggle_label) = if row.enabled { ("disable", "Switch off") } else { ("enable", "Switch on") };
    view! {
        <div class="space-y-2 p-3" data-direct=row.id.clone() data-enabled=row.enabled.to_string()>
            <div class="flex flex-wrap items-start justify-between gap-2">
                <div class="min-w-0">
                    <p class="font-medium">{row.label.clone()}
                        <span class="ml-2 rounded bg-slate-100 px-2 py-0.5 text-xs">{if row.enabled { "on" } else { "off" }}</span></p>
                    <p class="break-all text-sm text-slate-600">{row.server.clone()} "/" <span class="tracking-widest" aria-label="stream key hidden">"••••••"</span></p>
                </div>
                <div class="flex gap-2">
                    <form method="post" action=format!("{base}/{toggle}")><Csrf token=csrf.clone() /><button class=BUTTON>{toggle_label}</button></form>
                    <form method="post" action=format!("{base}/delete") data-confirm="Remove this direct destination?">
                        <Csrf token=csrf.clone() /><button class=BUTTON>"Remove…"</button>
                    </form>
                </div>
            </div>
            <details>
                <summary class="cursor-pointer text-sm text-indigo-700">"Edit"</summary>
                <form method="post" action=base.clone() class="mt-2 grid gap-2 sm:grid-cols-3">
                    <Csrf token=csrf.clone() />
                    <Fields label=row.label.clone() url=row.server.clone() key_required=false />
                    <div class="sm:col-span-3"><button class=BUTTON>"Save"</button></div>
                </form>
            </details>
        </div>
    }
}
