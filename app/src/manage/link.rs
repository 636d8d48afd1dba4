//! Manage links: `/manage/<account id>.<epoch>.<issued at>.<signature>`, signed with
//! HMAC-SHA256 under a key derived from the server's master key. Anyone holding the link can
//! manage that one account (it is the volunteer's capability); a changed or stale link is
//! refused, and so is one of an older epoch — the account's link generation, moved on by a
//! disconnect or when the volunteer asks for a new link, which revokes every link given before.
//! Links from before epochs existed (`<id>.<issued>.<signature>`) are epoch 0.

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
    /// Correctly signed, but a newer link replaced it (or the account was disconnected).
    #[error("this manage link was replaced by a newer one")]
    Revoked,
}

/// What a genuine link says: whose it is and of which generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaim {
    /// The account.
    pub account: AccountId,
    /// The link generation it was issued in.
    pub epoch: u32,
}

impl LinkClaim {
    /// The claim, if its generation is still the account's (`current`).
    pub fn current(self, current: u32) -> Result<AccountId, LinkError> {
        if self.epoch == current { Ok(self.account) } else { Err(LinkError::Revoked) }
    }
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

    fn mac(&self, account: &str, epoch: Option<u32>, issued: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.as_ref()) else {
            unreachable!("HMAC-SHA256 takes a 32-byte key");
        };
        match epoch {
            Some(epoch) => mac.update(format!("fanout manage link v2\n{account}\n{epoch}\n{issued}").as_bytes()),
            None => mac.update(format!("fanout manage link v1\n{account}\n{issued}").as_bytes()),
        }
        mac
    }

    /// The token for `account` in link generation `epoch`, issued at `at` (the part after
    /// `/manage/`).
    pub fn issue(&self, account: &AccountId, epoch: u32, at: OffsetDateTime) -> String {
        let issued = at.unix_timestamp();
        let signature = URL_SAFE_NO_PAD.encode(self.mac(account.as_str(), Some(epoch), issued).finalize().into_bytes());
        format!("{account}.{epoch}.{issued}.{signature}")
    }

    /// What a token claims, if it is genuine and not stale at `now` (whether its generation is
    /// still the account's is [`LinkClaim::current`]'s to say).
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<LinkClaim, LinkError> {
        if token.len() > 256 {
            return Err(LinkError::Invalid);
        }
        let parts: Vec<&str> = token.rsplitn(4, '.').collect();
        let (signature, issued, epoch, account) = match parts.as_slice() {
            [signature, issued, epoch, account] => (*signature, *issued, Some(*epoch), *account),
            [signature, issued, account] => (*signature, *issued, None, *account),
            _ => return Err(LinkError::Invalid),
        };
        let issued: i64 = issued.parse().map_err(|_| LinkError::Invalid)?;
        let epoch: Option<u32> = epoch.map(|e| e.parse().map_err(|_| LinkError::Invalid)).transpose()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkError::Invalid)?;
        if account.is_empty() || account.len() > 64 || account.contains('.') {
            return Err(LinkError::Invalid);
        }
        self.mac(account, epoch, issued).verify_slice(&signature).map_err(|_| LinkError::Invalid)?;
        let issued_at = OffsetDateTime::from_unix_timestamp(issued).map_err(|_| LinkError::Invalid)?;
        if issued_at > now + CLOCK_SKEW {
            return Err(LinkError::Invalid);
        }
        if now - issued_at > LINK_VALIDITY {
            return Err(LinkError::Expired);
        }
        Ok(LinkClaim { account: AccountId::from_stored(account), epoch: epoch.unwrap_or(0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_generation_revokes_older_links_and_links_from_before_epochs_are_the_first() {
        let signer = signer();
        let account = AccountId::random();
        let now = OffsetDateTime::now_utc();
        let old = signer.issue(&account, 0, now);
        assert_eq!(signer.verify(&old, now).and_then(|c| c.current(1)), Err(LinkError::Revoked));
        // The shape links had before epochs: account, issued at, signature (v1).
        let issued = now.unix_timestamp();
        let v1 = URL_SAFE_NO_PAD.encode(signer.mac(account.as_str(), None, issued).finalize().into_bytes());
        let before = format!("{account}.{issued}.{v1}");
        assert_eq!(signer.verify(&before, now).and_then(|c| c.current(0)), Ok(account.clone()));
        assert_eq!(signer.verify(&before, now).and_then(|c| c.current(1)), Err(LinkError::Revoked));
        assert_eq!(signer.verify(&"x".repeat(300), now), Err(LinkError::Invalid));
    }

    fn signer() -> LinkSigner {
        LinkSigner::new(&MasterKey::generate())
    }

    #[test]
    fn a_fresh_link_names_its_account() {
        let signer = signer();
        let account = AccountId::random();
        let now = OffsetDateTime::now_utc();
        let token = signer.issue(&account, 3, now);
        assert_eq!(signer.verify(&token, now), Ok(LinkClaim { account: account.clone(), epoch: 3 }));
        assert_eq!(signer.verify(&token, now).and_then(|c| c.current(3)), Ok(account));
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "URL-safe: {token}");
    }

    #[test]
    fn any_change_to_the_link_is_refused() {
        let signer = signer();
        let now = OffsetDateTime::now_utc();
        let token = signer.issue(&AccountId::random(), 0, now);
        let other_account = format!("{}{}", AccountId::random(), &token[36..]);
        let other_epoch = token.replacen(".0.", ".1.", 1);
        let other_time = token.replacen(&now.unix_timestamp().to_string(), &(now.unix_timestamp() - 1).to_string(), 1);
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap_or_default();
        for bad in [
            other_account,
            other_epoch,
            other_time,
            flipped,
            token[..token.len() - 5].to_string(),
            String::new(),
            "a.b.c".into(),
            "...".into(),
        ] {
            assert_eq!(signer.verify(&bad, now), Err(LinkError::Invalid), "{bad}");
        }
        assert_eq!(LinkSigner::new(&MasterKey::generate()).verify(&token, now), Err(LinkError::Invalid), "another server's key");
    }

    #[test]
    fn a_stale_link_is_refused_as_expired() {
        let signer = signer();
        let issued = OffsetDateTime::now_utc() - LINK_VALIDITY - Duration::minutes(1);
        let token = signer.issue(&AccountId::random(), 0, issued);
        assert_eq!(signer.verify(&token, OffsetDateTime::now_utc()), Err(LinkError::Expired));
        let future = signer.issue(&AccountId::random(), 0, OffsetDateTime::now_utc() + Duration::hours(1));
        assert_eq!(signer.verify(&future, OffsetDateTime::now_utc()), Err(LinkError::Invalid), "not from the future");
    }
}
