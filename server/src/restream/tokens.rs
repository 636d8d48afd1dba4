//! Keeping each account's Restream tokens usable. Access tokens live an hour; refreshing
//! rotates the pair and Restream invalidates the old one at once. So a refresh is done once per
//! account at a time (single-flight), and the new pair is stored before the new access token is
//! used — a crash can never leave Fanout holding only a dead pair. `invalid_grant` means the
//! volunteer must connect again: the account is marked so, with an event, and the others go on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::{AccountStatus, EventKind};
use app::secrets::{Cipher, Purpose, Secret, SecretsError};
use app::store::{AccountId, NewEvent, SealedTokens, SharedStore, StoreError, now};
use time::Duration;

use super::oauth::{OAuthError, RestreamOAuth};

/// Refresh when the access token expires within this.
const REFRESH_AHEAD: Duration = Duration::minutes(5);

/// Why no usable access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Restream refused the refresh token: the volunteer must connect again.
    #[error("Restream refused the refresh token: the account must be reconnected")]
    NeedsReconnect,
    /// The account has no tokens (disconnected) or does not exist.
    #[error("the account has no Restream tokens")]
    NoTokens,
    /// The refresh failed for another reason (network, Restream error): try later.
    #[error("could not refresh the tokens: {0}")]
    Refresh(OAuthError),
    /// Stored tokens could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hands out usable access tokens, refreshing them as needed.
#[derive(Clone)]
pub struct TokenKeeper {
    store: SharedStore,
    cipher: Arc<Cipher>,
    oauth: RestreamOAuth,
    flights: Arc<Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>>,
}

impl TokenKeeper {
    /// A keeper over the store's sealed tokens.
    pub fn new(store: SharedStore, cipher: Arc<Cipher>, oauth: RestreamOAuth) -> Self {
        Self { store, cipher, oauth, flights: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn flight(&self, account: &AccountId) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        flights.entry(account.clone()).or_default().clone()
    }

    /// A usable access token: the stored one, or — when it expires within five minutes, or
    /// `failed` (a token Restream just refused) is still the stored one — a refreshed one.
    pub async fn access_token(&self, account: &AccountId, failed: Option<&Secret>) -> Result<Secret, TokenError> {
        let flight = self.flight(account);
        let _one_at_a_time = flight.lock().await;
        let stored = self.store.account(account).await?.ok_or(TokenError::NoTokens)?;
        let tokens = stored.tokens.ok_or(TokenError::NoTokens)?;
        let access = self.cipher.open_secret(Purpose::AccessToken, &tokens.access)?;
        let refused = failed.is_some_and(|f| f == &access);
        if !refused && tokens.access_expires_at > now() + REFRESH_AHEAD {
            return Ok(access);
        }
        let refresh = self.cipher.open_secret(Purpose::RefreshToken, &tokens.refresh)?;
        let pair = match self.oauth.refresh(&refresh).await {
            Ok(pair) => pair,
            Err(OAuthError::Refused(error)) if error.code() == "invalid_grant" => {
                self.needs_reconnect(account, &stored.display_name).await?;
                return Err(TokenError::NeedsReconnect);
            }
            Err(error) => return Err(TokenError::Refresh(error)),
        };
        let at = now();
        let sealed = SealedTokens {
            access: self.cipher.seal_secret(Purpose::AccessToken, &pair.access),
            refresh: self.cipher.seal_secret(Purpose::RefreshToken, &pair.refresh),
            access_expires_at: at + Duration::try_from(pair.expires_in).unwrap_or(Duration::hours(1)),
        };
        // Stored before use: the old pair is already dead on Restream's side.
        self.store.set_account_tokens(account, Some(sealed), at).await?;
        tracing::info!(%account, "refreshed the Restream tokens");
        Ok(pair.access)
    }

    async fn needs_reconnect(&self, account: &AccountId, name: &str) -> Result<(), StoreError> {
        self.store.set_account_status(account, AccountStatus::NeedsReconnect, now()).await?;
        let message = format!("Restream refused {name}'s refresh token: they must connect again");
        tracing::warn!(%account, "{message}");
        self.store.append_event(NewEvent::now(EventKind::AccountStatusChanged, message).for_account(account)).await?;
        Ok(())
    }
}
