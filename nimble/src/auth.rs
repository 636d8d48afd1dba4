//! Authorising a request to Nimble's management API.
//!
//! From the Nimble Streamer native API reference, section "Making authorized requests": when
//! `management_token` is set in `nimble.conf`, every request carries two query parameters,
//! `salt` (a random value; the reference's PHP sample uses `rand(0, 1000000)`) and `hash`, the
//! base64 of the raw MD5 digest of `"<salt>/<token>"`. Without `management_token` Nimble checks
//! nothing; Fanout always sets one (see [`crate::config`]).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use rand::Rng;

use crate::Secret;

/// The largest salt drawn, as in the reference's sample (`rand(0, 1000000)`).
const SALT_MAX: u32 = 1_000_000;

/// A fresh random salt, a decimal number as in the reference's sample.
pub fn new_salt() -> String {
    rand::thread_rng().gen_range(0..=SALT_MAX).to_string()
}

/// `base64(md5("<salt>/<token>"))`, the `hash` parameter.
pub fn hash(salt: &str, token: &Secret) -> String {
    let mut digest = Md5::new();
    digest.update(salt.as_bytes());
    digest.update(b"/");
    digest.update(token.expose().as_bytes());
    STANDARD.encode(digest.finalize())
}

/// Whether `hash` authorises `salt` for `token` (compared in constant time).
pub fn verify(salt: &str, hash_given: &str, token: &Secret) -> bool {
    let expected = hash(salt, token);
    let (a, b) = (expected.as_bytes(), hash_given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The two query parameters of one authorised request. The pair can be replayed (Nimble does
/// not remember salts), so `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthQuery {
    /// `salt`.
    pub salt: String,
    /// `hash`.
    pub hash: String,
}

impl AuthQuery {
    /// A fresh salt and its hash for `token`.
    pub fn new(token: &Secret) -> Self {
        let salt = new_salt();
        let hash = hash(&salt, token);
        Self { salt, hash }
    }

    /// The pairs to append to a request's query string.
    pub fn pairs(&self) -> [(&'static str, &str); 2] {
        [("salt", &self.salt), ("hash", &self.hash)]
    }
}

impl fmt::Debug for AuthQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthQuery").field("salt", &self.salt).field("hash", &"***").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by hand: `printf '123456/s3cr3t-token' | openssl md5 -binary | base64`.
    const WORKED_EXAMPLE: &str = "hOHkhtFf3DIeBn0WSneFAA==";

    #[test]
    fn the_hash_matches_the_worked_example() {
        assert_eq!(hash("123456", &Secret::new("s3cr3t-token")), WORKED_EXAMPLE);
    }

    #[test]
    fn verify_accepts_the_right_hash_and_refuses_others() {
        let token = Secret::new("s3cr3t-token");
        assert!(verify("123456", WORKED_EXAMPLE, &token));
        assert!(!verify("123457", WORKED_EXAMPLE, &token));
        assert!(!verify("123456", WORKED_EXAMPLE, &Secret::new("other-token")));
        assert!(!verify("123456", "", &token));
    }

    #[test]
    fn salts_are_decimal_numbers_in_the_reference_range() {
        for _ in 0..100 {
            let salt = new_salt();
            let value: u32 = salt.parse().unwrap_or(u32::MAX);
            assert!(value <= SALT_MAX, "{salt}");
        }
    }

    #[test]
    fn a_query_verifies_and_hides_its_hash() {
        let token = Secret::new("s3cr3t-token");
        let query = AuthQuery::new(&token);
        assert!(verify(&query.salt, &query.hash, &token));
        assert!(!format!("{query:?}").contains(&query.hash));
    }
}
