//! `/manage/<link>`: a volunteer's own page, reached by their signed manage link — what is
//! connected, what happens at the next live (and, while one is streamed to them, what Restream
//! says it receives and each channel online or not), which e-mails they take, and pause /
//! resume / disconnect (plain form posts, so it works without JavaScript). Right after connecting it greets them
//! (`?connected=1`).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::manage::{ManageFnError, ManageView, manage_view};
use crate::model::{AccountStatus, MailChoices, RestreamChannel};

/// The manage page.
#[component]
pub fn ManagePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let view_data = Resource::new(token, manage_view);
    let connected = move || query.with(|q| q.get("connected").is_some());
    let done = move || query.with(|q| q.get("done"));

    view! {
        <Title text="Your connection" />
        <Meta name="robots" content="noindex" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(account) => view! { <Account account connected=connected() done=done() /> }.into_any(),
                    Err(error) => view! { <LinkProblem error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Account(account: ManageView, connected: bool, done: Option<String>) -> impl IntoView {
    let status = account.status;
    let enabled = account.channels.iter().filter(|c| c.enabled).count();
    let channels = account.channels.clone();
    view! {
        <section class="space-y-6">
            {connected.then(|| view! {
                <div id="manage-welcome" role="status" class="rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-emerald-900">
                    <p class="font-semibold">{format!("You're connected, {}!", account.display_name)}</p>
                    <p class="mt-1 text-sm">"Keep the link below: it is how you pause, resume or disconnect later."</p>
                </div>
            })}
            {done.and_then(|d| done_message(&d)).map(|text| view! {
                <p id="manage-done" role="status" class="rounded-md bg-indigo-50 p-3 text-indigo-900">{text}</p>
            })}
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-3xl font-bold tracking-tight">{account.display_name.clone()}</h1>
                <StatusBadge status />
            </div>
            <p class="text-slate-600">
                "Restream.io account " <span class="font-medium text-slate-900">{account.restream_username.clone()}</span>
                ", connected since " {account.connected_since.get(..10).unwrap_or_default().to_string()} "."
            </p>
            {account.live.clone().map(|health| view! { <LiveNow health /> })}
            <NextLive status enabled />
            <Channels channels />
            {account.mail_configured.then(|| view! { <Emails mail=account.mail path=account.manage_path.clone() /> })}
            <KeepLink url=account.manage_url.clone() />
            <Actions status path=account.manage_path.clone() />
        </section>
    }
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "paused" => "Paused: lives will not be streamed to you until you resume.",
        "resumed" => "Resumed: the next live will be streamed to you.",
        "disconnected" => {
            "Disconnected: Fanout deleted your Restream.io tokens. Links to this page given before no longer work; this one does."
        }
        "new_link" => "Here is your new link: every link given before no longer works. Bookmark this one.",
        "mail_on" => "Fanout will e-mail you when your connection needs you.",
        "mail_off" => "Fanout will not e-mail you when your connection needs you.",
        "live_notes_on" => "Fanout will e-mail you when a live starts streaming to you.",
        "live_notes_off" => "Fanout will not e-mail you when a live starts.",
        "unchanged" => "Nothing to change: your connection was already like that.",
        _ => return None,
    })
}

#[component]
fn StatusBadge(status: AccountStatus) -> impl IntoView {
    let (text, classes) = match status {
        AccountStatus::Active => ("Active", "bg-emerald-100 text-emerald-900"),
        AccountStatus::Paused => ("Paused", "bg-amber-100 text-amber-900"),
        AccountStatus::NeedsReconnect => ("Needs reconnecting", "bg-red-100 text-red-900"),
        AccountStatus::Disconnected => ("Disconnected", "bg-slate-200 text-slate-800"),
    };
    view! { <span id="manage-status" class=format!("rounded-full px-3 py-1 text-sm font-semibold {classes}")>{text}</span> }
}

#[component]
fn NextLive(status: AccountStatus, enabled: usize) -> impl IntoView {
    let text = match status {
        AccountStatus::Active if enabled > 0 => format!(
            "At the next live, Fanout sets the title of your {enabled} enabled channel{} to the live's title and streams \
             it to your Restream.io account, which carries it on to them. Nothing else to do.",
            if enabled == 1 { "" } else { "s" }
        ),
        AccountStatus::Active => "None of your Restream.io channels is enabled, so nothing would reach them: switch \
             at least one on in Restream.io."
            .to_string(),
        AccountStatus::Paused => "You are paused: the next live will not be streamed to you. Resume whenever you like.".to_string(),
        AccountStatus::NeedsReconnect => "Restream.io no longer accepts Fanout's access to your account. Sign up again \
             on the front page to reconnect; your details are kept."
            .to_string(),
        AccountStatus::Disconnected => "You are disconnected: Fanout holds no access to your Restream.io account. To \
             also remove Fanout from Restream.io's side, open your Restream.io account settings and revoke Fanout among \
             the applications you have authorized. To connect again, sign up again on the front page."
            .to_string(),
    };
    view! {
        <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 class="font-semibold">"At the next live"</h2>
            <p id="manage-next-live" class="mt-1 text-slate-700">{text}</p>
        </div>
    }
}

/// What Restream says of the live streamed to them now, and what to do if a platform's
/// connection expired in Restream.
#[component]
fn LiveNow(health: crate::received::ReceivedHealth) -> impl IntoView {
    let advice = health.reconnect_advice();
    let steps = (!advice.is_empty()).then(|| {
        view! {
            <div id="manage-reconnect" role="alert" class="mt-2 rounded-md bg-amber-50 p-3 text-amber-900">
                {advice.into_iter().map(|line| view! { <p class="font-semibold">{line}</p> }).collect_view()}
                <p class="mt-1 text-sm">"Restream's connection to that platform expired: open your Restream.io dashboard, \
                    find the channel and reconnect it (Fanout cannot do it for you)."</p>
            </div>
        }
    });
    view! {
        <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 class="font-semibold">"The live now"</h2>
            <p id="manage-live" class="mt-1 text-slate-700">{health.line()}</p>
            {steps}
        </div>
    }
}

#[component]
fn Channels(channels: Vec<RestreamChannel>) -> impl IntoView {
    let empty = channels.is_empty();
    let rows = channels
        .into_iter()
        .map(|channel| {
            let (state, classes) = if channel.enabled {
                ("enabled", "bg-emerald-100 text-emerald-900")
            } else {
                ("switched off in Restream.io", "bg-slate-200 text-slate-700")
            };
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                    <span>
                        <span class="font-medium">{channel.platform}</span> " · " {channel.display_name}
                    </span>
                    <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {classes}")>{state}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 class="font-semibold">"Your Restream.io channels"</h2>
            {if empty {
                view! { <p class="mt-1 text-slate-600">"Restream.io lists no channels for your account yet."</p> }.into_any()
            } else {
                view! { <ul id="manage-channels" class="mt-1 divide-y divide-slate-100">{rows}</ul> }.into_any()
            }}
        </div>
    }
}

/// Which e-mails they take, each turned on or off by a one-button form.
#[component]
fn Emails(mail: MailChoices, path: String) -> impl IntoView {
    let (needs_you, needs_you_action, needs_you_label) =
        if mail.needs_you { ("on", "mail_off", "Stop these e-mails") } else { ("off", "mail_on", "E-mail me") };
    let (live, live_action, live_label) =
        if mail.live_notes { ("on", "live_notes_off", "Stop these e-mails") } else { ("off", "live_notes_on", "E-mail me") };
    let colours = "bg-slate-600 hover:bg-slate-700 focus-visible:ring-slate-500";
    view! {
        <div id="manage-emails" class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 class="font-semibold">"E-mails from Fanout"</h2>
            <div class="mt-2 flex flex-wrap items-center justify-between gap-2">
                <p>"When your Restream.io connection needs you: " <span id="manage-mail-needs-you" class="font-medium">{needs_you}</span></p>
                <ActionButton path=path.clone() action=needs_you_action label=needs_you_label colours />
            </div>
            <div class="mt-2 flex flex-wrap items-center justify-between gap-2">
                <p>"When a live starts streaming to you: " <span id="manage-mail-live" class="font-medium">{live}</span></p>
                <ActionButton path=path.clone() action=live_action label=live_label colours />
            </div>
        </div>
    }
}

#[component]
fn KeepLink(url: String) -> impl IntoView {
    view! {
        <div class="space-y-1">
            <label for="manage-link" class="block text-sm font-medium">"Your manage link — bookmark it"</label>
            <input id="manage-link" readonly value=url
                class="block w-full rounded-md border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm" />
            <p class="text-xs text-slate-500">"Anyone with this link can pause or disconnect you, so keep it to yourself."</p>
        </div>
    }
}

#[component]
fn Actions(status: AccountStatus, path: String) -> impl IntoView {
    let pause = (status == AccountStatus::Active).then(|| view! {
        <ActionButton path=path.clone() action="pause" label="Pause" colours="bg-amber-500 hover:bg-amber-600 focus-visible:ring-amber-500" />
    });
    let resume = (status == AccountStatus::Paused).then(|| view! {
        <ActionButton path=path.clone() action="resume" label="Resume" colours="bg-emerald-600 hover:bg-emerald-700 focus-visible:ring-emerald-500" />
    });
    let disconnect = (status != AccountStatus::Disconnected).then(|| view! {
        <details class="w-full rounded-md border border-red-200 p-3 sm:w-auto">
            <summary class="cursor-pointer font-medium text-red-800">"Disconnect…"</summary>
            <p class="mt-2 text-sm text-slate-700">
                "Fanout deletes its access to your Restream.io account and asks Restream.io to revoke it. \
                 You can connect again any time by signing up."
            </p>
            <div class="mt-2">
                <ActionButton path=path.clone() action="disconnect" label="Yes, disconnect" colours="bg-red-700 hover:bg-red-800 focus-visible:ring-red-600" />
            </div>
        </details>
    });
    let delete = view! {
        <details class="w-full rounded-md border border-red-200 p-3 sm:w-auto">
            <summary class="cursor-pointer font-medium text-red-800">"Delete my data…"</summary>
            <p class="mt-2 text-sm text-slate-700">
                "Fanout asks Restream.io to revoke its access, then deletes your name, e-mail, channels, tokens and \
                 every event that mentions you. Only anonymous counts (how many destinations a live had) remain. \
                 This cannot be undone."
            </p>
            <div class="mt-2">
                <ActionButton path=path.clone() action="delete" label="Yes, delete my data" colours="bg-red-700 hover:bg-red-800 focus-visible:ring-red-600" />
            </div>
        </details>
    };
    view! {
        <div class="flex flex-wrap items-start gap-3">
            {pause}{resume}
            <ActionButton path=path.clone() action="new_link" label="Get a new link" colours="bg-slate-600 hover:bg-slate-700 focus-visible:ring-slate-500" />
            {disconnect}{delete}
        </div>
    }
}

/// A one-button form posting `action` for the manage link at `path` (works without scripting).
#[component]
fn ActionButton(path: String, action: &'static str, label: &'static str, colours: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=format!("{path}/{action}")>
            <button
                id=format!("manage-{action}")
                type="submit"
                class=format!("rounded-md px-4 py-2 font-semibold text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 {colours}")
            >
                {label}
            </button>
        </form>
    }
}

#[component]
fn LinkProblem(error: ManageFnError) -> impl IntoView {
    let (status, title, text) = match &error {
        ManageFnError::InvalidLink => (
            403,
            "This link does not work",
            "It was changed or cut short. Use the whole link you were given, or sign up again to get a new one.",
        ),
        ManageFnError::RevokedLink => (
            403,
            "This link was replaced",
            "A newer link to your page replaced it. Use the newest link you were given, or sign up again to get a new one.",
        ),
        ManageFnError::ExpiredLink => {
            (410, "This link has expired", "Sign up again on the front page: your connection is kept and you get a fresh link.")
        }
        ManageFnError::Gone => (404, "This connection no longer exists", "Sign up again on the front page to connect."),
        ManageFnError::Unavailable | ManageFnError::Request(_) => {
            (503, "Something went wrong", "The server could not read your connection. Please try again in a moment.")
        }
    };
    set_status(status);
    view! {
        <section id="manage-problem" class="space-y-3">
            <h1 class="text-2xl font-bold">{title}</h1>
            <p class="text-slate-700">{text}</p>
            <A href="/" attr:class="inline-block text-indigo-700 underline">"Go to the sign-up page"</A>
        </section>
    }
}

/// Sets the HTTP status of the page being rendered on the server.
pub(crate) fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(code)) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}
