//! The notice every page shows while the server runs without part of its configuration.

use leptos::prelude::*;

use crate::setup::{MissingSetting, SetupStatus, get_setup_status};

/// Says what is not configured yet and, opened, how to configure it (a native disclosure, so it
/// works without scripting). Shows nothing once everything is set.
#[component]
pub fn SetupNotice() -> impl IntoView {
    let status = OnceResource::new(get_setup_status());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(status) if status.is_complete() => ().into_any(),
                    Ok(status) => view! { <Incomplete status /> }.into_any(),
                    Err(error) => view! {
                        <p role="alert" class="mb-6 rounded-md bg-red-50 p-4 text-sm text-red-800">
                            "Could not read the server's setup: " {error.to_string()}
                        </p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Incomplete(status: SetupStatus) -> impl IntoView {
    let count = status.missing.len();
    let summary = if count == 1 { "one setting is missing".to_string() } else { format!("{count} settings are missing") };
    let items = status.missing.into_iter().map(|missing| view! { <MissingItem missing /> }).collect_view();

    view! {
        <details id="setup-notice" class="group mb-8 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900">
            <summary class="flex cursor-pointer list-none flex-wrap items-center justify-between gap-2 rounded focus:outline-none focus-visible:ring-2 focus-visible:ring-amber-600 [&::-webkit-details-marker]:hidden">
                <span class="font-semibold">"Fanout is not fully configured yet: " {summary}</span>
                <span class="rounded-md bg-amber-200 px-3 py-1 text-sm font-medium group-open:hidden">"What to set"</span>
                <span class="hidden rounded-md bg-amber-200 px-3 py-1 text-sm font-medium group-open:inline">"Hide"</span>
            </summary>
            <ul id="setup-details" class="mt-3 list-disc space-y-2 pl-5 text-sm">
                {items}
            </ul>
        </details>
    }
}

#[component]
fn MissingItem(missing: MissingSetting) -> impl IntoView {
    let variables = missing
        .variables
        .into_iter()
        .map(|variable| view! { <code class="rounded bg-amber-100 px-1 font-mono">{variable}</code> " " })
        .collect_view();
    view! { <li>{variables} "— " {missing.consequence}</li> }
}
