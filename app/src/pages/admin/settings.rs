//! The Settings section: the effective configuration as validated at start, read-only, every
//! secret masked ("set (not shown)"), with how to change it.

use leptos::prelude::*;

use super::loaded;

#[component]
pub(super) fn Settings() -> impl IntoView {
    let settings = super::data().settings;
    view! {
        <section id="settings" aria-labelledby="settings-title" class="space-y-3">
            <h2 id="settings-title" class="text-lg font-semibold">"Settings"</h2>
            <p class="text-sm text-slate-600">"Read-only: set these in Fanout's environment (or its env file) and restart. Secrets are never shown."</p>
            {loaded(settings, None, move |settings| view! {
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
