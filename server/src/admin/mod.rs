//! The admin dashboard's HTTP face: the login and logout handlers (`login`), [`gate`] — the
//! middleware every admin page, server function and stream endpoint passes: no session, no
//! entry (a page redirects to the login, anything else gets 401), and no state-changing admin
//! request without the session's CSRF token — and the dashboard's actions (`accounts`,
//! `controls`, `direct`, `notify`: a test message, `api_tokens`: the JSON API's tokens) and data
//! (`dashboard`). Who may enter and who is signed in is
//! `crate::access`'s.

pub mod accounts;
pub mod api_tokens;
pub mod controls;
pub mod dashboard;
pub mod direct;
pub mod login;
pub mod notify;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use crate::access::AdminSession;
use crate::access::session;
use crate::state::AppState;

/// The login page and form.
pub const LOGIN_PATH: &str = "/admin/login";
/// The header a script sends the CSRF token in (forms send the field `csrf`).
pub const CSRF_HEADER: &str = "x-fanout-csrf";

/// Whether `path` is behind the door: the admin pages (but the login), the admin server
/// functions and the admin streams.
/// Compared without regard to case, in case a router matches that way: the gate must never be
/// narrower than the routes behind it.
pub fn is_admin_path(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let page = path == "/admin" || path.starts_with("/admin/");
    (page && path != LOGIN_PATH) || path.starts_with("/api/admin")
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/admin/login")))])
        .into_response()
}

/// Back to the dashboard's `section`; what was done (or why not) waits in `admin`'s session for
/// the dashboard to show once.
pub fn back(state: &AppState, admin: &AdminSession, section: &str, outcome: Result<String, String>) -> Response {
    let flash = match outcome {
        Ok(text) => app::admin::Flash { done: true, text },
        Err(text) => app::admin::Flash { done: false, text },
    };
    state.admin.sessions.set_flash(admin, flash);
    redirect(&format!("/admin#{section}"))
}

/// The requests that show the flash: the dashboard page, and the identity it reads.
fn shows_flash(path: &str) -> bool {
    path == "/admin" || path == "/api/admin_identity"
}

/// The largest form body the gate reads to find the CSRF field.
const FORM_LIMIT: usize = 64 * 1024;

/// Lets a request through to an admin route only with a live session (and, when it changes
/// state, the session's CSRF token); puts the [`AdminSession`] in its extensions.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_admin_path(request.uri().path()) {
        return next.run(request).await;
    }
    let session = session::token_from(request.headers(), state.admin.secure_cookies).and_then(|token| state.admin.sessions.get(&token));
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let Some(session) = session else {
        return if reading && !request.uri().path().starts_with("/api/") {
            redirect(LOGIN_PATH)
        } else {
            (StatusCode::UNAUTHORIZED, "sign in at /admin/login first").into_response()
        };
    };
    let mut request = if reading {
        request
    } else {
        match with_csrf_checked(request, &session.csrf).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    };
    let flash = if reading && shows_flash(request.uri().path()) { state.admin.sessions.take_flash(&session) } else { None };
    request.extensions_mut().insert(app::admin::AdminIdentity { user: session.user.clone(), csrf: session.csrf.clone(), flash });
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// Checks the CSRF token (header, or the `csrf` field of a form body, which is read and put
/// back); a missing or wrong one is 403.
async fn with_csrf_checked(request: Request, expected: &str) -> Result<Request, Response> {
    let refused = || (StatusCode::FORBIDDEN, "this admin action lacks its form token; reload the page and try again").into_response();
    if let Some(sent) = request.headers().get(CSRF_HEADER) {
        return if constant_time_eq(sent.as_bytes(), expected.as_bytes()) { Ok(request) } else { Err(refused()) };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused());
    }
    let (parts, body) = request.into_parts();
    let bytes =
        axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    let sent = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(refused()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_paths_are_behind_the_door_and_the_login_is_not() {
        for path in [
            "/admin",
            "/admin/",
            "/admin/accounts",
            "/admin/events/stream",
            "/api/admin_status",
            "/admin/logout",
            "/ADMIN",
            "/Api/Admin_dashboard",
        ] {
            assert!(is_admin_path(path), "{path}");
        }
        for path in ["/admin/login", "/", "/administrator", "/api/start_signup", "/manage/x/pause"] {
            assert!(!is_admin_path(path), "{path}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
