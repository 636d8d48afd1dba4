//! What the dashboard's History shows: past lives (title, start, duration, peak destinations,
//! failures) and the event log, a page at a time, filtered by kind or account. Shared by the
//! server (which reads the store) and the browser.

#![allow(missing_docs)] // `#[server]` generates a public argument struct.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How many events one page of the log holds.
pub const EVENTS_PER_PAGE: u32 = 25;

/// One past (or current) live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRow {
    pub video_id: String,
    pub title: String,
    pub url: String,
    /// `detected` … `ended`.
    pub state: String,
    /// When Fanout noticed it (RFC 3339, UTC).
    pub detected_at: String,
    /// How long it was restreamed, in seconds (so far, while it goes on).
    pub duration_secs: Option<u64>,
    pub peak_destinations: u32,
    pub failures: u32,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub kind: String,
    pub account_id: Option<String>,
    pub message: String,
}

/// One page of the log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<EventRow>,
    /// Ask for `before` = this to get the next (older) page.
    pub next_before: Option<i64>,
}

/// The event kinds one can filter by, as their words.
pub fn event_kinds() -> Vec<&'static str> {
    use strum::VariantArray;
    crate::model::EventKind::VARIANTS.iter().map(|k| <&'static str>::from(*k)).collect()
}

/// The most recent lives, newest first (the admin gate refuses this without a session).
#[server(name = ReadLives, prefix = "/api", endpoint = "admin_lives", input = server_fn::codec::GetUrl)]
pub async fn admin_lives() -> Result<Vec<LiveRow>, ServerFnError> {
    crate::admin::require_admin().await?;
    use crate::store::SharedStore;
    let store = crate::context::<SharedStore>()?;
    let lives = store.recent_lives(20).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let now = crate::store::now();
    Ok(lives.into_iter().map(|live| live_row(live, now)).collect())
}

/// A stored live as History (and the JSON API) shows it, its duration counted up to `now`
/// while it goes on.
#[cfg(feature = "ssr")]
pub fn live_row(live: crate::store::Live, now: time::OffsetDateTime) -> LiveRow {
    LiveRow {
        url: format!("https://www.youtube.com/watch?v={}", live.video_id.0),
        state: live.state.to_string(),
        detected_at: crate::store::rfc3339(live.detected_at),
        duration_secs: live.started_at.map(|start| (live.ended_at.unwrap_or(now) - start).whole_seconds().max(0).unsigned_abs()),
        peak_destinations: live.peak_destinations,
        failures: live.failures,
        title: live.title,
        video_id: live.video_id.0,
    }
}

/// One page of the event log (the admin gate refuses this without a session). `kind` and
/// `account` filter; an unknown kind is refused.
#[server(name = ReadEvents, prefix = "/api", endpoint = "admin_events", input = server_fn::codec::GetUrl)]
pub async fn admin_events(before: Option<i64>, kind: Option<String>, account: Option<String>) -> Result<EventsPage, ServerFnError> {
    crate::admin::require_admin().await?;
    use crate::store::{AccountId, EventId, EventQuery, SharedStore};
    let store = crate::context::<SharedStore>()?;
    let kind = match kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(word) => {
            Some(word.parse::<crate::model::EventKind>().map_err(|_| ServerFnError::new(format!("“{word}” is not a kind of event")))?)
        }
        None => None,
    };
    let account_id = account.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).map(AccountId::from_stored);
    let query = EventQuery { before: before.map(EventId), limit: EVENTS_PER_PAGE, kind, account_id };
    events_page(store.as_ref(), &query).await.map_err(|e| ServerFnError::new(e.to_string()))
}

/// One page of the event log as History (and the JSON API) shows it.
#[cfg(feature = "ssr")]
pub async fn events_page(
    store: &dyn crate::store::Store,
    query: &crate::store::EventQuery,
) -> Result<EventsPage, crate::store::StoreError> {
    let page = store.events(query).await?;
    Ok(EventsPage {
        events: page
            .events
            .into_iter()
            .map(|e| EventRow {
                id: e.id.0,
                at: crate::store::rfc3339(e.event.at),
                kind: e.event.kind.to_string(),
                account_id: e.event.account_id.map(|a| a.to_string()),
                message: e.event.message,
            })
            .collect(),
        next_before: page.next_before.map(|id| id.0),
    })
}

/// `2026-11-30T12:31:19Z` → `2026-11-30 12:31` (UTC), for tables.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_can_be_filtered_by() {
        let kinds = event_kinds();
        assert!(kinds.contains(&"admin_action") && kinds.contains(&"destination_failed"));
        assert!(kinds.iter().all(|k| k.parse::<crate::model::EventKind>().is_ok()));
    }

    #[test]
    fn times_read_short() {
        assert_eq!(short_time("2026-11-30T12:31:19.123Z"), "2026-11-30 12:31");
        assert_eq!(short_time("soon"), "soon");
    }
}
