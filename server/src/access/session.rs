//! Admin sessions: a random token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` and named
//! with the `__Host-` prefix when the public URL is https, so no subdomain can set or shadow it),
//! held in memory with its user, its CSRF token and when it was last used.
//! A session unused for [`IDLE`] is gone; a restart logs everyone out (nothing to steal at rest).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cookie's name over plain http.
pub const COOKIE: &str = "fanout_admin";
/// The cookie's name over https: the browser accepts it only `Secure`, for `/`, from this host.
pub const SECURE_COOKIE: &str = "__Host-fanout_admin";

/// The cookie's name for the scheme.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { COOKIE }
}
/// How long an unused session lives.
pub const IDLE: Duration = Duration::from_secs(30 * 60);

/// A signed-in admin, as a request sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// The admin's name.
    pub user: String,
    /// The token every state-changing admin request must carry (form field or header).
    pub csrf: String,
    /// The session's cookie token (never shown: `Debug` leaves it out).
    token: String,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession").field("user", &self.user).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Entry {
    session: AdminSession,
    last_used: Instant,
    flash: Option<app::admin::Flash>,
}

/// Every live session.
#[derive(Debug, Clone, Default)]
pub struct AdminSessions {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl AdminSessions {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a session for `user`; returns its cookie token.
    pub fn create(&self, user: &str) -> String {
        let token = random_token();
        let session = AdminSession { user: user.to_string(), csrf: random_token(), token: token.clone() };
        let mut entries = self.entries();
        let now = Instant::now();
        entries.retain(|_, e| now.duration_since(e.last_used) < IDLE);
        entries.insert(token.clone(), Entry { session, last_used: now, flash: None });
        token
    }

    /// Keeps the outcome of `session`'s last action until the dashboard shows it.
    pub fn set_flash(&self, session: &AdminSession, flash: app::admin::Flash) {
        if let Some(entry) = self.entries().get_mut(&session.token) {
            entry.flash = Some(flash);
        }
    }

    /// Takes (once) the outcome kept for `session`.
    pub fn take_flash(&self, session: &AdminSession) -> Option<app::admin::Flash> {
        self.entries().get_mut(&session.token).and_then(|entry| entry.flash.take())
    }

    /// The session of `token`, if it is live (and marks it used now).
    pub fn get(&self, token: &str) -> Option<AdminSession> {
        self.get_at(token, Instant::now())
    }

    fn get_at(&self, token: &str, now: Instant) -> Option<AdminSession> {
        let mut entries = self.entries();
        let entry = entries.get_mut(token)?;
        if now.saturating_duration_since(entry.last_used) >= IDLE {
            entries.remove(token);
            return None;
        }
        entry.last_used = now;
        Some(entry.session.clone())
    }

    /// Whether `session` is still live (signed out, idle past [`IDLE`]: not), without counting
    /// as a use — a stream left open does not keep a session alive.
    pub fn is_live(&self, session: &AdminSession) -> bool {
        let now = Instant::now();
        self.entries().get(&session.token).is_some_and(|entry| now.saturating_duration_since(entry.last_used) < IDLE)
    }

    /// Ends the session of `token`.
    pub fn end(&self, token: &str) {
        self.entries().remove(token);
    }

    /// The `Set-Cookie` value that starts a session.
    pub fn cookie(token: &str, secure: bool) -> String {
        format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            cookie_name(secure),
            IDLE.as_secs() * 48,
            if secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that ends one.
    pub fn clear_cookie(secure: bool) -> String {
        format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", cookie_name(secure), if secure { "; Secure" } else { "" })
    }
}

/// The session token in a request's `Cookie` header (the cookie named for the scheme).
pub fn token_from(headers: &axum::http::HeaderMap, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .filter(|token| !token.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_while_used_and_ends_when_idle_or_ended() {
        let sessions = AdminSessions::default();
        let token = sessions.create("ana");
        let start = Instant::now();
        let session = sessions.get_at(&token, start).unwrap_or_else(|| panic!("live"));
        assert_eq!(session.user, "ana");
        assert!(session.csrf.len() >= 40 && session.csrf != token);
        // Used 20 minutes later, then 20 more: still live (idle time counts from the last use).
        assert!(sessions.get_at(&token, start + Duration::from_secs(20 * 60)).is_some());
        assert!(sessions.get_at(&token, start + Duration::from_secs(40 * 60)).is_some());
        assert!(sessions.get_at(&token, start + Duration::from_secs(71 * 60)).is_none(), "idle 31 minutes");
        assert!(sessions.get(&token).is_none(), "and gone for good");
        let other = sessions.create("ana");
        sessions.end(&other);
        assert!(sessions.get(&other).is_none());
        assert!(sessions.get("forged").is_none());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_on_https() {
        let cookie = AdminSessions::cookie("abc", true);
        for part in ["__Host-fanout_admin=abc", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!AdminSessions::cookie("abc", false).contains("Secure"));
        assert!(AdminSessions::cookie("abc", false).starts_with("fanout_admin=abc;"));
        assert!(!AdminSessions::cookie("abc", true).contains("Domain"), "__Host- cookies carry no Domain");
        assert!(AdminSessions::clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_read_among_other_cookies() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, axum::http::HeaderValue::from_static("a=1; fanout_admin=tok; b=2"));
        assert_eq!(token_from(&headers, false).as_deref(), Some("tok"));
        assert_eq!(token_from(&headers, true), None, "over https only the __Host- cookie counts");
        headers.insert(axum::http::header::COOKIE, axum::http::HeaderValue::from_static("fanout_admin_x=1; fanout_admin="));
        assert_eq!(token_from(&headers, false), None);
        headers.insert(axum::http::header::COOKIE, axum::http::HeaderValue::from_static("fanout_admin=plain; __Host-fanout_admin=tok"));
        assert_eq!(token_from(&headers, true).as_deref(), Some("tok"));
    }
}
