//! Who may use the admin dashboard: the users of `FANOUT_ADMIN_USERS` (`name:argon2-hash`,
//! comma-separated), their passwords checked with argon2id, and `fanout hash-password`'s hash.
//! A password is never stored or logged; an unknown name costs as much time as a wrong
//! password, so the answer's timing does not tell which names exist.

use std::collections::BTreeMap;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Why `FANOUT_ADMIN_USERS` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminUsersError {
    /// An entry is not `name:hash`.
    #[error("admin user {index}: expected name:argon2-hash")]
    Shape {
        /// The entry's position (from 1).
        index: usize,
    },
    /// A name is empty or has characters other than letters, digits, `.`, `_` and `-`.
    #[error("admin user {index}: the name must be 1–64 letters, digits, '.', '_' or '-'")]
    Name {
        /// The entry's position (from 1).
        index: usize,
    },
    /// The hash is not an argon2 PHC string (`$argon2id$…`, as `fanout hash-password` prints).
    #[error("admin user {name:?}: the hash is not an argon2 hash (make one with `fanout hash-password`)")]
    Hash {
        /// The user.
        name: String,
    },
    /// The same name twice.
    #[error("admin user {name:?} is listed twice")]
    Duplicate {
        /// The user.
        name: String,
    },
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too short to protect a dashboard that controls every destination.
    #[error("the password must be at least {MIN_PASSWORD} characters")]
    TooShort,
    /// argon2 failed (it does not, for valid parameters).
    #[error("argon2: {0}")]
    Argon2(String),
}

/// The shortest password `fanout hash-password` accepts.
pub const MIN_PASSWORD: usize = 12;

/// The configured admin users.
#[derive(Clone, Default)]
pub struct AdminUsers {
    hashes: BTreeMap<String, String>,
}

impl std::fmt::Debug for AdminUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.hashes.keys()).finish()
    }
}

/// A hash verified against when the name is unknown (same cost as a real check).
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZmFub3V0LWRlY295LXNhbHQ$3cS8FvZkqWfTtq8vGCe7RZVgB6RaxrR8GgOl0o2ZkNg";

impl AdminUsers {
    /// Reads `name:hash,name:hash`. An argon2 hash itself holds commas (`m=…,t=…,p=…`), so an
    /// entry starts only where a name is followed by `:$`.
    pub fn parse(text: &str) -> Result<Self, AdminUsersError> {
        let mut entries: Vec<String> = Vec::new();
        for piece in text.split(',') {
            let starts_entry = piece.trim_start().split_once(":$").is_some_and(|(name, _)| !name.contains('$'));
            match entries.last_mut() {
                Some(last) if !starts_entry => {
                    last.push(',');
                    last.push_str(piece);
                }
                _ => entries.push(piece.to_string()),
            }
        }
        let mut hashes = BTreeMap::new();
        for (i, entry) in entries.iter().enumerate().filter(|(_, e)| !e.trim().is_empty()) {
            let index = i + 1;
            let (name, hash) = entry.trim().split_once(':').ok_or(AdminUsersError::Shape { index })?;
            let valid_name =
                (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid_name {
                return Err(AdminUsersError::Name { index });
            }
            let parsed = PasswordHash::new(hash).map_err(|_| AdminUsersError::Hash { name: name.to_string() })?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(AdminUsersError::Hash { name: name.to_string() });
            }
            if hashes.insert(name.to_string(), hash.to_string()).is_some() {
                return Err(AdminUsersError::Duplicate { name: name.to_string() });
            }
        }
        Ok(Self { hashes })
    }

    /// Whether any admin is configured.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The names.
    pub fn names(&self) -> Vec<String> {
        self.hashes.keys().cloned().collect()
    }

    /// Whether `password` is `name`'s. Blocking (argon2 is deliberately slow).
    pub fn verify(&self, name: &str, password: &str) -> bool {
        self.verify_with(name, password, &mut Vec::new())
    }

    /// [`AdminUsers::verify`], with argon2's working memory in `memory` (grown to what the hash
    /// asks, then kept by the caller and used again): a thread that checks passwords all day
    /// holds one buffer, instead of the allocator keeping a fresh 19 MiB for every check.
    pub fn verify_with(&self, name: &str, password: &str, memory: &mut Vec<Block>) -> bool {
        let known = self.hashes.get(name);
        let hash = known.map_or(DECOY, String::as_str);
        let matches = PasswordHash::new(hash).ok().and_then(|parsed| hash_matches(&parsed, password.as_bytes(), memory)).unwrap_or(false);
        known.is_some() && matches
    }
}

/// Whether `password` hashes to `parsed` (its algorithm, version, parameters and salt);
/// `None` when the hash cannot be used.
fn hash_matches(parsed: &PasswordHash<'_>, password: &[u8], memory: &mut Vec<Block>) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
    let params = Params::try_from(parsed).ok()?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let expected = parsed.hash?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(password, salt, &mut out, &mut memory[..]).ok()?;
    Some(out.len() == expected.len() && out.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

/// An argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(HashError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| HashError::Argon2(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashed(password: &str) -> String {
        hash_password(password).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let ana = hashed("correct horse battery");
        let bob = hashed("another long secret");
        assert!(ana.starts_with("$argon2id$"), "{ana}");
        let users = AdminUsers::parse(&format!("ana:{ana},bob:{bob}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(users.names(), ["ana", "bob"]);
        assert!(users.verify("ana", "correct horse battery"));
        assert!(!users.verify("ana", "another long secret"), "bob's password is not ana's");
        assert!(users.verify("bob", "another long secret"));
        assert!(!users.verify("carol", "correct horse battery"), "an unknown name never passes");
        assert!(!users.verify("ana", ""));
    }

    #[test]
    fn the_decoy_is_a_real_hash_so_unknown_names_cost_a_full_check() {
        assert!(PasswordHash::new(DECOY).is_ok());
    }

    #[test]
    fn two_hashes_of_one_password_differ() {
        assert_ne!(hashed("correct horse battery"), hashed("correct horse battery"), "fresh salt each time");
    }

    #[test]
    fn a_short_password_is_refused() {
        assert!(matches!(hash_password("short"), Err(HashError::TooShort)));
    }

    #[test]
    fn bad_lists_are_named_without_their_secrets() {
        let good = hashed("correct horse battery");
        assert_eq!(AdminUsers::parse("").map(|u| u.is_empty()), Ok(true));
        assert_eq!(AdminUsers::parse("ana").err(), Some(AdminUsersError::Shape { index: 1 }));
        assert_eq!(AdminUsers::parse(&format!("a b:{good}")).err(), Some(AdminUsersError::Name { index: 1 }));
        assert_eq!(AdminUsers::parse("ana:$plain$text").err(), Some(AdminUsersError::Hash { name: "ana".into() }));
        assert_eq!(AdminUsers::parse("ana:hunter2").err(), Some(AdminUsersError::Hash { name: "ana".into() }));
        assert_eq!(AdminUsers::parse(&format!("ana:{good},ana:{good}")).err(), Some(AdminUsersError::Duplicate { name: "ana".into() }));
        let message = AdminUsers::parse("ana:hunter2").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!message.contains("hunter2"), "{message}");
    }
}
