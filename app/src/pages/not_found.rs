//! The page for paths Fanout does not serve.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Any unknown path: says so, with a way back. Answers 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <h1 class="text-2xl font-bold">"There is no page here"</h1>
        <p class="mt-2 text-slate-600">
            <A href="/" attr:class="text-indigo-700 underline">"Back to the start"</A>
        </p>
    }
}
