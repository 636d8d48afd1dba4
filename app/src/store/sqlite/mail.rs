//! The volunteers' e-mail columns of `accounts` (migration 0007): what each volunteer takes and
//! when Fanout last sent each message, claimed in one conditional `UPDATE` so two claims never
//! both win.

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use time::OffsetDateTime;

use super::super::records::to_millis;
use super::{StoreError, optional_time_at};
use crate::model::{AccountId, MailChoices, VideoId};
use crate::store::{MailClaim, VolunteerMail};

/// The mail part of an account row.
pub(super) fn mail_from(row: &SqliteRow) -> Result<VolunteerMail, StoreError> {
    let needs_you: i64 = row.try_get("mail_needs_you")?;
    let live_notes: i64 = row.try_get("mail_live_notes")?;
    let live_note_for: Option<String> = row.try_get("mail_live_note_for")?;
    Ok(VolunteerMail {
        choices: MailChoices { needs_you: needs_you != 0, live_notes: live_notes != 0 },
        needs_you_sent_at: optional_time_at(row, "mail_needs_you_at")?,
        live_note_for: live_note_for.map(VideoId),
    })
}

pub(super) async fn set_choices(pool: &SqlitePool, id: &AccountId, choices: MailChoices, now: OffsetDateTime) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE accounts SET mail_needs_you = ?, mail_live_notes = ?, updated_at = ? WHERE id = ?")
        .bind(choices.needs_you)
        .bind(choices.live_notes)
        .bind(to_millis(now))
        .bind(id.as_str())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn claim(pool: &SqlitePool, id: &AccountId, claim: MailClaim) -> Result<bool, StoreError> {
    let done = match claim {
        MailClaim::NeedsYou { at, quiet } => {
            sqlx::query(
                "UPDATE accounts SET mail_needs_you_at = ? WHERE id = ? AND mail_needs_you = 1 \
                 AND (mail_needs_you_at IS NULL OR mail_needs_you_at <= ?)",
            )
            .bind(to_millis(at))
            .bind(id.as_str())
            .bind(to_millis(at - quiet))
            .execute(pool)
            .await?
        }
        MailClaim::LiveNote { video } => {
            sqlx::query(
                "UPDATE accounts SET mail_live_note_for = ? WHERE id = ? AND mail_live_notes = 1 \
                 AND (mail_live_note_for IS NULL OR mail_live_note_for <> ?)",
            )
            .bind(video.0.as_str())
            .bind(id.as_str())
            .bind(video.0.as_str())
            .execute(pool)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}
