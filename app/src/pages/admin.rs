//! The admin dashboard's place (the dashboard itself arrives with the admin feature).

use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin`: where the person running Fanout will watch lives and act on destinations.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin" />
        <section class="space-y-4">
            <h1 class="text-3xl font-bold tracking-tight">"Admin"</h1>
            <p id="admin-placeholder" class="rounded-md border border-dashed border-slate-300 p-4 text-slate-600">
                "The dashboard (live status, destinations, accounts and history) is not built yet."
            </p>
        </section>
    }
}
