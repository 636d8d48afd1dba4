//! The documents the MongoDB store keeps, and their conversions to and from the store's records.

use mongodb::bson::{self, Binary, Bson, DateTime as BsonDateTime, spec::BinarySubtype};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::super::records::{from_millis, to_millis};
use super::super::*;
use crate::model::{EventKind, LiveState};
use crate::signup::validate::ValidSignup;

pub(super) fn date(at: OffsetDateTime) -> BsonDateTime {
    BsonDateTime::from_millis(to_millis(at))
}

pub(super) fn undate(at: BsonDateTime, what: &str) -> Result<OffsetDateTime, StoreError> {
    from_millis(at.timestamp_millis()).ok_or_else(|| StoreError::Corrupt(format!("{what}: {at}")))
}

pub(super) fn binary(sealed: &Sealed) -> Binary {
    Binary { subtype: BinarySubtype::Generic, bytes: sealed.as_bytes().to_vec() }
}

pub(super) fn to_bson<T: Serialize>(value: &T) -> Result<Bson, StoreError> {
    bson::to_bson(value).map_err(|e| StoreError::Corrupt(format!("serialising: {e}")))
}

pub(super) fn parse_word<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct TokensDoc {
    pub(super) access: Binary,
    pub(super) refresh: Binary,
    pub(super) access_expires_at: BsonDateTime,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RestreamDoc {
    pub(super) user_id: i64,
    pub(super) username: String,
    pub(super) email: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AccountDoc {
    #[serde(rename = "_id")]
    pub(super) id: String,
    pub(super) display_name: String,
    pub(super) email: String,
    pub(super) channels: VolunteerChannels,
    pub(super) restream: RestreamDoc,
    #[serde(default)]
    pub(super) restream_channels: Vec<RestreamChannel>,
    pub(super) tokens: Option<TokensDoc>,
    pub(super) status: String,
    #[serde(default)]
    pub(super) link_epoch: u32,
    /// Absent from documents written before volunteers were mailed: the defaults.
    #[serde(default)]
    pub(super) mail: MailDoc,
    pub(super) created_at: BsonDateTime,
    pub(super) updated_at: BsonDateTime,
}

fn yes() -> bool {
    true
}

/// An account's `mail`: what the volunteer takes, and what was last sent.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MailDoc {
    #[serde(default = "yes")]
    pub(super) needs_you: bool,
    #[serde(default)]
    pub(super) live_notes: bool,
    #[serde(default)]
    pub(super) needs_you_at: Option<BsonDateTime>,
    #[serde(default)]
    pub(super) live_note_for: Option<String>,
}

impl Default for MailDoc {
    fn default() -> Self {
        Self { needs_you: true, live_notes: false, needs_you_at: None, live_note_for: None }
    }
}

impl TryFrom<MailDoc> for VolunteerMail {
    type Error = StoreError;
    fn try_from(doc: MailDoc) -> Result<Self, StoreError> {
        Ok(VolunteerMail {
            choices: MailChoices { needs_you: doc.needs_you, live_notes: doc.live_notes },
            needs_you_sent_at: doc.needs_you_at.map(|at| undate(at, "mail.needs_you_at")).transpose()?,
            live_note_for: doc.live_note_for.map(VideoId),
        })
    }
}

pub(super) fn tokens_doc(tokens: &SealedTokens) -> TokensDoc {
    TokensDoc { access: binary(&tokens.access), refresh: binary(&tokens.refresh), access_expires_at: date(tokens.access_expires_at) }
}

impl TryFrom<AccountDoc> for Account {
    type Error = StoreError;
    fn try_from(doc: AccountDoc) -> Result<Self, StoreError> {
        let tokens = doc
            .tokens
            .map(|t| {
                Ok::<_, StoreError>(SealedTokens {
                    access: Sealed::from_bytes(t.access.bytes),
                    refresh: Sealed::from_bytes(t.refresh.bytes),
                    access_expires_at: undate(t.access_expires_at, "access_expires_at")?,
                })
            })
            .transpose()?;
        Ok(Account {
            id: AccountId::from_stored(doc.id),
            display_name: doc.display_name,
            email: doc.email,
            channels: doc.channels,
            restream: RestreamProfile {
                user_id: RestreamUserId(doc.restream.user_id),
                username: doc.restream.username,
                email: doc.restream.email,
            },
            restream_channels: doc.restream_channels,
            tokens,
            status: parse_word(&doc.status, "status")?,
            link_epoch: doc.link_epoch,
            mail: VolunteerMail::try_from(doc.mail)?,
            created_at: undate(doc.created_at, "created_at")?,
            updated_at: undate(doc.updated_at, "updated_at")?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PendingDoc {
    #[serde(rename = "_id")]
    pub(super) state: String,
    pub(super) details: ValidSignup,
    pub(super) pkce_verifier: Option<Binary>,
    pub(super) created_at: BsonDateTime,
    pub(super) expires_at: BsonDateTime,
    pub(super) consumed_at: Option<BsonDateTime>,
}

impl TryFrom<PendingDoc> for PendingSignup {
    type Error = StoreError;
    fn try_from(doc: PendingDoc) -> Result<Self, StoreError> {
        Ok(PendingSignup {
            state: doc.state,
            details: doc.details,
            pkce_verifier: doc.pkce_verifier.map(|b| Sealed::from_bytes(b.bytes)),
            created_at: undate(doc.created_at, "created_at")?,
            expires_at: undate(doc.expires_at, "expires_at")?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LiveDoc {
    #[serde(rename = "_id")]
    pub(super) video_id: String,
    pub(super) title: String,
    pub(super) state: String,
    pub(super) detected_at: BsonDateTime,
    pub(super) started_at: Option<BsonDateTime>,
    pub(super) ended_at: Option<BsonDateTime>,
    #[serde(default)]
    pub(super) peak_destinations: u32,
    #[serde(default)]
    pub(super) failures: u32,
}

impl TryFrom<LiveDoc> for Live {
    type Error = StoreError;
    fn try_from(doc: LiveDoc) -> Result<Self, StoreError> {
        Ok(Live {
            video_id: VideoId(doc.video_id),
            title: doc.title,
            state: parse_word::<LiveState>(&doc.state, "state")?,
            detected_at: undate(doc.detected_at, "detected_at")?,
            started_at: doc.started_at.map(|t| undate(t, "started_at")).transpose()?,
            ended_at: doc.ended_at.map(|t| undate(t, "ended_at")).transpose()?,
            peak_destinations: doc.peak_destinations,
            failures: doc.failures,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct EventDoc {
    #[serde(rename = "_id")]
    pub(super) id: i64,
    pub(super) at: BsonDateTime,
    pub(super) kind: String,
    pub(super) account_id: Option<String>,
    pub(super) video_id: Option<String>,
    pub(super) message: String,
    #[serde(default = "once")]
    pub(super) repeats: u32,
    #[serde(default)]
    pub(super) last_at: Option<BsonDateTime>,
}

fn once() -> u32 {
    1
}

impl EventDoc {
    /// A new event's document.
    pub(super) fn new(id: i64, event: &NewEvent) -> Self {
        Self {
            id,
            at: date(event.at),
            kind: event.kind.to_string(),
            account_id: event.account_id.as_ref().map(|a| a.as_str().to_string()),
            video_id: event.video_id.as_ref().map(|v| v.0.clone()),
            message: event.message.clone(),
            repeats: 1,
            last_at: None,
        }
    }
}

impl TryFrom<EventDoc> for Event {
    type Error = StoreError;
    fn try_from(doc: EventDoc) -> Result<Self, StoreError> {
        let at = undate(doc.at, "at")?;
        Ok(Event {
            id: EventId(doc.id),
            repeats: doc.repeats,
            last_at: doc.last_at.map(|t| undate(t, "last_at")).transpose()?.unwrap_or(at),
            event: NewEvent {
                at,
                kind: parse_word::<EventKind>(&doc.kind, "kind")?,
                account_id: doc.account_id.map(AccountId::from_stored),
                video_id: doc.video_id.map(VideoId),
                message: doc.message,
            },
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct DirectDoc {
    #[serde(rename = "_id")]
    pub(super) id: String,
    pub(super) label: String,
    pub(super) server: String,
    pub(super) stream_key: Binary,
    pub(super) enabled: bool,
    pub(super) created_at: BsonDateTime,
    pub(super) updated_at: BsonDateTime,
}

impl From<&DirectDestination> for DirectDoc {
    fn from(d: &DirectDestination) -> Self {
        Self {
            id: d.id.as_str().to_string(),
            label: d.label.clone(),
            server: d.server.clone(),
            stream_key: binary(&d.key),
            enabled: d.enabled,
            created_at: date(d.created_at),
            updated_at: date(d.updated_at),
        }
    }
}

impl TryFrom<DirectDoc> for DirectDestination {
    type Error = StoreError;
    fn try_from(doc: DirectDoc) -> Result<Self, StoreError> {
        Ok(DirectDestination {
            id: DirectId::from_stored(doc.id),
            label: doc.label,
            server: doc.server,
            key: Sealed::from_bytes(doc.stream_key.bytes),
            enabled: doc.enabled,
            created_at: undate(doc.created_at, "created_at")?,
            updated_at: undate(doc.updated_at, "updated_at")?,
        })
    }
}
