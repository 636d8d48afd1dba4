//! The API's bearer tokens: made (32 random bytes, `fanout_` + base64url), kept only as their
//! SHA-256, revoked by deletion. SHA-256 rather than argon2: a token is 256 random bits, not a
//! password a person chose, so no dictionary or brute force can reach it and a slow hash would
//! protect nothing — while it would cost every API request a deliberately slow computation (and
//! a per-token salt would stop the lookup by hash).

use app::secrets::Secret;
use app::store::{ApiToken, ApiTokenHash, ApiTokenId, SharedStore, StoreError, now};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every token starts with (so a leaked one is recognisable, e.g. by secret scanners).
pub const PREFIX: &str = "fanout_";
/// The longest name a token may have.
pub const MAX_NAME: usize = 80;

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is empty or too long.
    #[error("a token needs a name of 1 to {MAX_NAME} characters")]
    BadName,
    /// The store failed.
    #[error("the token could not be saved: {0}")]
    Store(#[from] StoreError),
}

/// The SHA-256 of a token as sent.
pub fn hash(token: &str) -> ApiTokenHash {
    ApiTokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Makes a token named `name` and stores its hash; the record and the token (to show once).
pub async fn issue(store: &SharedStore, name: &str) -> Result<(ApiToken, Secret), TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(TokenError::BadName);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = Secret::new(format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)));
    let record =
        ApiToken { id: ApiTokenId::random(), name: name.to_string(), hash: hash(token.expose()), created_at: now(), last_used_at: None };
    store.insert_api_token(&record).await?;
    Ok((record, token))
}

/// How often a token's last use is written at most.
pub const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// Records that `token` was used now, unless it was within the last minute.
pub async fn touch(store: &SharedStore, token: &ApiToken) {
    let at = now();
    if token.last_used_at.is_some_and(|last| last > at - TOUCH_EVERY) {
        return;
    }
    if let Err(error) = store.touch_api_token(&token.id, at, at - TOUCH_EVERY).await {
        tracing::warn!(%error, token = %token.id, "could not record an API token's use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_hashed_whole_and_never_shown_in_debug() {
        assert_eq!(hash("fanout_a"), hash("fanout_a"));
        assert_ne!(hash("fanout_a"), hash("fanout_b"));
        assert_eq!(format!("{:?}", hash("fanout_a")), "ApiTokenHash(***)");
    }
}
