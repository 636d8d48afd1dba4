//! The Controls section: stop or start restreaming the live the channel shows, set the titles
//! again, and choose the transcode profile for the next live. Each asks for confirmation and is
//! recorded as an event naming the admin.

use leptos::prelude::*;

use super::{BUTTON, Csrf};
use strum::VariantArray;

use crate::dashboard::DashboardStatus;
use crate::model::TranscodeProfile;

/// The section, in the live island: the buttons follow the status; `children` is the profile
/// form ([`ProfileForm`], rendered by the server).
#[component]
pub(super) fn Controls(status: Signal<DashboardStatus>, csrf: String, children: Children) -> impl IntoView {
    let csrf = StoredValue::new(csrf);
    view! {
        <section id="controls" aria-labelledby="controls-title" class="space-y-3 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="controls-title" class="text-lg font-semibold">"Controls"</h2>
            {move || {
                let s = status.get();
                let restreaming = s.live.is_some();
                view! {
                    <div class="flex flex-wrap items-center gap-2">
                        {if restreaming {
                            view! {
                                <form method="post" action="/admin/control/stop" data-confirm="Stop restreaming this live to every destination?">
                                    <Csrf token=csrf.get_value() /><button id="stop-restream" class=BUTTON>"Stop restreaming"</button>
                                </form>
                                <form method="post" action="/admin/control/retitle" data-confirm="Set the title and description of every channel again?">
                                    <Csrf token=csrf.get_value() /><button id="retitle" class=BUTTON>"Set titles again"</button>
                                </form>
                            }.into_any()
                        } else if let Some(title) = s.on_air.clone() {
                            view! {
                                <p class="text-sm text-slate-700">"The channel is live with “" {title} "”, but it is not restreamed."</p>
                                <form method="post" action="/admin/control/start" data-confirm="Start restreaming this live to every destination?">
                                    <Csrf token=csrf.get_value() /><button id="start-restream" class=BUTTON>"Start restreaming"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! { <p class="text-sm text-slate-600">"Nothing to control until the channel goes live: Fanout starts on its own."</p> }.into_any()
                        }}
                    </div>
                }
            }}
            {children()}
        </section>
    }
}

/// The transcode profile for the next live (its choices do not change with the status).
#[component]
pub(super) fn ProfileForm(csrf: String) -> impl IntoView {
    let settings = super::data().settings;
    let csrf = StoredValue::new(csrf);
    view! {
            <Suspense>
                {move || settings.get().and_then(Result::ok).map(|settings| view! {
                    <form method="post" action="/admin/profile" class="flex flex-wrap items-center gap-2 text-sm"
                        data-confirm="Use this transcode profile from the next live on?">
                        <Csrf token=csrf.get_value() />
                        <label for="profile">"Transcode profile for the next live"</label>
                        <select id="profile" name="profile" class="rounded-md border border-slate-300 bg-white px-2 py-1">
                            {TranscodeProfile::VARIANTS.iter().map(|&p| {
                                let label = if p == TranscodeProfile::Copy { "copy (no re-encoding)".to_string() } else { format!("{p} (re-encode)") };
                                view! { <option value=p.to_string() selected=settings.profile_next == p>{label}</option> }
                            }).collect_view()}
                        </select>
                        <button class=BUTTON>"Save"</button>
                        <span class="text-slate-500">"configured: " {settings.profile_configured.to_string()}</span>
                    </form>
                })}
            </Suspense>
    }
}
