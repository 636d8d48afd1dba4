//! Reading the SQLite store's rows back into the store's records, each column checked.

use std::str::FromStr;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::super::records::from_millis;
use super::super::*;
use crate::model::{EventKind, LiveState};

pub(super) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

pub(super) fn time_at(row: &SqliteRow, column: &str) -> Result<OffsetDateTime, StoreError> {
    let millis: i64 = row.try_get(column)?;
    from_millis(millis).ok_or_else(|| corrupt(column, millis))
}

pub(super) fn optional_time_at(row: &SqliteRow, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    let millis: Option<i64> = row.try_get(column)?;
    millis.map(|m| from_millis(m).ok_or_else(|| corrupt(column, m))).transpose()
}

pub(super) fn word<T: FromStr>(row: &SqliteRow, column: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| corrupt(column, e))
}

pub(super) fn json<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("serialising", e))
}

pub(super) fn account_from(row: &SqliteRow) -> Result<Account, StoreError> {
    let access: Option<Vec<u8>> = row.try_get("access_token")?;
    let refresh: Option<Vec<u8>> = row.try_get("refresh_token")?;
    let expires = optional_time_at(row, "access_expires_at")?;
    let tokens = match (access, refresh, expires) {
        (Some(access), Some(refresh), Some(access_expires_at)) => {
            Some(SealedTokens { access: Sealed::from_bytes(access), refresh: Sealed::from_bytes(refresh), access_expires_at })
        }
        (None, None, _) => None,
        _ => return Err(corrupt("account tokens", "only part of the token pair is stored")),
    };
    Ok(Account {
        id: AccountId::from_stored(row.try_get::<String, _>("id")?),
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        channels: json(row, "channels")?,
        restream: RestreamProfile {
            user_id: RestreamUserId(row.try_get("restream_user_id")?),
            username: row.try_get("restream_username")?,
            email: row.try_get("restream_email")?,
        },
        restream_channels: json(row, "restream_channels")?,
        tokens,
        status: word(row, "status")?,
        link_epoch: count(row, "link_epoch")?,
        mail: super::mail::mail_from(row)?,
        created_at: time_at(row, "created_at")?,
        updated_at: time_at(row, "updated_at")?,
    })
}

pub(super) fn pending_from(row: &SqliteRow) -> Result<PendingSignup, StoreError> {
    let verifier: Option<Vec<u8>> = row.try_get("pkce_verifier")?;
    Ok(PendingSignup {
        state: row.try_get("state")?,
        details: json(row, "details")?,
        pkce_verifier: verifier.map(Sealed::from_bytes),
        created_at: time_at(row, "created_at")?,
        expires_at: time_at(row, "expires_at")?,
    })
}

pub(super) fn live_from(row: &SqliteRow) -> Result<Live, StoreError> {
    Ok(Live {
        video_id: VideoId(row.try_get("video_id")?),
        title: row.try_get("title")?,
        state: word::<LiveState>(row, "state")?,
        detected_at: time_at(row, "detected_at")?,
        started_at: optional_time_at(row, "started_at")?,
        ended_at: optional_time_at(row, "ended_at")?,
        peak_destinations: count(row, "peak_destinations")?,
        failures: count(row, "failures")?,
    })
}

pub(super) fn count(row: &SqliteRow, column: &str) -> Result<u32, StoreError> {
    let value: i64 = row.try_get(column)?;
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} is {value}")))
}

pub(super) fn direct_from(row: &SqliteRow) -> Result<DirectDestination, StoreError> {
    Ok(DirectDestination {
        id: DirectId::from_stored(row.try_get::<String, _>("id")?),
        label: row.try_get("label")?,
        server: row.try_get("server")?,
        key: Sealed::from_bytes(row.try_get::<Vec<u8>, _>("stream_key")?),
        enabled: row.try_get("enabled")?,
        created_at: time_at(row, "created_at")?,
        updated_at: time_at(row, "updated_at")?,
    })
}

pub(super) fn event_from(row: &SqliteRow) -> Result<Event, StoreError> {
    let account: Option<String> = row.try_get("account_id")?;
    let video: Option<String> = row.try_get("video_id")?;
    let at = time_at(row, "at")?;
    Ok(Event {
        id: EventId(row.try_get("id")?),
        repeats: count(row, "repeats")?,
        last_at: optional_time_at(row, "last_at")?.unwrap_or(at),
        event: NewEvent {
            at,
            kind: word::<EventKind>(row, "kind")?,
            account_id: account.map(AccountId::from_stored),
            video_id: video.map(VideoId),
            message: row.try_get("message")?,
        },
    })
}
