//! Lives and events, paged: the History's own queries (`app::history::live_row`,
//! `app::history::events_page`) answered as JSON.

use app::store::{AccountId, EventId, EventQuery, LiveCursor};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::error::ApiError;
use super::types::{ErrorBody, EventRecord, EventsPage, EventsQuery, LiveRecord, LivesPage, LivesQuery};
use crate::state::AppState;

/// The most a page holds.
const MAX_PAGE: u32 = 100;

/// A page of the lives, newest first; `before` pages on.
#[utoipa::path(get, path = "/api/v1/lives", tag = "history", security(("bearer" = [])), params(LivesQuery),
    responses((status = 200, body = LivesPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn lives(
    State(state): State<AppState>,
    query: Result<Query<LivesQuery>, QueryRejection>,
) -> Result<Json<LivesPage>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let before = match query.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(text) => Some(LiveCursor::from_text(text).ok_or_else(|| ApiError::Invalid("“before” is not a page of lives".into()))?),
        None => None,
    };
    // One more than the page, to know whether another follows.
    let mut lives = state.store.lives_before(before.as_ref(), limit.saturating_add(1)).await.map_err(|error| {
        tracing::error!(%error, "cannot read the lives for the API");
        ApiError::Store
    })?;
    let more = lives.len() > limit as usize;
    lives.truncate(limit as usize);
    let next_before = if more { lives.last().map(|l| LiveCursor::after(l).to_text()) } else { None };
    let now = app::store::now();
    let lives = lives
        .into_iter()
        .map(|live| app::history::live_row(live, now))
        .map(|l| LiveRecord {
            video_id: l.video_id,
            title: l.title,
            url: l.url,
            state: l.state,
            detected_at: l.detected_at,
            duration_secs: l.duration_secs,
            peak_destinations: l.peak_destinations,
            failures: l.failures,
        })
        .collect();
    Ok(Json(LivesPage { lives, next_before }))
}

/// A page of the event log, newest first; `before` pages on.
#[utoipa::path(get, path = "/api/v1/events", tag = "history", security(("bearer" = [])), params(EventsQuery),
    responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn events(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventsPage>, ApiError> {
    let Query(query) = query?;
    let kind = match query.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(word) => {
            Some(word.parse::<app::model::EventKind>().map_err(|_| ApiError::Invalid(format!("“{word}” is not a kind of event")))?)
        }
        None => None,
    };
    let account_id = query.account.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).map(AccountId::from_stored);
    let limit = query.limit.unwrap_or(app::history::EVENTS_PER_PAGE).clamp(1, MAX_PAGE);
    let store_query = EventQuery { before: query.before.map(EventId), limit, kind, account_id };
    let page = app::history::events_page(state.store.as_ref(), &store_query).await.map_err(|error| {
        tracing::error!(%error, "cannot read the events for the API");
        ApiError::Store
    })?;
    Ok(Json(EventsPage {
        events: page
            .events
            .into_iter()
            .map(|e| EventRecord { id: e.id, at: e.at, kind: e.kind, account_id: e.account_id, message: e.message })
            .collect(),
        next_before: page.next_before,
    }))
}
