//! Starting a sign-up on the server: validate, record a [`PendingSignup`] under a fresh
//! single-use OAuth `state`, and build Restream.io's authorize URL for it. Called by the
//! server function (hydrated form) and by the server's plain form handler (no JavaScript).

use std::sync::Arc;

use aes_gcm::aead::{OsRng, rand_core::RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::Duration;
use url::Url;

use super::validate::{FieldErrors, SignupForm, validate};
use crate::store::{PendingSignup, SharedStore, StoreError, now};

/// How long a volunteer may spend on Restream.io's pages before the sign-up expires.
pub const PENDING_TTL: Duration = Duration::minutes(15);

/// The cookie that carries a sign-up's `state` through Restream.io's dialog and back: Restream
/// sends a volunteer who declines back with no parameters at all, and this is how Fanout knows
/// which pending sign-up (their name, e-mail and channels) to delete at once.
pub const SIGNUP_COOKIE: &str = "fanout_signup";

/// The `Set-Cookie` value for the sign-up going to `authorize` (its `state`), scoped to the
/// callback path; `Lax`, so the browser sends it on the navigation back from Restream.io.
pub fn signup_cookie(authorize: &Url, secure: bool) -> Option<String> {
    let (_, state) = authorize.query_pairs().find(|(name, _)| name == "state")?;
    let secure = if secure { "; Secure" } else { "" };
    Some(format!("{SIGNUP_COOKIE}={state}; Path=/oauth/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", PENDING_TTL.whole_seconds()))
}

/// The `Set-Cookie` value that clears [`SIGNUP_COOKIE`].
pub fn clear_signup_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SIGNUP_COOKIE}=; Path=/oauth/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The sign-up `state` a request's [`SIGNUP_COOKIE`] carries.
pub fn signup_state_from(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SIGNUP_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|state| !state.is_empty() && state.len() <= 128)
        .map(str::to_string)
}

/// Builds the authorize URL the volunteer is sent to (implemented with the OAuth client).
pub trait AuthorizeUrl: Send + Sync {
    /// The URL for a sign-up with this `state`.
    fn authorize_url(&self, state: &str) -> Url;
}

/// Why a sign-up could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Some fields are wrong.
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// No Restream.io application is configured.
    #[error("no Restream.io application is configured")]
    NotOpen,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What starting a sign-up needs; provided to server functions as context.
#[derive(Clone)]
pub struct SignupService {
    store: SharedStore,
    authorize: Option<Arc<dyn AuthorizeUrl>>,
}

impl std::fmt::Debug for SignupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupService").finish_non_exhaustive()
    }
}

impl SignupService {
    /// A service over `store`; `authorize` is `None` while no Restream.io app is configured.
    pub fn new(store: SharedStore, authorize: Option<Arc<dyn AuthorizeUrl>>) -> Self {
        Self { store, authorize }
    }

    /// Validates `form`, records it as pending under a fresh `state`, and returns the URL of
    /// Restream.io's authorize dialog for it. Bad input records nothing.
    pub async fn start(&self, form: &SignupForm) -> Result<Url, StartError> {
        let details = validate(form).map_err(StartError::Invalid)?;
        let authorize = self.authorize.as_ref().ok_or(StartError::NotOpen)?;
        let state = new_state();
        let created_at = now();
        let pending = PendingSignup { state, details, pkce_verifier: None, created_at, expires_at: created_at + PENDING_TTL };
        self.store.insert_pending_signup(&pending).await?;
        tracing::info!("sign-up started; sending the volunteer to Restream.io");
        Ok(authorize.authorize_url(&pending.state))
    }
}

/// A fresh OAuth `state`: 32 random bytes, base64url.
fn new_state() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PendingTake, SqliteStore};

    struct FixedAuthorize;
    impl AuthorizeUrl for FixedAuthorize {
        fn authorize_url(&self, state: &str) -> Url {
            Url::parse(&format!("https://restream.example/login?state={state}")).unwrap_or_else(|e| panic!("{e}"))
        }
    }

    async fn service(open: bool) -> (SignupService, SharedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store: SharedStore = Arc::new(SqliteStore::open(&dir.path().join("db")).await.unwrap_or_else(|e| panic!("{e}")));
        let authorize: Option<Arc<dyn AuthorizeUrl>> = if open { Some(Arc::new(FixedAuthorize)) } else { None };
        (SignupService::new(store.clone(), authorize), store, dir)
    }

    fn form() -> SignupForm {
        SignupForm {
            display_name: "Ana".into(),
            email: "ana@example.org".into(),
            twitch: "twitch.tv/anastream".into(),
            consent: Some("on".into()),
            ..SignupForm::default()
        }
    }

    #[tokio::test]
    async fn a_valid_form_is_recorded_under_a_fresh_state_and_sent_to_restream() {
        let (service, store, _dir) = service(true).await;
        let url = service.start(&form()).await.unwrap_or_else(|e| panic!("{e}"));
        let state = url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap_or_default();
        assert_eq!(state.len(), 43, "32 random bytes, base64url");
        match store.take_pending_signup(&state, now()).await {
            Ok(PendingTake::Taken(pending)) => {
                assert_eq!(pending.details.channels.twitch.as_deref(), Some("https://www.twitch.tv/anastream"));
                assert_eq!(pending.expires_at - pending.created_at, PENDING_TTL);
            }
            other => panic!("expected the pending sign-up, got {other:?}"),
        }
        let again = service.start(&form()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(again, url, "every sign-up gets its own state");
    }

    #[tokio::test]
    async fn bad_input_records_nothing() {
        let (service, store, _dir) = service(true).await;
        let bad = SignupForm { email: "not-an-address".into(), ..form() };
        assert!(matches!(service.start(&bad).await, Err(StartError::Invalid(e)) if e.len() == 1));
        assert_eq!(store.purge_pending_signups(now() + Duration::days(1)).await.ok(), Some(0), "nothing was stored");
    }

    #[tokio::test]
    async fn without_a_restream_app_sign_up_is_not_open() {
        let (service, store, _dir) = service(false).await;
        assert!(matches!(service.start(&form()).await, Err(StartError::NotOpen)));
        assert_eq!(store.purge_pending_signups(now() + Duration::days(1)).await.ok(), Some(0));
    }
}
