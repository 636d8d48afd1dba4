//! `POST /admin/login` and `POST /admin/logout`: plain form posts (they work without
//! JavaScript), answered with redirects.
//!
//! A login is the one request a stranger can make that costs the server real work (argon2
//! takes ~19 MiB and tens of milliseconds), so it is guarded in this order, each step before
//! any password is checked: the public per-address rate limit; a bound on the name's and the
//! password's length; the failure throttle (per address, and per name *from that address*, so
//! a stranger's failures never lock the admin out from elsewhere), with the attempt counted as
//! a failure before it is checked (a burst cannot outrun the count); and a cap on how many
//! passwords are checked at once ([`PasswordChecks`]), beyond which the answer is 429.

use std::sync::Arc;
use std::time::Duration;

use app::abuse::{ClientAddress, PublicRateLimit};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::{AdminSessions, LOGIN_PATH, redirect, session};
use crate::state::AppState;

/// The longest admin name (as `FANOUT_ADMIN_USERS` allows).
pub const MAX_NAME: usize = 64;
/// The longest password checked (argon2 hashes any length; nobody types more).
pub const MAX_PASSWORD: usize = 1024;
/// How many passwords are checked at once.
const CONCURRENT_CHECKS: usize = 2;
/// How long a login waits for a free check before it is refused as busy.
const CHECK_WAIT: Duration = Duration::from_secs(1);

/// The login form.
#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    /// The admin's name.
    #[serde(default)]
    pub name: String,
    /// The password (never logged).
    #[serde(default)]
    pub password: String,
}

/// The bound on password checks running at once (each holds argon2's memory).
#[derive(Debug, Clone)]
pub struct PasswordChecks(Arc<Semaphore>);

impl Default for PasswordChecks {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(CONCURRENT_CHECKS)))
    }
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The login page again with status 429 and `Retry-After`, saying to wait.
async fn too_many(state: &AppState, headers: HeaderMap, wait: Duration, reason: &str) -> Response {
    let secs = wait.as_secs().max(1);
    let mut response = crate::http::render_page(state, &format!("{LOGIN_PATH}?{reason}={secs}"), headers, || ()).await;
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Checks the password (after the guards above); a success starts a session and goes to
/// `/admin`, a failure back to the login page with a message.
pub async fn login(State(state): State<AppState>, client: ClientAddress, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let access = &state.admin;
    if access.users.is_empty() {
        return redirect(LOGIN_PATH);
    }
    if let Err(wait) = PublicRateLimit::check(&state.rate_limit, client) {
        tracing::warn!(client = %client.0, "admin login over the rate limit");
        return too_many(&state, headers, wait, "wait").await;
    }
    let name = form.name.trim().to_string();
    if name.len() > MAX_NAME || form.password.len() > MAX_PASSWORD {
        tracing::warn!(client = %client.0, "admin login with an oversized name or password");
        return redirect(&format!("{LOGIN_PATH}?failed=1"));
    }
    let keys = super::throttle::keys(client, &name);
    // Counted before it is checked: a burst cannot run more checks than the throttle allows.
    if let Err(wait) = access.throttle.attempt(&keys) {
        return redirect(&format!("{LOGIN_PATH}?wait={}", wait.as_secs().max(1)));
    }
    let Ok(Ok(permit)) = tokio::time::timeout(CHECK_WAIT, Arc::clone(&access.checks.0).acquire_owned()).await else {
        tracing::warn!(client = %client.0, "admin login refused: the password checks are all busy");
        return too_many(&state, headers, Duration::from_secs(2), "busy").await;
    };
    let users = access.users.clone();
    let (checked_name, password) = (name.clone(), form.password);
    let valid = tokio::task::spawn_blocking(move || {
        let valid = users.verify(&checked_name, &password);
        drop(permit);
        valid
    })
    .await
    .unwrap_or(false);
    if !valid {
        tracing::warn!(client = %client.0, "admin login failed");
        return redirect(&format!("{LOGIN_PATH}?failed=1"));
    }
    access.throttle.succeeded(&keys);
    tracing::info!(user = %name, "admin signed in");
    let token = access.sessions.create(&name);
    with_cookie(redirect("/admin"), &AdminSessions::cookie(&token, access.secure_cookies))
}

/// Ends the session (the gate has checked it and its CSRF token) and goes to the login page.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session::token_from(&headers, state.admin.secure_cookies) {
        state.admin.sessions.end(&token);
    }
    with_cookie(redirect(&format!("{LOGIN_PATH}?out=1")), &AdminSessions::clear_cookie(state.admin.secure_cookies)).into_response()
}
