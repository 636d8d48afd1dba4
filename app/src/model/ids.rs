//! The ids Fanout keeps and the pages show: whose account, which direct destination, which
//! live, and which destination of a live — each a type of its own, never a bare string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A random-UUID id of Fanout's own: its type, what it names, and where one read back comes
/// from. One definition, so the two kinds cannot drift apart.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $from:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new random id.
            #[cfg(feature = "ssr")]
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            #[doc = concat!("An id read back from ", $from, ".")]
            pub fn from_stored(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// Fanout's own id for an account (a random UUID).
    AccountId,
    "the store or a trusted link"
);
uuid_id!(
    /// Fanout's own id for a direct destination (a random UUID).
    DirectId,
    "the store or a form"
);
uuid_id!(
    /// Fanout's own id for an API token (a random UUID; never the token itself).
    ApiTokenId,
    "the store or a form"
);

/// A YouTube video id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VideoId(pub String);

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A destination of a live: a volunteer's Restream account, or a direct destination the admin
/// added. Written as the account's id, or `direct-<id>` (in addresses, the relay, events).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationId {
    /// A volunteer's Restream.io account.
    Account(AccountId),
    /// A direct RTMP(S) destination.
    Direct(DirectId),
}

impl DestinationId {
    /// What tells a direct destination's id from an account's in its text form.
    const DIRECT: &'static str = "direct-";

    /// The account, when it is one.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Account(account) => Some(account),
            Self::Direct(_) => None,
        }
    }
}

impl fmt::Display for DestinationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account(account) => f.write_str(account.as_str()),
            Self::Direct(direct) => write!(f, "{}{direct}", Self::DIRECT),
        }
    }
}

/// Why text is not a destination id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a destination id")]
pub struct NotADestinationId;

impl FromStr for DestinationId {
    type Err = NotADestinationId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let well_formed = |id: &str| !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        match text.strip_prefix(Self::DIRECT) {
            Some(direct) if well_formed(direct) => Ok(Self::Direct(DirectId::from_stored(direct))),
            None if well_formed(text) => Ok(Self::Account(AccountId::from_stored(text))),
            _ => Err(NotADestinationId),
        }
    }
}

impl From<AccountId> for DestinationId {
    fn from(account: AccountId) -> Self {
        Self::Account(account)
    }
}

impl From<DirectId> for DestinationId {
    fn from(direct: DirectId) -> Self {
        Self::Direct(direct)
    }
}

impl Serialize for DestinationId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DestinationId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_id_reads_back_as_what_it_names() {
        let account = DestinationId::Account(AccountId::from_stored("0b6a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
        let direct = DestinationId::Direct(DirectId::from_stored("9c1d2e3f-0000-4e5f-8a9b-0c1d2e3f4a5b"));
        for id in [&account, &direct] {
            assert_eq!(id.to_string().parse::<DestinationId>().as_ref(), Ok(id));
            assert_eq!(serde_json::from_str::<DestinationId>(&serde_json::to_string(id).unwrap_or_default()).ok().as_ref(), Some(id));
        }
        assert_eq!(direct.to_string(), "direct-9c1d2e3f-0000-4e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(account.account().map(AccountId::as_str), Some("0b6a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
        for bad in ["", "direct-", "a/b", "x.y", &"a".repeat(65)] {
            assert_eq!(bad.parse::<DestinationId>(), Err(NotADestinationId), "{bad:?}");
        }
    }
}
