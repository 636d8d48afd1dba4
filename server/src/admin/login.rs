//! `POST /admin/login` and `POST /admin/logout`: plain form posts (they work without
//! JavaScript), answered with redirects.
//!
//! A login is the one request a stranger can make that costs the server real work (argon2
//! takes ~19 MiB and tens of milliseconds), so it is guarded in this order, each step before
//! any password is checked: the public per-address rate limit; a bound on the name's and the
//! password's length; the failure throttle (per address, and per name *from that address*, so
//! a stranger's failures never lock the admin out from elsewhere), with the attempt counted as
//! a failure before it is checked (a burst cannot outrun the count); and a cap on how many
//! passwords are checked at once ([`PasswordChecks`]), beyond which the answer is 429. Checks
//! run on two threads of their own: each keeps one argon2 buffer's worth of memory, where
//! checks spread over a blocking pool of hundreds of threads would keep one each.

use std::time::Duration;

use app::abuse::{ClientAddress, PublicRateLimit};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{LOGIN_PATH, redirect};
use crate::access::{AdminSessions, session};
use crate::state::AppState;

/// The longest admin name (as `FANOUT_ADMIN_USERS` allows).
pub const MAX_NAME: usize = 64;
/// The longest password checked (argon2 hashes any length; nobody types more).
pub const MAX_PASSWORD: usize = 1024;

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

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A 429 with `Retry-After`, saying to wait. A short page of its own rather than the rendered
/// login page: under a flood, refusing must cost next to nothing.
fn too_many(wait: Duration, why: &str) -> Response {
    let secs = wait.as_secs().max(1);
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Try again shortly · Fanout</title></head>\
         <body><h1>Try again in {secs} s</h1><p>{why}</p><p><a href=\"{LOGIN_PATH}\">Back to the sign-in</a></p></body></html>"
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Checks the password (after the guards above); a success starts a session and goes to
/// `/admin`, a failure back to the login page with a message.
pub async fn login(State(state): State<AppState>, client: ClientAddress, Form(form): Form<LoginForm>) -> Response {
    let access = &state.admin;
    if access.users.is_empty() {
        return redirect(LOGIN_PATH);
    }
    if let Err(wait) = PublicRateLimit::check(&state.rate_limit, client) {
        tracing::warn!(client = %client.0, "admin login over the rate limit");
        return too_many(wait, "Too many sign-in attempts came from your address.");
    }
    let name = form.name.trim().to_string();
    if name.len() > MAX_NAME || form.password.len() > MAX_PASSWORD {
        tracing::warn!(client = %client.0, "admin login with an oversized name or password");
        return redirect(&format!("{LOGIN_PATH}?failed=1"));
    }
    let keys = crate::access::throttle::keys(client, &name);
    // Counted before it is checked: a burst cannot run more checks than the throttle allows.
    if let Err(wait) = access.throttle.attempt(&keys) {
        return redirect(&format!("{LOGIN_PATH}?wait={}", wait.as_secs().max(1)));
    }
    let Some(valid) = access.checks.check(access.users.clone(), name.clone(), form.password).await else {
        tracing::warn!(client = %client.0, "admin login refused: the password checks are all busy");
        return too_many(Duration::from_secs(2), "The server is busy checking other sign-ins.");
    };
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
