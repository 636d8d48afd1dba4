//! `/admin/login`: the admin's sign-in form (a plain form post to `/admin/login`, so it works
//! without JavaScript), the reason the last attempt failed, and — when no admin is configured —
//! how to create one, never an open dashboard.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::setup::get_setup_status;

/// The login page.
#[component]
pub fn AdminLoginPage() -> impl IntoView {
    let query = use_query_map();
    let (failed, wait, out) = query.with_untracked(|q| (q.get("failed").is_some(), q.get("wait"), q.get("out").is_some()));
    // Read through the server function so the browser hydrates what the server rendered.
    let status = OnceResource::new(get_setup_status());
    let message = if failed {
        Some("That name and password do not match. Try again.".to_string())
    } else if let Some(seconds) = wait.and_then(|w| w.parse::<u64>().ok()) {
        Some(format!("Too many failed attempts. Wait {seconds} s, then try again."))
    } else if out {
        Some("You are signed out.".to_string())
    } else {
        None
    };
    view! {
        <Title text="Admin sign-in" />
        <section id="admin-login" class="mx-auto max-w-sm space-y-4">
            <h1 class="text-2xl font-bold">"Admin sign-in"</h1>
            {message.map(|m| view! { <p id="login-message" role="status" class="rounded-md bg-amber-50 p-3 text-amber-900">{m}</p> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let admins = status.await.map(|s| s.admins_configured).unwrap_or(true);
                    if admins { login_form().into_any() } else { no_admin().into_any() }
                })}
            </Suspense>
        </section>
    }
}

fn no_admin() -> impl IntoView {
    view! {
        <div id="no-admin" class="space-y-2 rounded-md border border-slate-300 p-4 text-slate-700">
            <p>"No admin is configured yet, so the dashboard stays closed."</p>
            <p>"On the server, run " <code class="rounded bg-slate-100 px-1">"fanout hash-password"</code>
               ", type a password (12 characters or more), and set "
               <code class="rounded bg-slate-100 px-1">"FANOUT_ADMIN_USERS=yourname:<the hash>"</code>
               " in Fanout's environment; then restart Fanout."</p>
        </div>
    }
}

fn login_form() -> impl IntoView {
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-200";
    view! {
        <form method="post" action="/admin/login" class="space-y-3">
            <label class="block">"Name"
                <input name="name" autocomplete="username" required maxlength="64" class=input />
            </label>
            <label class="block">"Password"
                <input name="password" type="password" autocomplete="current-password" required maxlength="1024" class=input />
            </label>
            <button type="submit" id="sign-in" class="w-full rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700">
                "Sign in"
            </button>
        </form>
    }
}
