//! `/`: the public page volunteers come to — what Fanout does for them, and the sign-up form.

pub mod form;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::setup::get_setup_status;
use crate::signup::attempt::signup_attempt;
use form::SignupFormView;

/// `/`: what Fanout does for a volunteer, and the form to join.
#[component]
pub fn SignupPage() -> impl IntoView {
    let setup = OnceResource::new(get_setup_status());
    let attempt = OnceResource::new(signup_attempt());
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
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let setup = setup.await.unwrap_or_default();
                    let attempt = attempt.await.ok().flatten();
                    if setup.signup_open {
                        view! { <SignupFormView attempt watched_channel=setup.watched_channel /> }.into_any()
                    } else {
                        view! {
                            <p id="signup-closed" class="rounded-md border border-slate-300 bg-white p-4 text-slate-700">
                                "Sign-up is not open yet: the person running this Fanout has not connected it \
                                 to a Restream.io application. Please come back later."
                            </p>
                        }.into_any()
                    }
                })}
            </Suspense>
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
