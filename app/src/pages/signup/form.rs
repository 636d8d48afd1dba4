//! The sign-up form, an island. It is a plain HTML form posting to `/` (so it works without
//! JavaScript); once hydrated it checks each field as the volunteer leaves or retypes it, with
//! the same rules the server applies, and lets the form post only once they pass: the server
//! answers with Restream.io's dialog, or (should its checks still refuse) the page again with
//! its messages, as it does without JavaScript. No server function is called from the browser,
//! so no client for one is in the WASM.

use std::collections::BTreeSet;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::signup::attempt::SignupAttempt;
use crate::signup::validate::{Field, FieldErrors, SignupForm, field_error, validate};

const SUMMARY_ID: &str = "signup-error-summary";

/// The form's state: what is typed, which fields were left, and whether a submit was tried.
#[derive(Clone, Copy)]
struct FormState {
    form: RwSignal<SignupForm>,
    touched: RwSignal<BTreeSet<Field>>,
    submitted: RwSignal<bool>,
}

impl FormState {
    /// The message to show for `field` now: its rule's verdict once the volunteer has left
    /// the field or tried to submit, nothing before.
    fn error(self, field: Field) -> Option<String> {
        let shown = self.submitted.get() || self.touched.with(|t| t.contains(&field));
        if shown { self.form.with(|f| field_error(field, f)) } else { None }
    }

    fn errors(self) -> FieldErrors {
        self.form.with(|f| validate(f).err().unwrap_or_default())
    }
}

/// The form, filled with a corrected attempt's values when the server re-renders one (its
/// props travel to the browser serialised in the page).
#[island]
pub(crate) fn SignupFormView(
    /// A submission being re-rendered with its messages, if any.
    attempt: Option<SignupAttempt>,
    /// The watched channel's URL, for the consent text.
    watched_channel: Option<String>,
) -> impl IntoView {
    let attempt = attempt.unwrap_or_default();
    let state = FormState {
        form: RwSignal::new(attempt.form.clone()),
        touched: RwSignal::new(BTreeSet::new()),
        submitted: RwSignal::new(!attempt.errors.is_empty()),
    };
    let problem = attempt.problem.clone();
    let sending = RwSignal::new(false);
    let lives_of = watched_channel.unwrap_or_else(|| "our channel".to_string());
    crate::island_hydrated();

    let on_submit = move |event: SubmitEvent| {
        state.submitted.set(true);
        if state.form.with_untracked(|form| validate(form).is_err()) {
            event.prevent_default();
            focus(SUMMARY_ID);
            return;
        }
        // The browser posts the form; the page is left for Restream.io's.
        sending.set(true);
    };

    view! {
        <form
            id="signup-form"
            method="post"
            action="/"
            novalidate
            on:submit=on_submit
            class="space-y-6 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:p-6"
        >
            <h2 class="text-xl font-semibold">"Join"</h2>
            <ErrorSummary state />
            {problem.map(|text| view! {
                <p id="signup-problem" role="alert" class="rounded-md bg-red-50 p-3 text-sm text-red-800">{text}</p>
            })}
            <div class="grid gap-4 sm:grid-cols-2">
                <TextField state field=Field::DisplayName label="Your name or your channel's name"
                    hint="Shown to the person running Fanout." kind="text" autocomplete="name" />
                <TextField state field=Field::Email label="E-mail address"
                    hint="Only to reach you about your connection; never shared." kind="email" autocomplete="email" />
            </div>
            <ChannelFields state />
            <ConsentField state lives_of />
            <button
                type="submit"
                id="signup-submit"
                class="w-full rounded-md bg-indigo-600 px-4 py-3 font-semibold text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60 sm:w-auto"
                disabled=move || sending.get()
            >
                {move || if sending.get() { "Connecting…" } else { "Continue to Restream.io" }}
            </button>
            <p class="text-sm text-slate-500">
                "Next, Restream.io asks you to let Fanout set your channels' titles and stream to your account."
            </p>
        </form>
    }
}

/// The list of problems after a failed submit, each linking to its field.
#[component]
fn ErrorSummary(state: FormState) -> impl IntoView {
    move || {
        let errors = if state.submitted.get() { state.errors() } else { FieldErrors::new() };
        (!errors.is_empty()).then(|| {
            let heading = if errors.len() == 1 { "There is a problem".to_string() } else { format!("There are {} problems", errors.len()) };
            let items = errors
                .into_iter()
                .map(|(field, message)| {
                    let href = format!("#{}", target_id(field));
                    view! { <li><a href=href class="underline">{message}</a></li> }
                })
                .collect_view();
            view! {
                <div id=SUMMARY_ID role="alert" tabindex="-1" aria-labelledby="signup-error-summary-title"
                    class="rounded-md border-2 border-red-700 bg-red-50 p-4 text-red-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-700">
                    <h3 id="signup-error-summary-title" class="font-semibold">{heading}</h3>
                    <ul class="mt-2 list-disc space-y-1 pl-5 text-sm">{items}</ul>
                </div>
            }
        })
    }
}

/// Where a summary link sends focus: the input, or the first input of a group.
fn target_id(field: Field) -> String {
    match field {
        Field::Channels => Field::Youtube.input_id(),
        other => other.input_id(),
    }
}

/// A labelled text input with its hint and live message.
#[component]
fn TextField(
    state: FormState,
    field: Field,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    kind: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let error = Memo::new(move |_| state.error(field));
    let hint_id = format!("{}-hint", field.input_id());
    let described_by = {
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(field.error_id());
            }
            ids.join(" ")
        }
    };
    let inputmode = (kind == "url").then_some("url");
    // The attribute carries the value in server-rendered HTML (a re-rendered submission); the
    // property keeps it in step once hydrated.
    let initial = state.form.with_untracked(|f| f.value(field).to_string());
    let input_type = if kind == "url" { "text" } else { kind };
    view! {
        <div class="space-y-1">
            <label for=field.input_id() class="block text-sm font-medium text-slate-800">{label}</label>
            {hint.map(|text| view! { <p id=hint_id.clone() class="text-xs text-slate-500">{text}</p> })}
            <input
                id=field.input_id()
                name=field.name()
                type=input_type
                inputmode=inputmode
                autocomplete=autocomplete
                placeholder=placeholder
                spellcheck="false"
                maxlength=field.max_chars().map(|n| n.to_string())
                value=initial
                class=move || format!(
                    "block w-full rounded-md border px-3 py-2 text-base shadow-sm focus:outline-none focus:ring-2 {}",
                    if error.get().is_some() { "border-red-600 focus:ring-red-600" } else { "border-slate-300 focus:ring-indigo-500" }
                )
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described_by
                prop:value=move || state.form.with(|f| f.value(field).to_string())
                on:input:target=move |event| state.form.update(|f| f.set(field, event.target().value()))
                on:blur=move |_| state.touched.update(|t| { t.insert(field); })
            />
            <FieldMessage field error />
        </div>
    }
}

/// The message under a field (or group), announced when it appears.
#[component]
fn FieldMessage(field: Field, error: Memo<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <p id=field.error_id() class="text-sm font-medium text-red-700" aria-live="polite">{message}</p>
            }
        })
    }
}

/// The four channel URLs, at least one of which is needed.
#[component]
fn ChannelFields(state: FormState) -> impl IntoView {
    let channel_fields = [Field::Youtube, Field::Twitch, Field::X, Field::Facebook];
    let group_error = Memo::new(move |_| {
        let left_any = state.touched.with(|t| channel_fields.iter().any(|f| t.contains(f)));
        if state.submitted.get() || left_any { state.form.with(|f| field_error(Field::Channels, f)) } else { None }
    });
    view! {
        <fieldset
            id=Field::Channels.input_id()
            class="space-y-3"
            aria-describedby=move || {
                let mut ids = vec!["signup-channels-hint".to_string()];
                if group_error.get().is_some() { ids.push(Field::Channels.error_id()); }
                ids.join(" ")
            }
        >
            <legend class="text-sm font-medium text-slate-800">"Your channels on Restream.io"</legend>
            <p id="signup-channels-hint" class="text-xs text-slate-500">
                "The public addresses of the channels you have connected on Restream.io — at least one."
            </p>
            <FieldMessage field=Field::Channels error=group_error />
            <div class="grid gap-4 sm:grid-cols-2">
                <TextField state field=Field::Youtube label="YouTube channel" kind="url" autocomplete="url"
                    placeholder="https://www.youtube.com/@yourname" />
                <TextField state field=Field::Twitch label="Twitch channel" kind="url" autocomplete="url"
                    placeholder="https://www.twitch.tv/yourname" />
                <TextField state field=Field::X label="X (Twitter) profile" kind="url" autocomplete="url"
                    placeholder="https://x.com/yourname" />
                <TextField state field=Field::Facebook label="Facebook page" kind="url" autocomplete="url"
                    placeholder="https://www.facebook.com/yourpage" />
            </div>
        </fieldset>
    }
}

/// The consent checkbox.
#[component]
fn ConsentField(state: FormState, lives_of: String) -> impl IntoView {
    let field = Field::Consent;
    let error = Memo::new(move |_| state.error(field));
    view! {
        <div class="space-y-1">
            <div class="flex items-start gap-3">
                <input
                    id=field.input_id()
                    name=field.name()
                    type="checkbox"
                    value="on"
                    class="mt-1 h-5 w-5 rounded border-slate-400 text-indigo-600 focus:ring-2 focus:ring-indigo-500"
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=move || if error.get().is_some() { field.error_id() } else { String::new() }
                    checked=state.form.with_untracked(SignupForm::consents)
                    prop:checked=move || state.form.with(SignupForm::consents)
                    on:change:target=move |event| {
                        let ticked = event.target().checked();
                        state.form.update(|f| f.consent = ticked.then(|| "on".to_string()));
                        state.touched.update(|t| { t.insert(field); });
                    }
                />
                <label for=field.input_id() class="text-sm text-slate-800">
                    "I agree that the lives of " <span class="font-medium">{lives_of}</span>
                    " are streamed to my Restream.io account and its channels, with their titles set to each live's title."
                </label>
            </div>
            <FieldMessage field error />
        </div>
    }
}

/// Moves keyboard focus to the element with `id` (browser only).
fn focus(id: &'static str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        // After the summary renders.
        request_animation_frame(move || {
            if let Some(element) = gloo::utils::document().get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = element.focus();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
