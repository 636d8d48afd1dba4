//! The Settings section: the effective configuration as validated at start, read-only, every
//! secret masked ("set (not shown)"), with how to change it; and, when the push ingest is on,
//! where the encoder publishes and making a new push key (shown once); and a test message to
//! every notification channel (`POST /admin/notify/test`, a plain form); and the JSON API's tokens
//! ([`super::api_tokens`]).

use leptos::prelude::*;

use super::{BUTTON, Csrf, loaded};

#[component]
pub(super) fn Settings(csrf: String) -> impl IntoView {
    let settings = super::data().settings;
    let csrf = StoredValue::new(csrf);
    view! {
        <section id="settings" aria-labelledby="settings-title" class="space-y-3">
            <h2 id="settings-title" class="text-lg font-semibold">"Settings"</h2>
            <p class="text-sm text-slate-600">"Read-only: set these in Fanout's environment (or its env file) and restart. Secrets are never shown."</p>
            {loaded(settings, None, move |settings| view! {
                {settings.push.clone().map(|push| view! {
                    <div id="push-ingest" class="space-y-2 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                        <p>"Push ingest: the encoder publishes to server " <code class="break-all">{push.url}</code> " with the push key as its stream key."</p>
                        <p id="push-key-state" data-made=push.key_made.to_string()>{if push.key_made {
                            "A push key is set. It was shown once, when it was made; make a new one if it is lost."
                        } else {
                            "No push key yet: make one, then paste it into the encoder."
                        }}</p>
                        <form method="post" action="/admin/push-key" data-confirm="Make a new push key? The current one stops working at once.">
                            <Csrf token=csrf.get_value() /><button id="new-push-key" class=BUTTON>"Make a new push key"</button>
                        </form>
                    </div>
                })}
                <div id="notify-test" class="space-y-2 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                    <p>"Notifications (e-mail, webhooks): send a test message to every channel now; the answer says what happened on each."</p>
                    <form method="post" action="/admin/notify/test">
                        <Csrf token=csrf.get_value() /><button id="send-test-message" class=BUTTON>"Send a test message"</button>
                    </form>
                </div>
                <super::api_tokens::ApiTokens tokens=settings.api_tokens.clone() csrf=csrf.get_value() />
                <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                    <table class="min-w-full text-left text-sm">
                        <tbody>
                            {settings.rows.into_iter().map(|row| {
                                let key = row.name.clone();
                                let tone = match row.level.as_str() { "warn" => "text-amber-800", "error" => "text-red-700", _ => "text-slate-700" };
                                view! {
                                    <tr class="border-b border-slate-100 align-top" data-setting=key>
                                        <th scope="row" class="whitespace-nowrap px-3 py-1 font-mono text-xs font-medium">{row.name}</th>
                                        <td class=format!("break-all px-3 py-1 {tone}")>{row.value}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}
