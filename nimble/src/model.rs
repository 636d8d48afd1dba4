//! The JSON Nimble's management API speaks for RTMP republishing, as typed values.
//!
//! Field names are those of the Nimble Streamer native API reference, section "RTMP
//! republishing" (the create call's parameters: `src_app`, `src_stream`, `dest_addr`,
//! `dest_port`, `dest_app`, `dest_stream`, `dest_app_params`, `dest_stream_params`,
//! `auth_schema` one of NONE/NIMBLE/AKAMAI/LIMELIGHT/PERISCOPE, `dest_login`, `dest_password`,
//! `keep_src_stream_params`, `ssl`); the same names appear in the `RtmpPublishSettings` of a
//! real `rules.conf`. Readers are lenient where the reference shows no types: ids may come as
//! strings or numbers, numbers as numeric strings, and missing optional fields take defaults.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Secret;

/// A republish rule's id, as Nimble assigns it (a string; a number is read as its digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RuleId(String);

impl RuleId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as Nimble writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => Ok(Self(s)),
            serde_json::Value::Number(n) => Ok(Self(n.to_string())),
            other => Err(serde::de::Error::custom(format!("a rule id must be a string or a number, not {other}"))),
        }
    }
}

/// How Nimble authenticates to the destination (`auth_schema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthSchema {
    /// No authentication (what Fanout uses: the stream key is the credential).
    #[default]
    None,
    /// Nimble's own scheme.
    Nimble,
    /// Akamai's.
    Akamai,
    /// Limelight's.
    Limelight,
    /// Periscope's.
    Periscope,
    /// A value this crate does not know (read only; never sent).
    #[serde(other)]
    Unknown,
}

/// A republish rule as Nimble lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rule {
    /// Its id.
    pub id: RuleId,
    /// The source application.
    #[serde(default)]
    pub src_app: String,
    /// The source stream (empty: every stream of the application).
    #[serde(default)]
    pub src_stream: String,
    /// The destination host.
    #[serde(default)]
    pub dest_addr: String,
    /// The destination port.
    #[serde(default, deserialize_with = "lenient_u16")]
    pub dest_port: u16,
    /// The destination application.
    #[serde(default)]
    pub dest_app: String,
    /// The destination stream: for Fanout's rules, the stream key.
    #[serde(default)]
    pub dest_stream: Secret,
    /// Parameters appended to the destination application.
    #[serde(default)]
    pub dest_app_params: String,
    /// Parameters appended to the destination stream.
    #[serde(default)]
    pub dest_stream_params: String,
    /// How Nimble authenticates to the destination.
    #[serde(default)]
    pub auth_schema: AuthSchema,
    /// Login for `auth_schema` other than NONE.
    #[serde(default)]
    pub dest_login: String,
    /// Password for `auth_schema` other than NONE.
    #[serde(default)]
    pub dest_password: Secret,
    /// Whether the source stream's parameters are passed on.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub keep_src_stream_params: bool,
    /// Whether the destination is RTMPS.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub ssl: bool,
}

/// A republish rule to create (`POST /manage/rtmp/republish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRule {
    /// The source application.
    pub src_app: String,
    /// The source stream. Always set: an empty one would republish every stream of the app.
    pub src_stream: String,
    /// The destination host.
    pub dest_addr: String,
    /// The destination port.
    pub dest_port: u16,
    /// The destination application.
    pub dest_app: String,
    /// The destination stream (the stream key).
    pub dest_stream: Secret,
    /// Parameters appended to the destination application.
    pub dest_app_params: String,
    /// Parameters appended to the destination stream (Fanout's ownership marker goes here).
    pub dest_stream_params: String,
    /// How Nimble authenticates to the destination.
    pub auth_schema: AuthSchema,
    /// Login for `auth_schema` other than NONE.
    pub dest_login: String,
    /// Password for `auth_schema` other than NONE.
    pub dest_password: Secret,
    /// Whether the source stream's parameters are passed on.
    pub keep_src_stream_params: bool,
    /// Whether the destination is RTMPS.
    pub ssl: bool,
}

/// One entry of `GET /manage/rtmp/republish/stats`.
///
/// The reference excerpt available when this was written does not spell the entry's fields
/// out; these are the names Nimble integrations in the wild read (`id`, `state`, `bandwidth`,
/// `bytes_sent`, `retry_count`, `session_duration`, plus the rule's own fields). Every field is
/// optional and unknown ones are ignored, so a Nimble build that names one differently yields
/// `None`, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct RepublishStat {
    /// The rule's id.
    #[serde(default)]
    pub id: Option<RuleId>,
    /// The source application.
    #[serde(default)]
    pub src_app: Option<String>,
    /// The source stream.
    #[serde(default)]
    pub src_stream: Option<String>,
    /// The destination host.
    #[serde(default)]
    pub dest_addr: Option<String>,
    /// The destination port.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub dest_port: Option<u64>,
    /// The destination application.
    #[serde(default)]
    pub dest_app: Option<String>,
    /// The destination stream (a stream key: kept secret).
    #[serde(default)]
    pub dest_stream: Option<Secret>,
    /// The connection's state, as Nimble words it (a number is read as its digits).
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub state: Option<String>,
    /// Outgoing bandwidth, taken as bits per second.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub bandwidth: Option<u64>,
    /// Bytes sent.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub bytes_sent: Option<u64>,
    /// Reconnection attempts.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub retry_count: Option<u64>,
    /// How long the current session has lasted.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub session_duration: Option<u64>,
}

/// `GET /manage/server_status`: the few fields Fanout reads, and the whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerStatus {
    /// `Connections`: current connections.
    pub connections: Option<u64>,
    /// `OutRate`: outgoing rate, bits per second.
    pub out_rate_bps: Option<u64>,
    /// The answer as Nimble sent it (`SysInfo` and anything else).
    pub raw: serde_json::Value,
}

impl ServerStatus {
    /// Reads the answer's known fields, keeping the rest.
    pub fn from_json(raw: serde_json::Value) -> Self {
        let number = |key: &str| raw.get(key).and_then(json_u64);
        Self { connections: number("Connections"), out_rate_bps: number("OutRate"), raw }
    }
}

/// A JSON number or numeric string as a `u64` (a float is truncated).
fn json_u64(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

fn lenient_opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(deserializer)?.as_ref().and_then(json_u64))
}

fn lenient_u16<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    json_u64(&value)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("a port must be a number from 0 to 65535, not {value}")))
}

fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_u64().is_some_and(|n| n != 0),
        serde_json::Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        _ => false,
    })
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(deserializer)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_reads_the_shape_of_a_real_rules_conf_entry() {
        // The field set of an `RtmpPublishSettings` entry in a real rules.conf (values made up).
        let json = r#"{"id":"5f0f821345475e098cfc88c2","dest_addr":"live.example","dest_port":443,"src_app":"in",
            "dest_app":"rtmp","src_stream":"main","dest_stream":"k-1","dest_app_params":"","dest_stream_params":"",
            "dest_login":"","dest_password":"","ssl":false,"keep_src_stream_params":false,"auth_schema":"NONE"}"#;
        let rule: Rule = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.id.as_str(), "5f0f821345475e098cfc88c2");
        assert_eq!(rule.dest_port, 443);
        assert_eq!(rule.auth_schema, AuthSchema::None);
        assert!(!format!("{rule:?}").contains("k-1"), "the key stays out of Debug");
    }

    #[test]
    fn numbers_may_come_as_strings_and_ids_as_numbers() {
        let json = r#"{"id":42,"dest_port":"1935","ssl":"true","auth_schema":"SOMETHING_NEW"}"#;
        let rule: Rule = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.id.as_str(), "42");
        assert_eq!(rule.dest_port, 1935);
        assert!(rule.ssl);
        assert_eq!(rule.auth_schema, AuthSchema::Unknown);
        let stat: RepublishStat =
            serde_json::from_str(r#"{"id":"7","state":1,"bandwidth":"2500000","bytes_sent":9.0}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stat.state.as_deref(), Some("1"));
        assert_eq!(stat.bandwidth, Some(2_500_000));
        assert_eq!(stat.bytes_sent, Some(9));
    }

    #[test]
    fn server_status_reads_connections_and_out_rate() {
        let status = ServerStatus::from_json(serde_json::json!({"Connections": 3, "OutRate": 2048, "SysInfo": {"Ap": 2}}));
        assert_eq!(status.connections, Some(3));
        assert_eq!(status.out_rate_bps, Some(2048));
    }
}
