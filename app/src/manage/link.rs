//! Manage links: `/manage/<account id>.<issued at>.<signature>`, signed with HMAC-SHA256 under a
//! key derived from the server's master key. Anyone holding the link can manage that one
//! account (it is the volunteer's capability); a changed or stale link is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::secrets::MasterKey;
use crate::store::AccountId;

/// How long a manage link stays valid. Every visit to the manage page shows a fresh one.
pub const LINK_VALIDITY: Duration = Duration::days(180);
/// Tolerance for a link issued by a server whose clock runs slightly ahead.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Why a manage link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not of the link's shape, or its signature does not match (altered or forged).
    #[error("this manage link is not valid: it was changed or cut short")]
    Invalid,
    /// Correctly signed but older than [`LINK_VALIDITY`].
    #[error("this manage link has expired")]
    Expired,
}

/// Issues and checks manage links.
#[derive(Clone)]
pub struct LinkSigner {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(***)")
    }
}

impl LinkSigner {
    /// A signer with its own key, derived from the master key.
    pub fn new(master: &MasterKey) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        master.derive(b"fanout v1 manage links", key.as_mut());
        Self { key }
    }

    fn mac(&self, account: &str, issued: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.as_ref()) else {
            unreachable!("HMAC-SHA256 takes a 32-byte key");
        };
        mac.update(format!("fanout manage link v1\n{account}\n{issued}").as_bytes());
        mac
    }

    /// The token for `account`, issued at `at` (the part after `/manage/`).
    pub fn issue(&self, account: &AccountId, at: OffsetDateTime) -> String {
        let issued = at.unix_timestamp();
        let signature = URL_SAFE_NO_PAD.encode(self.mac(account.as_str(), issued).finalize().into_bytes());
        format!("{account}.{issued}.{signature}")
    }

    /// The account a token is for, if it is genuine and not stale at `now`.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccountId, LinkError> {
        let mut parts = token.rsplitn(3, '.');
        let (Some(signature), Some(issued), Some(account)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(LinkError::Invalid);
        };
        let issued: i64 = issued.parse().map_err(|_| LinkError::Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkError::Invalid)?;
        if account.is_empty() || account.len() > 64 {
            return Err(LinkError::Invalid);
        }
        self.mac(account, issued).verify_slice(&signature).map_err(|_| LinkError::Invalid)?;
        let issued_at = OffsetDateTime::from_unix_timestamp(issued).map_err(|_| LinkError::Invalid)?;
        if issued_at > now + CLOCK_SKEW {
            return Err(LinkError::Invalid);
        }
        if now - issued_at > LINK_VALIDITY {
            return Err(LinkError::Expired);
        }
        Ok(AccountId::from_stored(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(&MasterKey::generate())
    }

    #[test]
    fn a_fresh_link_names_its_account() {
        let signer = signer();
        let account = AccountId::random();
        let now = OffsetDateTime::now_utc();
        let token = signer.issue(&account, now);
        assert_eq!(signer.verify(&token, now), Ok(account));
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "URL-safe: {token}");
    }

    #[test]
    fn any_change_to_the_link_is_refused() {
        let signer = signer();
        let now = OffsetDateTime::now_utc();
        let token = signer.issue(&AccountId::random(), now);
        let other_account = format!("{}{}", AccountId::random(), &token[36..]);
        let other_time = token.replacen(&now.unix_timestamp().to_string(), &(now.unix_timestamp() - 1).to_string(), 1);
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap_or_default();
        for bad in [other_account, other_time, flipped, token[..token.len() - 5].to_string(), String::new(), "a.b.c".into(), "...".into()] {
            assert_eq!(signer.verify(&bad, now), Err(LinkError::Invalid), "{bad}");
        }
        assert_eq!(LinkSigner::new(&MasterKey::generate()).verify(&token, now), Err(LinkError::Invalid), "another server's key");
    }

    #[test]
    fn a_stale_link_is_refused_as_expired() {
        let signer = signer();
        let issued = OffsetDateTime::now_utc() - LINK_VALIDITY - Duration::minutes(1);
        let token = signer.issue(&AccountId::random(), issued);
        assert_eq!(signer.verify(&token, OffsetDateTime::now_utc()), Err(LinkError::Expired));
        let future = signer.issue(&AccountId::random(), OffsetDateTime::now_utc() + Duration::hours(1));
        assert_eq!(signer.verify(&future, OffsetDateTime::now_utc()), Err(LinkError::Invalid), "not from the future");
    }
}
