//! Keeping each account's Restream tokens usable. Access tokens live an hour; refreshing
//! rotates the pair and Restream invalidates the old one at once. So:
//!
//! - One thing at a time touches an account's tokens: a refresh, a disconnect, a reconnection,
//!   a deletion all hold the account's lock ([`AccountLocks`]), shared by the engine and the web
//!   handlers. A volunteer told "disconnected" is never left with a grant a refresh stored after.
//! - The rotated pair is written before the new access token is used, with a compare-and-swap on
//!   the refresh token it replaced (a refresh never overwrites what came first), durably.
//! - If the store fails after Restream rotated the pair, the pair is not dropped: the write is
//!   tried again, and until it lands the pair is kept in memory and used from there.
//!
//! `invalid_grant` means the volunteer must connect again: the account is marked so, with an
//! event, and the others go on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use app::model::{AccountStatus, EventKind};
use app::secrets::Sealed;
use app::secrets::{Cipher, Purpose, Secret, SecretsError};
use app::store::{AccountId, NewEvent, SealedTokens, SharedStore, StoreError, now};
use time::Duration;
use tokio::sync::OwnedMutexGuard;

use super::oauth::{OAuthError, RestreamOAuth};

/// Refresh when the access token expires within this.
const REFRESH_AHEAD: Duration = Duration::minutes(5);
/// The waits between attempts to store a rotated pair.
const STORE_RETRIES: [StdDuration; 3] = [StdDuration::from_millis(100), StdDuration::from_millis(500), StdDuration::from_secs(2)];

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

/// One lock per account, held by whatever reads-and-replaces its tokens.
#[derive(Debug, Clone, Default)]
pub struct AccountLocks(Arc<Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>>);

impl AccountLocks {
    /// Waits for, and takes, the lock of `account`.
    pub async fn lock(&self, account: &AccountId) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(account.clone()).or_default())
        };
        lock.lock_owned().await
    }
}

/// A rotated pair Restream gave that the store has not taken yet, and what it replaces.
#[derive(Clone)]
struct Unsaved {
    replaces: Sealed,
    tokens: SealedTokens,
    access: Secret,
}

/// Hands out usable access tokens, refreshing them as needed.
#[derive(Clone)]
pub struct TokenKeeper {
    store: SharedStore,
    cipher: Arc<Cipher>,
    oauth: RestreamOAuth,
    locks: AccountLocks,
    unsaved: Arc<Mutex<HashMap<AccountId, Unsaved>>>,
}

impl std::fmt::Debug for TokenKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeeper").finish_non_exhaustive()
    }
}

impl TokenKeeper {
    /// A keeper over the store's sealed tokens, taking `locks` (shared with whatever else
    /// replaces tokens).
    pub fn new(store: SharedStore, cipher: Arc<Cipher>, oauth: RestreamOAuth, locks: AccountLocks) -> Self {
        Self { store, cipher, oauth, locks, unsaved: Arc::default() }
    }

    fn unsaved(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Unsaved>> {
        self.unsaved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A usable access token: the stored one, or — when it expires within five minutes, or
    /// `failed` (a token Restream just refused) is still the current one — a refreshed one.
    pub async fn access_token(&self, account: &AccountId, failed: Option<&Secret>) -> Result<Secret, TokenError> {
        let _one_at_a_time = self.locks.lock(account).await;
        let stored = self.store.account(account).await?.ok_or(TokenError::NoTokens)?;
        let stored_tokens = stored.tokens.ok_or(TokenError::NoTokens)?;
        // A pair kept in memory (the store failed after a refresh) is newer than the stored one.
        let pending = self.unsaved().get(account).cloned().filter(|u| u.replaces == stored_tokens.refresh);
        if let Some(pending) = &pending {
            self.persist(account, pending).await;
        }
        let (tokens, access) = match &pending {
            Some(pending) => (pending.tokens.clone(), pending.access.clone()),
            None => {
                let access = self.cipher.open_secret(Purpose::AccessToken, &stored_tokens.access)?;
                (stored_tokens, access)
            }
        };
        let refused = failed.is_some_and(|f| f == &access);
        if !refused && tokens.access_expires_at > now() + REFRESH_AHEAD {
            return Ok(access);
        }
        let refresh = self.cipher.open_secret(Purpose::RefreshToken, &tokens.refresh)?;
        let pair = match self.oauth.refresh(&refresh).await {
            Ok(pair) => pair,
            Err(OAuthError::Refused(error)) if error.code() == "invalid_grant" => {
                self.unsaved().remove(account);
                self.needs_reconnect(account, &stored.display_name).await?;
                return Err(TokenError::NeedsReconnect);
            }
            Err(error) => return Err(TokenError::Refresh(error)),
        };
        let at = now();
        let sealed = SealedTokens {
            access: self.cipher.seal_secret(Purpose::AccessToken, &pair.access),
            refresh: self.cipher.seal_secret(Purpose::RefreshToken, &pair.refresh),
            access_expires_at: pair.expires_at(at),
        };
        // Stored before use: the old pair is already dead on Restream's side.
        let unsaved = Unsaved { replaces: tokens.refresh.clone(), tokens: sealed, access: pair.access.clone() };
        self.unsaved().insert(account.clone(), unsaved.clone());
        match self.persist(account, &unsaved).await {
            Persisted::Stored => tracing::info!(%account, "refreshed the Restream tokens"),
            Persisted::Kept => tracing::warn!(%account, "refreshed the Restream tokens; the store did not take them yet (kept in memory)"),
            Persisted::Superseded => {
                // Disconnected (or connected anew) while Restream rotated the pair: the new
                // grant must not outlive what the volunteer was told.
                if let Err(error) = self.oauth.revoke(&pair.refresh).await {
                    tracing::warn!(%account, "could not revoke a grant refreshed after a disconnect: {error}");
                }
                return Err(TokenError::NoTokens);
            }
        }
        Ok(pair.access)
    }

    /// Writes a rotated pair (compare-and-swap on what it replaces), trying again on store
    /// errors; forgets it from memory once stored or superseded.
    async fn persist(&self, account: &AccountId, pair: &Unsaved) -> Persisted {
        let mut waits = STORE_RETRIES.iter();
        loop {
            match self.store.replace_account_tokens(account, &pair.replaces, pair.tokens.clone(), now()).await {
                Ok(true) => {
                    self.unsaved().remove(account);
                    return Persisted::Stored;
                }
                Ok(false) => {
                    // Disconnected or reconnected meanwhile (under the lock, so before this
                    // refresh began): the account's stored state wins.
                    self.unsaved().remove(account);
                    return Persisted::Superseded;
                }
                Err(error) => match waits.next() {
                    Some(wait) => {
                        tracing::warn!(%account, %error, "could not store the refreshed tokens; trying again");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Persisted::Kept,
                },
            }
        }
    }

    async fn needs_reconnect(&self, account: &AccountId, name: &str) -> Result<(), StoreError> {
        self.store.set_account_status(account, AccountStatus::NeedsReconnect, now()).await?;
        let message = format!("Restream refused {name}'s refresh token: they must connect again");
        tracing::warn!(%account, "{message}");
        self.store.append_event(NewEvent::now(EventKind::AccountStatusChanged, message).for_account(account)).await?;
        Ok(())
    }
}

/// What became of a rotated pair.
enum Persisted {
    /// In the store.
    Stored,
    /// Not in the store yet: kept in memory, used from there, written at the next use.
    Kept,
    /// The account's tokens changed before it (a disconnect): dropped.
    Superseded,
}
