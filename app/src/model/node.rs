//! The name a Fanout node goes by in a cluster of several hosts (`FANOUT_NODE_NAME`): in its
//! lease, in the assignment of destinations, on the dashboard.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A node's name: 1 to 63 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or a
/// digit. Compared exactly (`Node-A` and `node-a` are two nodes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(String);

/// The longest node name.
pub const NODE_NAME_MAX: usize = 63;

/// Why text is not a node name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotANodeName {
    /// The text is empty.
    #[error("a node name cannot be empty")]
    Empty,
    /// The text is longer than [`NODE_NAME_MAX`].
    #[error("a node name is at most {NODE_NAME_MAX} characters")]
    TooLong,
    /// A character other than the allowed ones.
    #[error("a node name holds only ASCII letters, digits, '.', '_' and '-', and starts with a letter or a digit")]
    BadCharacter,
}

impl NodeName {
    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NodeName {
    type Err = NotANodeName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let first = text.chars().next().ok_or(NotANodeName::Empty)?;
        if text.len() > NODE_NAME_MAX {
            return Err(NotANodeName::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !first.is_ascii_alphanumeric() || !text.chars().all(allowed) {
            return Err(NotANodeName::BadCharacter);
        }
        Ok(Self(text.to_string()))
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for NodeName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_short_plain_words() {
        for good in ["a", "node-1", "eu.west_2", "N0DE"] {
            assert_eq!(good.parse::<NodeName>().map(|n| n.to_string()).as_deref(), Ok(good));
        }
        assert_eq!("".parse::<NodeName>(), Err(NotANodeName::Empty));
        assert_eq!("-node".parse::<NodeName>(), Err(NotANodeName::BadCharacter));
        assert_eq!("node 1".parse::<NodeName>(), Err(NotANodeName::BadCharacter));
        assert_eq!("nöde".parse::<NodeName>(), Err(NotANodeName::BadCharacter));
        assert_eq!("n".repeat(64).parse::<NodeName>(), Err(NotANodeName::TooLong));
        assert!("n".repeat(63).parse::<NodeName>().is_ok());
    }

    #[test]
    fn a_stored_node_name_is_checked_when_read() {
        assert!(serde_json::from_str::<NodeName>("\"node-a\"").is_ok());
        assert!(serde_json::from_str::<NodeName>("\"bad name\"").is_err());
    }
}
