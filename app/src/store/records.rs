//! The records the store keeps: accounts, pending sign-ups, lives and events, with their ids.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::model::{AccountId, ApiTokenId, DirectId, MailChoices, RestreamChannel, VideoId, VolunteerChannels};
use crate::model::{AccountStatus, EventKind, LiveState};
use crate::secrets::Sealed;
use crate::signup::validate::ValidSignup;

/// The current time, cut to whole milliseconds: the precision every backend keeps, so a record
/// reads back equal to what was written.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// A time as RFC 3339 (UTC), as History, reports and the JSON API show it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Milliseconds since the Unix epoch, the form timestamps are stored in.
pub(crate) fn to_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The inverse of [`to_millis`]; `None` for a value out of `time`'s range.
pub(crate) fn from_millis(millis: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
}

/// Restream.io's id for one of its users (the `id` of `/v2/user/profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RestreamUserId(pub i64);

impl fmt::Display for RestreamUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Who the volunteer is on Restream.io.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestreamProfile {
    /// Restream's user id; the key an account is found by when its owner connects again.
    pub user_id: RestreamUserId,
    /// Restream user name.
    pub username: String,
    /// E-mail address on Restream.
    pub email: String,
}

/// An account's Restream tokens, sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedTokens {
    /// The access token, sealed for [`crate::secrets::Purpose::AccessToken`].
    pub access: Sealed,
    /// The refresh token, sealed for [`crate::secrets::Purpose::RefreshToken`].
    pub refresh: Sealed,
    /// When the access token expires.
    pub access_expires_at: OffsetDateTime,
}

/// A volunteer's connected Restream.io account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Fanout's id.
    pub id: AccountId,
    /// The name the volunteer gave (account title).
    pub display_name: String,
    /// The e-mail the volunteer gave.
    pub email: String,
    /// The channel URLs the volunteer gave.
    pub channels: VolunteerChannels,
    /// The Restream user behind it.
    pub restream: RestreamProfile,
    /// Its Restream channels, as last read.
    pub restream_channels: Vec<RestreamChannel>,
    /// The sealed tokens; `None` once disconnected.
    pub tokens: Option<SealedTokens>,
    /// Whether it takes part in lives.
    pub status: AccountStatus,
    /// The generation of its manage links: only links issued for the current one work (a
    /// disconnect, or the volunteer asking for a new link, moves it on).
    pub link_epoch: u32,
    /// The e-mails the volunteer takes, and when Fanout last sent each.
    pub mail: VolunteerMail,
    /// When it was first connected.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A volunteer's e-mails: what they take, and what was last sent (kept so a restart does not
/// send again).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolunteerMail {
    /// What they take.
    pub choices: MailChoices,
    /// When "your Restream connection needs you" was last sent.
    pub needs_you_sent_at: Option<OffsetDateTime>,
    /// The live "we're live" was last sent for.
    pub live_note_for: Option<VideoId>,
}

/// A claim on sending one volunteer e-mail: it holds (and is recorded) only if the volunteer
/// takes that mail and it was not sent within its limit, so two claims never both win.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailClaim {
    /// "Your Restream connection needs you", at `at`, unless one went out within `quiet`.
    NeedsYou {
        /// Now.
        at: OffsetDateTime,
        /// The least time between two.
        quiet: time::Duration,
    },
    /// "We're live" for `video`, unless it was sent for that live already.
    LiveNote {
        /// The live.
        video: VideoId,
    },
}

/// What a (re)connection writes: everything but the id, status and creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpsert {
    /// See [`Account::display_name`].
    pub display_name: String,
    /// See [`Account::email`].
    pub email: String,
    /// See [`Account::channels`].
    pub channels: VolunteerChannels,
    /// See [`Account::restream`].
    pub restream: RestreamProfile,
    /// See [`Account::restream_channels`].
    pub restream_channels: Vec<RestreamChannel>,
    /// The fresh tokens.
    pub tokens: SealedTokens,
}

/// Whether an upsert created the account or updated one already known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    /// A new account.
    Created(Account),
    /// An existing account (same Restream user), updated and made active again.
    Updated(Account),
}

impl Upserted {
    /// The account, either way.
    pub fn account(&self) -> &Account {
        match self {
            Self::Created(account) | Self::Updated(account) => account,
        }
    }
}

/// A sign-up waiting for its OAuth callback, found by its single-use `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignup {
    /// The random OAuth `state` sent to Restream.io.
    pub state: String,
    /// The form as submitted and validated (consent included: a form without it never gets here).
    pub details: ValidSignup,
    /// The sealed PKCE verifier, when the flow uses PKCE.
    pub pkce_verifier: Option<Sealed>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// After this the callback refuses it.
    pub expires_at: OffsetDateTime,
}

/// The result of claiming a pending sign-up by its `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingTake {
    /// Claimed now; no later claim of the same `state` succeeds.
    Taken(Box<PendingSignup>),
    /// No sign-up was ever started with this `state`.
    Unknown,
    /// The sign-up exists but expired before its callback came.
    Expired,
    /// The sign-up was already completed (a replayed callback).
    AlreadyUsed,
}

/// A live of the watched channel, as Fanout saw and handled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// The live's video id.
    pub video_id: VideoId,
    /// The live's title, whole.
    pub title: String,
    /// Where it is in its life.
    pub state: LiveState,
    /// When Fanout noticed it.
    pub detected_at: OffsetDateTime,
    /// When Fanout started streaming it.
    pub started_at: Option<OffsetDateTime>,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
    /// The most destinations streamed to at once.
    pub peak_destinations: u32,
    /// How many times a destination failed (could not be prepared, or lost its connection).
    pub failures: u32,
}

/// A plain RTMP(S) target the admin added, outside Restream: streamed to at every live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDestination {
    /// Its id.
    pub id: DirectId,
    /// What the admin calls it.
    pub label: String,
    /// The server part of the URL, `rtmp[s]://host[:port]/application`, without the key.
    pub server: String,
    /// The stream key, sealed (never shown again after it is saved).
    pub key: Sealed,
    /// Whether lives are streamed to it.
    pub enabled: bool,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub updated_at: OffsetDateTime,
}

/// The SHA-256 of an API token: all the store keeps of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiTokenHash(pub [u8; 32]);

impl fmt::Debug for ApiTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiTokenHash(***)")
    }
}

/// A bearer token of the JSON API, as the store keeps it: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id (shown on the dashboard, named in logs and events).
    pub id: ApiTokenId,
    /// What the admin called it.
    pub name: String,
    /// The SHA-256 of the token.
    pub hash: ApiTokenHash,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was last used (kept to the minute), if ever.
    pub last_used_at: Option<OffsetDateTime>,
}

/// An event's id; larger is newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// What kind of thing happened.
    pub kind: EventKind,
    /// The account it concerns, if any.
    pub account_id: Option<AccountId>,
    /// The live it concerns, if any.
    pub video_id: Option<VideoId>,
    /// What happened, in words.
    pub message: String,
}

impl NewEvent {
    /// An event happening now.
    pub fn now(kind: EventKind, message: impl Into<String>) -> Self {
        Self { at: now(), kind, account_id: None, video_id: None, message: message.into() }
    }

    /// The same event, concerning an account.
    pub fn for_account(mut self, id: &AccountId) -> Self {
        self.account_id = Some(id.clone());
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its id (newer events have larger ids).
    pub id: EventId,
    /// What was recorded (`at` is the first time it happened).
    pub event: NewEvent,
    /// How many times it happened (the same event again soon after is counted, not repeated).
    pub repeats: u32,
    /// When it last happened.
    pub last_at: OffsetDateTime,
}

impl Event {
    /// A newly recorded event, once.
    pub(crate) fn once(id: EventId, event: NewEvent) -> Self {
        Self { id, last_at: event.at, event, repeats: 1 }
    }
}

/// How long events are kept: those older than `max_age`, and all but the newest `max_count`,
/// are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The oldest an event may be.
    pub max_age: time::Duration,
    /// The most events kept.
    pub max_count: u64,
}

/// Where a page of lives goes on: after the live detected at `detected_at` with `video_id`
/// (in the order newest first, then by video id). Shown to API clients as `<millis>.<video id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCursor {
    /// When the last live of the previous page was detected.
    pub detected_at: OffsetDateTime,
    /// Its video.
    pub video_id: VideoId,
}

impl LiveCursor {
    /// The cursor that goes on after `live`.
    pub fn after(live: &Live) -> Self {
        Self { detected_at: live.detected_at, video_id: live.video_id.clone() }
    }

    /// The cursor as text, `<millis>.<video id>`.
    pub fn to_text(&self) -> String {
        format!("{}.{}", to_millis(self.detected_at), self.video_id.0)
    }

    /// A cursor read back from [`LiveCursor::to_text`]'s form; `None` when it is not one.
    pub fn from_text(text: &str) -> Option<Self> {
        let (millis, video) = text.split_once('.')?;
        let detected_at = from_millis(millis.parse().ok()?)?;
        (!video.is_empty() && video.len() <= 64 && video.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| Self { detected_at, video_id: VideoId(video.to_string()) })
    }
}

/// Which events to list: newest first, older than `before`, optionally filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events older than this one (the previous page's `next_before`).
    pub before: Option<EventId>,
    /// Page size (at least 1, at most [`EventQuery::MAX_LIMIT`]).
    pub limit: u32,
    /// Only events of this kind.
    pub kind: Option<EventKind>,
    /// Only events about this account.
    pub account_id: Option<AccountId>,
}

impl EventQuery {
    /// The largest page served.
    pub const MAX_LIMIT: u32 = 500;

    /// The newest `limit` events of every kind.
    pub fn newest(limit: u32) -> Self {
        Self { before: None, limit, kind: None, account_id: None }
    }

    /// The page size actually served.
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events.
    pub events: Vec<Event>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<EventId>,
}

impl EventPage {
    /// Builds a page from up to `limit + 1` events fetched newest first.
    pub(crate) fn from_fetched(mut events: Vec<Event>, limit: u32) -> Self {
        let limit = limit as usize;
        let more = events.len() > limit;
        events.truncate(limit);
        let next_before = if more { events.last().map(|e| e.id) } else { None };
        Self { events, next_before }
    }
}

/// One moment of a live, as its report charts it: the engine's status sampled every few
/// seconds (the recorder says how often), at most a bounded number per live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSample {
    /// When it was taken.
    pub at: OffsetDateTime,
    /// Destinations streaming then.
    pub streaming: u32,
    /// Destinations the live had then (streaming or not, held ones too).
    pub destinations: u32,
    /// Everything sent to the destinations then, bits per second.
    pub egress_bps: u64,
    /// Reconnects of any destination since the previous sample.
    pub reconnects: u32,
    /// Whether the slate went out (no source sent) at any time since the previous sample.
    pub slate: bool,
    /// Whether the live had no input (waiting for it at the start, or lost: its grace) at any
    /// time since the previous sample.
    pub grace: bool,
}

/// How one destination fared over a live, for the report's "worst destinations". Recorded as
/// increments ([`crate::store::Store::add_destination_tallies`]), so a restart in the middle
/// of a live adds to what was there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationTally {
    /// Which destination.
    pub id: crate::model::DestinationId,
    /// Its name on the dashboard (the volunteer's, or the direct destination's label).
    pub name: String,
    /// Seconds it was meant to stream but did not (connecting, retrying, failed, needing a
    /// reconnect) while the live streamed (its input flowing).
    pub down_secs: u32,
    /// How many times it reconnected.
    pub reconnects: u32,
    /// Its lowest bitrate at a sample while it had been streaming since the sample before
    /// (`None` until it streamed that long).
    pub lowest_bps: Option<u64>,
}

impl DestinationTally {
    /// Adds `more` (a later increment of the same destination) to this one.
    pub fn add(&mut self, more: &DestinationTally) {
        self.name.clone_from(&more.name);
        self.down_secs = self.down_secs.saturating_add(more.down_secs);
        self.reconnects = self.reconnects.saturating_add(more.reconnects);
        self.lowest_bps = match (self.lowest_bps, more.lowest_bps) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}
