//! `/signup/problem?reason=…`: what went wrong on the way back from Restream.io, in words,
//! with a way to try again. The OAuth callback sends volunteers here when it cannot connect them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::manage::set_status;

/// The problem page.
#[component]
pub fn SignupProblemPage() -> impl IntoView {
    let query = use_query_map();
    let reason = query.with_untracked(|q| q.get("reason").unwrap_or_default());
    let (status, title, text) = explain(&reason);
    set_status(status);
    view! {
        <Title text=title />
        <section id="signup-problem-page" data-reason=reason class="space-y-4">
            <h1 class="text-2xl font-bold">{title}</h1>
            <p class="max-w-2xl text-slate-700">{text}</p>
            <A href="/" attr:id="try-again" attr:class="inline-block rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700">
                "Try again"
            </A>
        </section>
    }
}

/// The status, title and explanation for a reason the callback gives.
fn explain(reason: &str) -> (u16, &'static str, &'static str) {
    match reason {
        "denied" => (
            403,
            "You did not grant access",
            "Restream.io says you declined to let Fanout use your account, so nothing was connected. If that was a \
             mistake, start again and choose to allow access.",
        ),
        "expired" => (
            400,
            "That took too long",
            "The sign-up expires after 15 minutes on Restream.io's pages, so nothing was connected. Please start again.",
        ),
        "used" => (
            400,
            "This sign-up was already completed",
            "The page was probably reloaded after connecting. Your connection is kept; if you lost your manage link, \
             sign up again to get a new one.",
        ),
        "unknown" => (
            400,
            "We don't recognise this sign-up",
            "The link back from Restream.io does not match a sign-up started here (perhaps it was started on another \
             server, or long ago). Please start again.",
        ),
        "incomplete" => (
            400,
            "The answer from Restream.io was incomplete",
            "Restream.io sent you back without the information Fanout needs. Please start again.",
        ),
        "refused" => (
            502,
            "Restream.io refused the connection",
            "Restream.io did not accept Fanout's request to finish connecting your account. Please try again in a few \
             minutes; if it keeps happening, tell the person running this Fanout.",
        ),
        "unreachable" => {
            (502, "Restream.io could not be reached", "Fanout could not talk to Restream.io just now. Please try again in a few minutes.")
        }
        "rate_limited" => {
            (429, "Too many attempts", "Too many attempts came from your address in a short time. Wait a minute, then try again.")
        }
        "deleted" => (
            200,
            "Your data is deleted",
            "Fanout revoked its access to your Restream.io account and deleted your name, e-mail, channels, tokens and \
             every event that mentioned you. Thank you for helping; you can sign up again any time.",
        ),
        "not_open" => {
            (503, "Sign-up is not open yet", "This Fanout is not connected to a Restream.io application yet. Please come back later.")
        }
        _ => (
            500,
            "Something went wrong",
            "Fanout could not finish connecting your account. Please try again; if it keeps happening, tell the person \
             running this Fanout.",
        ),
    }
}
