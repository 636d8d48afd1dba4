//! `POST /admin/login` and `POST /admin/logout`: plain form posts (they work without
//! JavaScript), answered with redirects. The login page itself is the app's `AdminLoginPage`.

use app::abuse::ClientAddress;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{AdminSessions, LOGIN_PATH, redirect, session};
use crate::state::AppState;

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

/// Checks the password (slowed after failures); a success starts a session and goes to
/// `/admin`, a failure back to the login page with a message.
pub async fn login(State(state): State<AppState>, client: ClientAddress, Form(form): Form<LoginForm>) -> Response {
    let access = &state.admin;
    if access.users.is_empty() {
        return redirect(LOGIN_PATH);
    }
    let name = form.name.trim().to_string();
    let keys = [format!("ip:{}", client.0), format!("user:{name}")];
    if let Some(wait) = access.throttle.wait(&keys) {
        return redirect(&format!("{LOGIN_PATH}?wait={}", wait.as_secs().max(1)));
    }
    let users = access.users.clone();
    let (checked_name, password) = (name.clone(), form.password);
    let valid = tokio::task::spawn_blocking(move || users.verify(&checked_name, &password)).await.unwrap_or(false);
    if !valid {
        access.throttle.failed(&keys);
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
    if let Some(token) = session::token_from(&headers) {
        state.admin.sessions.end(&token);
    }
    with_cookie(redirect(&format!("{LOGIN_PATH}?out=1")), &AdminSessions::clear_cookie(state.admin.secure_cookies)).into_response()
}
