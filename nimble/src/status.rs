//! Nimble's republish statistics as per-destination status (state, bytes, bitrate, reconnects,
//! last error), keyed by Fanout's destination id — the same facts the built-in relay reports,
//! so the server maps this onto its own `DestinationStatus` and the dashboard and `/metrics`
//! do not care which backend runs.
//!
//! A stats entry is joined to its rule by `id`; an entry without one is matched on the rule's
//! routing fields (source, host, port, app, stream). An owned rule with no entry is
//! `Connecting` (Nimble lists connections, not rules: nothing is flowing yet). The entry's
//! `state` word is read generously, since the reference excerpt at hand does not enumerate it.

use std::collections::BTreeMap;

use crate::model::{RepublishStat, Rule};
use crate::ownership::owner_of;
use crate::sync::DestinationId;

/// Where a destination's republish is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepublishState {
    /// Connecting (or waiting for the source): nothing sent yet.
    Connecting,
    /// Media is flowing to the destination.
    Streaming,
    /// The connection was lost or refused; Nimble tries again.
    Retrying,
}

/// One destination's status, as Nimble reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepublishStatus {
    /// Its state.
    pub state: RepublishState,
    /// Bytes sent (Nimble's count for the current rule).
    pub bytes_sent: u64,
    /// Outgoing bits per second.
    pub bitrate_bps: u64,
    /// Reconnection attempts.
    pub reconnects: u32,
    /// The last error, in words (never holding the stream key).
    pub last_error: Option<String>,
}

impl RepublishStatus {
    /// A rule with no statistics yet.
    pub fn connecting() -> Self {
        Self { state: RepublishState::Connecting, bytes_sent: 0, bitrate_bps: 0, reconnects: 0, last_error: None }
    }
}

/// Every owned rule's status, keyed by destination id (foreign rules are left out).
pub fn statuses(rules: &[Rule], stats: &[RepublishStat]) -> BTreeMap<DestinationId, RepublishStatus> {
    rules
        .iter()
        .filter_map(|rule| {
            let owner = owner_of(rule)?;
            let status = stats.iter().find(|stat| describes(stat, rule)).map(status_of).unwrap_or_else(RepublishStatus::connecting);
            Some((owner, status))
        })
        .collect()
}

/// Whether `stat` is about `rule`.
fn describes(stat: &RepublishStat, rule: &Rule) -> bool {
    match &stat.id {
        Some(id) => *id == rule.id,
        None => {
            stat.src_app.as_deref() == Some(rule.src_app.as_str())
                && stat.src_stream.as_deref() == Some(rule.src_stream.as_str())
                && stat.dest_addr.as_deref() == Some(rule.dest_addr.as_str())
                && stat.dest_port == Some(u64::from(rule.dest_port))
                && stat.dest_app.as_deref() == Some(rule.dest_app.as_str())
                && stat.dest_stream.as_ref() == Some(&rule.dest_stream)
        }
    }
}

/// One entry as a status.
pub fn status_of(stat: &RepublishStat) -> RepublishStatus {
    let bytes_sent = stat.bytes_sent.unwrap_or(0);
    let bitrate_bps = stat.bandwidth.unwrap_or(0);
    let reconnects = u32::try_from(stat.retry_count.unwrap_or(0)).unwrap_or(u32::MAX);
    let state = match stat.state.as_deref().map(word) {
        Some(Word::Up) => RepublishState::Streaming,
        Some(Word::Starting) => RepublishState::Connecting,
        Some(Word::Down) => RepublishState::Retrying,
        Some(Word::Unknown) | None if bitrate_bps > 0 => RepublishState::Streaming,
        Some(Word::Unknown) | None if reconnects > 0 => RepublishState::Retrying,
        Some(Word::Unknown) | None => RepublishState::Connecting,
    };
    let last_error = match (state, stat.state.as_deref()) {
        (RepublishState::Retrying, Some(said)) => Some(format!("Nimble reports the connection as {:?}", clip(said))),
        (RepublishState::Retrying, None) => Some("Nimble is reconnecting to the destination".to_string()),
        _ => None,
    };
    RepublishStatus { state, bytes_sent, bitrate_bps, reconnects, last_error }
}

/// What a `state` word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Up,
    Starting,
    Down,
    Unknown,
}

fn word(state: &str) -> Word {
    let state = state.trim().to_ascii_lowercase();
    match state.as_str() {
        "1" | "true" | "connected" | "online" | "active" | "streaming" | "publishing" | "running" | "ok" | "up" => Word::Up,
        "connecting" | "init" | "initializing" | "starting" | "pending" | "handshake" | "waiting" => Word::Starting,
        "0" | "false" | "disconnected" | "reconnecting" | "offline" | "error" | "failed" | "retrying" | "down" | "stopped" => Word::Down,
        _ => Word::Unknown,
    }
}

/// At most 60 characters of something Nimble said.
fn clip(words: &str) -> String {
    words.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::model::RuleId;

    fn rule(id: &str, params: &str) -> Rule {
        Rule {
            id: RuleId::new(id),
            src_app: "fanout".into(),
            src_stream: "live".into(),
            dest_addr: "ingest.example".into(),
            dest_port: 1935,
            dest_app: "live".into(),
            dest_stream: Secret::new(format!("key-{id}")),
            dest_app_params: String::new(),
            dest_stream_params: params.into(),
            auth_schema: Default::default(),
            dest_login: String::new(),
            dest_password: Secret::default(),
            keep_src_stream_params: false,
            ssl: false,
        }
    }

    fn stat(id: &str, state: &str, bandwidth: u64, bytes: u64, retries: u64) -> RepublishStat {
        RepublishStat {
            id: Some(RuleId::new(id)),
            state: Some(state.into()),
            bandwidth: Some(bandwidth),
            bytes_sent: Some(bytes),
            retry_count: Some(retries),
            ..RepublishStat::default()
        }
    }

    #[test]
    fn stats_become_status_by_destination_id() {
        let rules = [rule("r1", "fanout=acc-1"), rule("r2", "fanout=acc-2"), rule("r3", "fanout=acc-3"), rule("x", "")];
        let stats =
            [stat("r1", "connected", 2_500_000, 9_000_000, 0), stat("r2", "reconnecting", 0, 1_000, 3), stat("x", "connected", 1, 1, 0)];
        let by_id = statuses(&rules, &stats);
        assert_eq!(by_id.len(), 3, "the foreign rule is left out: {by_id:?}");
        let streaming = &by_id["acc-1"];
        assert_eq!((streaming.state, streaming.bitrate_bps, streaming.bytes_sent), (RepublishState::Streaming, 2_500_000, 9_000_000));
        let retrying = &by_id["acc-2"];
        assert_eq!((retrying.state, retrying.reconnects), (RepublishState::Retrying, 3));
        assert!(retrying.last_error.as_deref().is_some_and(|e| e.contains("reconnecting")));
        assert_eq!(by_id["acc-3"], RepublishStatus::connecting(), "no entry yet");
    }

    #[test]
    fn an_entry_without_id_is_matched_on_its_route() {
        let rules = [rule("r1", "fanout=acc-1")];
        let entry = RepublishStat {
            src_app: Some("fanout".into()),
            src_stream: Some("live".into()),
            dest_addr: Some("ingest.example".into()),
            dest_port: Some(1935),
            dest_app: Some("live".into()),
            dest_stream: Some(Secret::new("key-r1")),
            state: Some("1".into()),
            ..RepublishStat::default()
        };
        assert_eq!(statuses(&rules, &[entry])["acc-1"].state, RepublishState::Streaming);
    }

    #[test]
    fn unknown_state_words_fall_back_on_the_numbers() {
        assert_eq!(status_of(&stat("r", "weird", 10, 0, 0)).state, RepublishState::Streaming);
        assert_eq!(status_of(&stat("r", "weird", 0, 0, 2)).state, RepublishState::Retrying);
        assert_eq!(status_of(&stat("r", "weird", 0, 0, 0)).state, RepublishState::Connecting);
        assert_eq!(status_of(&RepublishStat::default()).state, RepublishState::Connecting);
    }
}
