//! Which republish rules are Fanout's: a marker in the rule's `dest_stream_params`.
//!
//! Nimble's republish rules have no free-form label (the reference lists only the routing
//! fields, the destination's app/stream parameters and its credentials), so the marker has to
//! ride in a field Nimble stores and lists back. Fanout writes `fanout=<destination id>` (the id
//! percent-encoded) into `dest_stream_params`:
//!
//! - it is stored and listed with the rule, so after a crash or restart Fanout recognises its
//!   own rules from Nimble's answer alone — no local id list to lose or to get out of date;
//! - it names the destination, so a rule maps back to the account it serves (status, and
//!   replacing a rule whose key or address changed);
//! - rules without the marker (made by people, WMSPanel or other tools) are never touched.
//!
//! The cost: Nimble appends these parameters to the stream name it publishes
//! (`<key>?fanout=<id>`). RTMP ingests commonly accept query parameters after the stream key
//! (nginx-rtmp splits them off as arguments; platforms take `?bandwidthtest=…`-style flags), and
//! the destination id is not a secret. Whether a given platform accepts it is part of the manual
//! check on a real Nimble (see the README). A marker found in `dest_app_params` (where an older
//! or hand-made rule might carry it) is recognised too.

use crate::model::Rule;

/// The parameter name of the marker.
pub const MARKER_KEY: &str = "fanout";

/// `fanout=<destination id>`, the id percent-encoded.
pub fn marker(destination_id: &str) -> String {
    format!("{MARKER_KEY}={}", url::form_urlencoded::byte_serialize(destination_id.as_bytes()).collect::<String>())
}

/// The destination id a parameter string (`a=b&fanout=x`, with or without a leading `?`) marks.
pub fn marked_id(params: &str) -> Option<String> {
    let params = params.trim().trim_start_matches('?');
    url::form_urlencoded::parse(params.as_bytes())
        .find(|(key, _)| key == MARKER_KEY)
        .map(|(_, value)| value.into_owned())
        .filter(|id| !id.is_empty())
}

/// The destination id of a rule Fanout owns, or `None` for a rule it does not.
pub fn owner_of(rule: &Rule) -> Option<String> {
    marked_id(&rule.dest_stream_params).or_else(|| marked_id(&rule.dest_app_params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_any_id() {
        for id in ["acc-1", "42", "a b&c=d/é", "fanout=1"] {
            assert_eq!(marked_id(&marker(id)).as_deref(), Some(id), "{id}");
        }
    }

    #[test]
    fn the_marker_is_found_among_other_parameters() {
        assert_eq!(marked_id("?token=x&fanout=acc-7&z=1").as_deref(), Some("acc-7"));
        assert_eq!(marked_id("token=x"), None);
        assert_eq!(marked_id(""), None);
        assert_eq!(marked_id("fanout="), None, "an empty id marks nothing");
        assert_eq!(marked_id("notfanout=acc"), None);
    }
}
