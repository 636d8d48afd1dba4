//! The public page volunteers come to (the sign-up form arrives with the sign-up feature).

use leptos::prelude::*;
use leptos_meta::Title;

/// `/`: what Fanout does for a volunteer, and (soon) the form to join.
#[component]
pub fn SignupPage() -> impl IntoView {
    view! {
        <Title text="Sign up" />
        <section class="space-y-6">
            <h1 class="text-3xl font-bold tracking-tight sm:text-4xl">"Carry our lives to your channels"</h1>
            <p class="max-w-2xl text-lg text-slate-600">
                "Connect your Restream.io account once. Whenever our channel goes live, Fanout sets your \
                 channels' title to the live's own and streams it to you, and Restream.io carries it on to \
                 your YouTube, Twitch, X and Facebook."
            </p>
            <ol class="grid gap-4 sm:grid-cols-3">
                <Step number=1 text="Tell us your name, e-mail and the channels you have connected on Restream.io." />
                <Step number=2 text="Grant Fanout access on Restream.io's own page." />
                <Step number=3 text="That's all: the next live reaches your channels by itself." />
            </ol>
            <p id="signup-placeholder" class="rounded-md border border-dashed border-slate-300 p-4 text-slate-600">
                "Sign-up opens here soon."
            </p>
        </section>
    }
}

#[component]
fn Step(number: u8, text: &'static str) -> impl IntoView {
    view! {
        <li class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <span class="mb-2 inline-flex h-8 w-8 items-center justify-center rounded-full bg-indigo-600 font-semibold text-white">
                {number}
            </span>
            <p class="text-slate-700">{text}</p>
        </li>
    }
}
