//! The notice every page shows while the server runs without part of its configuration.

use leptos::prelude::*;

use crate::setup::{MissingSetting, SetupStatus, get_setup_status};

/// Says what is not configured yet and, on request, how to configure it. Shows nothing once
/// everything is set.
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
    let (details_open, set_details_open) = signal(false);
    let count = status.missing.len();
    let summary = if count == 1 {
        "One setting is missing".to_string()
    } else {
        format!("{count} settings are missing")
    };
    let items = status.missing.into_iter().map(|missing| view! { <MissingItem missing /> }).collect_view();

    view! {
        <section
            id="setup-notice"
            aria-labelledby="setup-notice-title"
            class="mb-8 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900"
        >
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 id="setup-notice-title" class="font-semibold">
                    "Fanout is not fully configured yet: " {summary}
                </h2>
                <button
                    type="button"
                    id="setup-details-button"
                    class="rounded-md bg-amber-200 px-3 py-1 text-sm font-medium hover:bg-amber-300 focus:outline-none focus-visible:ring-2 focus-visible:ring-amber-600"
                    aria-controls="setup-details"
                    aria-expanded=move || details_open.get().to_string()
                    on:click=move |_| set_details_open.update(|open| *open = !*open)
                >
                    {move || if details_open.get() { "Hide details" } else { "What to set" }}
                </button>
            </div>
            <ul
                id="setup-details"
                class="mt-3 list-disc space-y-2 pl-5 text-sm"
                hidden=move || !details_open.get()
            >
                {items}
            </ul>
        </section>
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
