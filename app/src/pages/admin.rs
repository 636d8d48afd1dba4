//! `/admin`: the dashboard (behind the server's admin gate). For now it says who is signed in
//! and offers logout; the live status, destinations, accounts and history come next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::admin::admin_identity;

/// `/admin`: where the person running Fanout watches lives and acts on destinations.
#[component]
pub fn AdminPage() -> impl IntoView {
    let identity = Resource::new(|| (), |()| admin_identity());
    view! {
        <Title text="Admin" />
        <section class="space-y-4">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h1 class="text-3xl font-bold tracking-tight">"Admin"</h1>
                <Suspense>
                    {move || identity.get().map(|who| match who {
                        Ok(who) => view! {
                            <form method="post" action="/admin/logout" class="flex items-center gap-3 text-sm text-slate-600">
                                <span id="admin-user">"Signed in as " <strong>{who.user.clone()}</strong></span>
                                <input type="hidden" name="csrf" value=who.csrf.clone() />
                                <button id="logout" type="submit" class="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-100">"Sign out"</button>
                            </form>
                        }.into_any(),
                        // The session ended (idle, or signed out in another tab).
                        Err(_) => view! {
                            <a href="/admin/login" rel="external" class="text-sm font-semibold text-indigo-700 underline">"Sign in again"</a>
                        }.into_any(),
                    })}
                </Suspense>
            </div>
            <p id="admin-placeholder" class="rounded-md border border-dashed border-slate-300 p-4 text-slate-600">
                "The dashboard (live status, destinations, accounts and history) is being built."
            </p>
        </section>
    }
}
