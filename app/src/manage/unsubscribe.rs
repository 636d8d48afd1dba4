//! Unsubscribe links: `/unsubscribe/<account id>.<signature>`, HMAC-SHA256 under a key of their
//! own (derived from the master key for this purpose alone), so a manage link never serves as
//! one and one never serves as a manage link. An unsubscribe link only turns the volunteer's
//! e-mails off, so it does not expire: a message read months later still unsubscribes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::secrets::MasterKey;
use crate::store::AccountId;

/// Why an unsubscribe link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsubscribeError {
    /// Not of the link's shape, or its signature does not match.
    #[error("this unsubscribe link is not valid: it was changed or cut short")]
    Invalid,
}

/// Issues and checks unsubscribe links.
#[derive(Clone)]
pub struct UnsubscribeSigner {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for UnsubscribeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeSigner(***)")
    }
}

impl UnsubscribeSigner {
    /// A signer with its own key, derived from the master key.
    pub fn new(master: &MasterKey) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        master.derive(b"fanout v1 unsubscribe links", key.as_mut());
        Self { key }
    }

    fn mac(&self, account: &str) -> Hmac<Sha256> {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.as_ref()) else {
            unreachable!("HMAC-SHA256 takes a 32-byte key");
        };
        mac.update(format!("fanout unsubscribe link v1\n{account}").as_bytes());
        mac
    }

    /// The token for `account` (the part after `/unsubscribe/`).
    pub fn issue(&self, account: &AccountId) -> String {
        let signature = URL_SAFE_NO_PAD.encode(self.mac(account.as_str()).finalize().into_bytes());
        format!("{account}.{signature}")
    }

    /// Whose token it is, if it is genuine.
    pub fn verify(&self, token: &str) -> Result<AccountId, UnsubscribeError> {
        if token.len() > 160 {
            return Err(UnsubscribeError::Invalid);
        }
        let (account, signature) = token.split_once('.').ok_or(UnsubscribeError::Invalid)?;
        if account.is_empty() || account.len() > 64 || signature.contains('.') {
            return Err(UnsubscribeError::Invalid);
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| UnsubscribeError::Invalid)?;
        self.mac(account).verify_slice(&signature).map_err(|_| UnsubscribeError::Invalid)?;
        Ok(AccountId::from_stored(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manage::link::LinkSigner;

    #[test]
    fn a_link_names_its_account_and_any_change_is_refused() {
        let signer = UnsubscribeSigner::new(&MasterKey::generate());
        let account = AccountId::random();
        let token = signer.issue(&account);
        assert_eq!(signer.verify(&token), Ok(account));
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "URL-safe: {token}");
        let other = format!("{}{}", AccountId::random(), &token[36..]);
        for bad in [other, token[..token.len() - 3].to_string(), format!("{token}.x"), String::new(), ".".into(), "x".repeat(200)] {
            assert_eq!(signer.verify(&bad), Err(UnsubscribeError::Invalid), "{bad}");
        }
        assert_eq!(UnsubscribeSigner::new(&MasterKey::generate()).verify(&token), Err(UnsubscribeError::Invalid));
    }

    #[test]
    fn a_manage_link_is_no_unsubscribe_link_and_the_other_way_round() {
        let master = MasterKey::generate();
        let (links, unsubscribe) = (LinkSigner::new(&master), UnsubscribeSigner::new(&master));
        let account = AccountId::random();
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(unsubscribe.verify(&links.issue(&account, 0, now)), Err(UnsubscribeError::Invalid));
        assert!(links.verify(&unsubscribe.issue(&account), now).is_err());
    }
}
