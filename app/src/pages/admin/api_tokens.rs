//! The JSON API's tokens, in Settings: make one (`POST /admin/api-tokens`, a name; the token is
//! shown once, in the answer's message, and kept only as its hash) and revoke one (`POST
//! /admin/api-tokens/{id}/revoke`); each listed with when it was made and last used.

use leptos::prelude::*;

use super::{BUTTON, Csrf};
use crate::admin::ApiTokenRow;
use crate::history::short_time;

/// The longest name a token may have.
const MAX_NAME: usize = 80;

#[component]
pub(super) fn ApiTokens(tokens: Vec<ApiTokenRow>, csrf: String) -> impl IntoView {
    let csrf = StoredValue::new(csrf);
    let empty = tokens.is_empty();
    view! {
        <div id="api-tokens" class="space-y-2 rounded-lg border border-slate-200 bg-white p-3 text-sm">
            <p>"JSON API (" <code>"/api/v1"</code> ", described at " <a class="underline" href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>
                "): tools send " <code>"Authorization: Bearer <token>"</code> ". A new token is shown once; revoke one to shut it out at once."</p>
            <form method="post" action="/admin/api-tokens" class="flex flex-wrap items-end gap-2">
                <Csrf token=csrf.get_value() />
                <label class="text-sm">"Name " <input name="name" required maxlength=MAX_NAME class="rounded-md border border-slate-300 px-3 py-1 text-sm" /></label>
                <button id="new-api-token" class=BUTTON>"Make a token"</button>
            </form>
            {if empty {
                view! { <p id="no-api-tokens" class="text-slate-600">"No API tokens yet."</p> }.into_any()
            } else {
                view! {
                    <table class="min-w-full text-left text-sm">
                        <thead><tr><th scope="col" class="px-2">"Name"</th><th scope="col" class="px-2">"Made"</th><th scope="col" class="px-2">"Last used (UTC)"</th><th></th></tr></thead>
                        <tbody>
                            {tokens.into_iter().map(|token| {
                                let revoke = format!("/admin/api-tokens/{}/revoke", token.id);
                                let used = token.last_used_at.clone().unwrap_or_else(|| "never".into());
                                let shown = token.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into());
                                let confirm = format!("Revoke the token “{}”? Tools using it are refused at once.", token.name);
                                view! {
                                    <tr class="border-t border-slate-100" data-api-token=token.id.clone()>
                                        <td class="px-2">{token.name}</td>
                                        <td class="px-2">{short_time(&token.created_at)}</td>
                                        <td class="px-2" data-last-used=used>{shown}</td>
                                        <td class="px-2">
                                            <form method="post" action=revoke data-confirm=confirm>
                                                <Csrf token=csrf.get_value() /><button class=BUTTON>"Revoke"</button>
                                            </form>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </div>
    }
}
