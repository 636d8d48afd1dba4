//! The Accounts section: every connected volunteer (name, e-mail, Restream user, channels,
//! status, connected since), a search box, and pause / resume / disconnect; an account Restream
//! refused is highlighted with what to tell the volunteer.

use leptos::prelude::*;

use super::{BUTTON, Csrf, loaded};
use crate::dashboard::AccountRow;

/// Every connected volunteer, with pause / resume / disconnect (disconnect asks first).
#[component]
pub(super) fn Accounts(csrf: String) -> impl IntoView {
    let accounts = super::data().accounts;
    view! {
        <section id="accounts" aria-labelledby="accounts-title" class="space-y-3">
            {loaded(accounts, None, move |rows| view! { <AccountList rows csrf=csrf.clone() /> })}
        </section>
    }
}

/// The section's heading, search box and list, an island: the search filters the rows as it
/// is typed (without scripting, there is no box and every row shows). Lazy, as the dashboard's
/// other island.
#[island(lazy)]
fn AccountList(rows: Vec<AccountRow>, csrf: String) -> impl IntoView {
    let (search, set_search) = signal(String::new());
    crate::island_hydrated();
    let list = if rows.is_empty() {
        view! {
            <p class="text-sm text-slate-600">"No volunteer has connected yet. Share the sign-up page: " <a href="/" class="underline">"/"</a></p>
        }
        .into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
                {rows.into_iter().map(|row| {
                    let haystack = super::lowercase(&format!("{} {} {}", row.name, row.email, row.restream_user));
                    let hidden = move || { let q = search.get(); !q.is_empty() && !haystack.contains(&q) };
                    view! { <li class:hidden=hidden><AccountItem row csrf=csrf.clone() /></li> }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <div class="space-y-3">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 id="accounts-title" class="text-lg font-semibold">"Accounts"</h2>
                <input type="search" placeholder="Search name or e-mail" aria-label="Search accounts"
                    class="rounded-md border border-slate-300 px-3 py-1 text-sm noscript:hidden"
                    on:input=move |ev| set_search.set(super::lowercase(&event_target_value(&ev))) />
            </div>
            {list}
        </div>
    }
}

#[component]
fn AccountItem(row: AccountRow, csrf: String) -> impl IntoView {
    let action = |verb: &'static str| format!("/admin/accounts/{}/{verb}", row.id);
    let needs_reconnect = row.status == "needs_reconnect";
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3 p-3" class:bg-amber-50=needs_reconnect data-account=row.id.clone() data-status=row.status.clone()>
            <div class="min-w-0">
                <p class="font-medium">{row.name.clone()} <span class="ml-2 rounded bg-slate-100 px-2 py-0.5 text-xs">{row.status.replace('_', " ")}</span></p>
                <p class="break-all text-sm text-slate-600">{row.email.clone()} " · Restream: " {row.restream_user.clone()}</p>
                <p class="text-xs text-slate-500">{row.channels.join(" · ")} " · since " {row.connected_since.get(..10).unwrap_or_default().to_string()}</p>
                {needs_reconnect.then(|| view! {
                    <p class="text-xs text-amber-900">"Restream refused this account's tokens. Send them their page, which tells them how to connect again: "
                        <a class="break-all underline" href=row.manage_link.clone().unwrap_or_default()>{row.manage_link.clone().unwrap_or_default()}</a></p>
                })}
            </div>
            <div class="flex gap-2">
                {(row.status == "active").then(|| view! {
                    <form method="post" action={action("pause")}><Csrf token=csrf.clone() /><button class=BUTTON>"Pause"</button></form>
                })}
                {(row.status == "paused").then(|| view! {
                    <form method="post" action={action("resume")}><Csrf token=csrf.clone() /><button class=BUTTON>"Resume"</button></form>
                })}
                {(row.status != "disconnected").then(|| view! {
                    <form method="post" action={action("disconnect")} data-confirm="Disconnect this volunteer? Their Restream tokens are deleted.">
                        <Csrf token=csrf.clone() /><button class=BUTTON>"Disconnect…"</button>
                    </form>
                })}
            </div>
        </div>
    }
}
