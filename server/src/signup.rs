//! The sign-up's HTTP ends that are not server functions: the plain form post (for browsers
//! without JavaScript) and the OAuth callback from Restream.io, which connects the account and
//! sends the volunteer to their manage page — or to a page saying what went wrong.

use app::model::EventKind;
use app::secrets::Purpose;
use app::signup::attempt::SignupAttempt;
use app::signup::start::{StartError, clear_signup_cookie, signup_cookie, signup_state_from};
use app::signup::validate::SignupForm;
use app::store::{AccountId, AccountUpsert, NewEvent, PendingTake, RestreamProfile, SealedTokens, StoreError, Upserted, now};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::pages::render_page;
use crate::restream::api::ApiError;
use crate::restream::oauth::OAuthError;
use crate::state::AppState;

pub use crate::restream::oauth::CALLBACK_PATH;

/// `POST /`: the sign-up form posted without JavaScript. A valid form goes on to Restream.io
/// (303, with the sign-up's state in a short-lived cookie, so a volunteer who declines there
/// has their details deleted at once); otherwise the page comes back with what was typed and
/// every message (422).
pub async fn submit_form(State(state): State<AppState>, headers: HeaderMap, form: Result<Form<SignupForm>, FormRejection>) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return form_refused(&state, headers, rejection.status()).await,
    };
    let (status, errors, problem) = match state.signup.start(&form).await {
        Ok(url) => return with_signup_cookie(Redirect::to(url.as_str()).into_response(), &url, state.admin.secure_cookies),
        Err(StartError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(StartError::NotOpen) => (StatusCode::SERVICE_UNAVAILABLE, Default::default(), Some("Sign-up is not open yet.".to_string())),
        Err(StartError::Store(error)) => {
            tracing::error!(%error, "could not record a pending sign-up");
            let problem = "The server could not start your sign-up; please try again in a moment.".to_string();
            (StatusCode::SERVICE_UNAVAILABLE, Default::default(), Some(problem))
        }
    };
    let attempt = SignupAttempt { form, errors, problem };
    let mut response = render_page(&state, "/", headers, move || leptos::prelude::provide_context(attempt.clone())).await;
    *response.status_mut() = status;
    response
}

/// The empty form again, saying why the last one could not be read (413: too large; 400).
async fn form_refused(state: &AppState, headers: HeaderMap, status: StatusCode) -> Response {
    let problem = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "The form was too large to read (no field needs more than a few hundred characters). Please check it and send it again."
    } else {
        "The form could not be read. Please fill it in again."
    };
    tracing::info!(status = status.as_u16(), "refused an unreadable sign-up form");
    let attempt = SignupAttempt { form: SignupForm::default(), errors: Default::default(), problem: Some(problem.to_string()) };
    let mut response = render_page(state, "/", headers, move || leptos::prelude::provide_context(attempt.clone())).await;
    *response.status_mut() = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
    response
}

/// Around the body limit: a sign-up form refused as too large (the limit answers before any
/// handler runs, in plain text) gets the form page instead, saying so.
pub async fn form_too_large(State(state): State<AppState>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_form = request.method() == axum::http::Method::POST && request.uri().path() == "/";
    let headers = request.headers().clone();
    let response = next.run(request).await;
    if is_form && response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_html(&response) {
        return form_refused(&state, headers, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    response
}

fn is_html(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
}

/// What Restream.io appends to the callback URL.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Why a volunteer coming back from Restream.io could not be connected.
#[derive(Debug, thiserror::Error)]
pub enum ConnectProblem {
    /// The volunteer declined (Restream sends them back with no parameters, or `access_denied`).
    #[error("the volunteer declined access on Restream.io")]
    Denied,
    /// Restream sent back another error code.
    #[error("Restream.io sent back the error `{0}`")]
    RestreamSaid(String),
    /// `state` or `code` is missing.
    #[error("the callback lacks its state or code")]
    Incomplete,
    /// No sign-up was started with this `state`.
    #[error("no sign-up was started with this state")]
    Unknown,
    /// The sign-up expired before the callback.
    #[error("the sign-up expired before the callback")]
    Expired,
    /// The callback was already completed once (a replay or a reload).
    #[error("the sign-up was already completed")]
    Used,
    /// No Restream.io application is configured.
    #[error("no Restream.io application is configured")]
    NotOpen,
    /// The code exchange failed.
    #[error("the code exchange failed: {0}")]
    Exchange(#[from] OAuthError),
    /// Reading the profile or channels failed.
    #[error("reading the Restream profile or channels failed: {0}")]
    Api(#[from] ApiError),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
}

impl ConnectProblem {
    /// The `reason` the problem page explains.
    fn reason(&self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::RestreamSaid(_) | Self::Exchange(OAuthError::Refused(_) | OAuthError::NoRefreshToken) => "refused",
            Self::Api(ApiError::Unauthorized(_) | ApiError::Status { .. } | ApiError::Unreadable(_)) => "refused",
            Self::Incomplete => "incomplete",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Used => "used",
            Self::NotOpen => "not_open",
            Self::Exchange(OAuthError::Unreachable(_)) | Self::Api(ApiError::Unreachable(_)) => "unreachable",
            Self::Exchange(OAuthError::Config(_)) | Self::Store(_) => "server",
        }
    }
}

/// Adds the sign-up cookie for `authorize` to `response`.
fn with_signup_cookie(mut response: Response, authorize: &url::Url, secure: bool) -> Response {
    if let Some(value) = signup_cookie(authorize, secure).and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /oauth/restream/callback`: connects the account and sends the volunteer to their
/// manage page (`?connected=1`), or to the page explaining the problem. A volunteer who
/// declined has their pending sign-up deleted at once (found by the callback's `state`, or the
/// sign-up cookie when Restream sent no parameters); the cookie is cleared either way.
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<CallbackQuery>) -> Response {
    let declined_state = query.state.clone().or_else(|| signup_state_from(&headers));
    let outcome = connect(&state, query).await;
    if let (Err(ConnectProblem::Denied), Some(declined)) = (&outcome, declined_state) {
        match state.store.delete_pending_signup(&declined).await {
            Ok(true) => tracing::info!("deleted a declined sign-up's details"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not delete a declined sign-up"),
        }
    }
    let mut response = redirect_after(&state, outcome).into_response();
    if let Ok(value) = HeaderValue::from_str(&clear_signup_cookie(state.admin.secure_cookies)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn redirect_after(state: &AppState, outcome: Result<(AccountId, u32), ConnectProblem>) -> Redirect {
    match outcome {
        Ok((account, epoch)) => {
            state.nudge_engine();
            Redirect::to(&format!("/manage/{}?connected=1", state.links.issue(&account, epoch, now())))
        }
        Err(problem) => {
            match &problem {
                ConnectProblem::Denied => tracing::info!("sign-up ended: {problem}"),
                ConnectProblem::Store(_) | ConnectProblem::Exchange(OAuthError::Config(_)) => {
                    tracing::error!("sign-up failed: {problem}")
                }
                _ => tracing::warn!("sign-up failed: {problem}"),
            }
            Redirect::to(&format!("/signup/problem?reason={}", problem.reason()))
        }
    }
}

/// The callback's work: claim the pending sign-up, exchange the code, read who the volunteer
/// is on Restream, and create or update their account (one per Restream user).
async fn connect(state: &AppState, query: CallbackQuery) -> Result<(AccountId, u32), ConnectProblem> {
    let oauth = state.restream_oauth.as_ref().ok_or(ConnectProblem::NotOpen)?;
    if let Some(error) = query.error {
        return Err(if error == "access_denied" { ConnectProblem::Denied } else { ConnectProblem::RestreamSaid(error) });
    }
    let (sign_up_state, code) = match (query.state, query.code) {
        (None, None) => return Err(ConnectProblem::Denied),
        (Some(state), Some(code)) => (state, code),
        _ => return Err(ConnectProblem::Incomplete),
    };
    let pending = match state.store.take_pending_signup(&sign_up_state, now()).await? {
        PendingTake::Taken(pending) => *pending,
        PendingTake::Unknown => return Err(ConnectProblem::Unknown),
        PendingTake::Expired => return Err(ConnectProblem::Expired),
        PendingTake::AlreadyUsed => return Err(ConnectProblem::Used),
    };

    let tokens = oauth.exchange(&code).await?;
    let who = async {
        let profile = state.restream_api.profile(&tokens.access).await?;
        let channels = state.restream_api.named_channels(&tokens.access).await?;
        Ok::<_, ApiError>((profile, channels))
    };
    let (profile, channels) = match who.await {
        Ok(found) => found,
        Err(error) => {
            // Do not leave a grant behind that Fanout will never use.
            if let Err(revoke) = oauth.revoke(&tokens.refresh).await {
                tracing::warn!("could not revoke the unused grant: {revoke}");
            }
            return Err(error.into());
        }
    };

    let at = now();
    let upsert = AccountUpsert {
        display_name: pending.details.display_name,
        email: pending.details.email,
        channels: pending.details.channels,
        restream: RestreamProfile { user_id: app::store::RestreamUserId(profile.id), username: profile.username, email: profile.email },
        restream_channels: channels,
        tokens: SealedTokens {
            access: state.cipher.seal_secret(Purpose::AccessToken, &tokens.access),
            refresh: state.cipher.seal_secret(Purpose::RefreshToken, &tokens.refresh),
            access_expires_at: tokens.expires_at(at),
        },
    };
    // A reconnection replaces the account's tokens: under its token lock, so a refresh running
    // for it now finishes first; the grant it replaces is revoked (best effort).
    let existing = state.store.account_by_restream_user(upsert.restream.user_id).await?;
    let _tokens = match &existing {
        Some(account) => Some(state.account_locks.lock(&account.id).await),
        None => None,
    };
    let previous = match &existing {
        Some(account) => state.store.account(&account.id).await?.and_then(|a| a.tokens),
        None => None,
    };
    let upserted = state.store.upsert_account(upsert, at).await?;
    if let Some(previous) = previous
        && let Ok(refresh) = state.cipher.open_secret(Purpose::RefreshToken, &previous.refresh)
        && let Err(error) = oauth.revoke(&refresh).await
    {
        tracing::warn!("could not revoke the grant a reconnection replaced: {error}");
    }
    let (kind, verb) = match &upserted {
        Upserted::Created(_) => (EventKind::AccountConnected, "connected"),
        Upserted::Updated(_) => (EventKind::AccountReconnected, "reconnected"),
    };
    let account = upserted.account();
    let enabled = account.restream_channels.iter().filter(|c| c.enabled).count();
    let message = format!(
        "{} {verb} Restream user {} ({} channel(s), {enabled} enabled)",
        account.display_name,
        account.restream.username,
        account.restream_channels.len()
    );
    tracing::info!(account = %account.id, restream_user = %account.restream.user_id, "{message}");
    app::store::note(state.store.as_ref(), NewEvent::now(kind, message).for_account(&account.id)).await;
    Ok((account.id.clone(), account.link_epoch))
}
