//! What the engine says about itself — shared by the server (the engine publishes it, `/metrics`
//! reads it) and the browser (the dashboard renders it and receives it again on every change):
//! the source, the live, the ingest and every destination, and the counts by state at the top;
//! the dashboard adds the capacity plan.

#![allow(missing_docs)] // `#[server]` generates a public argument struct.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use strum::VariantArray;

use crate::model::{DestinationId, DestinationKind, DestinationState, IngestState, LiveState};

/// The engine's (and the dashboard's) whole state at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardStatus {
    /// The watched channel, when configured.
    pub watching: Option<String>,
    /// The title of the live the channel shows now, whether it is restreamed or not.
    pub on_air: Option<String>,
    /// What the last look at the channel found (or why it could not).
    pub detection: Option<String>,
    /// What stands between Fanout and the channel's page or live (a bot wall, a consent page,
    /// a members-only live…), as the last look found it.
    pub source_problem: Option<crate::model::SourceProblemNote>,
    /// What stands between the ingest and the live's stream (yt-dlp's refusal), while it does.
    pub ingest_problem: Option<crate::model::SourceProblemNote>,
    /// The live now, if any.
    pub live: Option<LiveSummary>,
    /// Whether the ingest is publishing into the relay, at what bitrate, and what it has sent.
    pub input_publishing: bool,
    pub input_bps: u64,
    pub input_bytes: u64,
    /// Whether the media going out is the broadcaster's pushed stream (not the pull).
    pub input_pushed: bool,
    /// Whether the destinations get the slate now (no source sends).
    pub input_slate: bool,
    /// What the pre-flight checks say of the source (each with what to do).
    pub source_warnings: Vec<String>,
    /// The ingest's state, last error and restarts.
    pub ingest_state: Option<IngestState>,
    pub ingest_error: Option<String>,
    pub ingest_restarts: u32,
    /// One row per destination.
    pub destinations: Vec<DestinationRow>,
    /// The capacity planner's verdict, when the port's capacity is configured.
    pub capacity: Option<crate::capacity::Capacity>,
}

/// The live being restreamed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSummary {
    /// Which live it is (the key its report is stored under).
    #[serde(default)]
    pub video_id: crate::model::VideoId,
    pub title: String,
    pub url: String,
    pub thumbnail_url: Option<String>,
    pub phase: LiveState,
    /// For how long, in seconds.
    pub phase_secs: u64,
}

/// One destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationRow {
    pub id: DestinationId,
    pub name: String,
    pub kind: DestinationKind,
    /// The Restream channels behind it.
    pub channels: Vec<String>,
    /// What became of its titles.
    pub titles: Option<String>,
    pub state: DestinationState,
    pub bitrate_bps: u64,
    pub bytes_sent: u64,
    pub reconnects: u32,
    /// Keyframe skips because it fell behind.
    pub skips: u32,
    pub last_error: Option<String>,
    /// What Restream says it receives (an account's destination during a live; `None` for a
    /// direct destination, or while Fanout has not heard from Restream).
    #[serde(default)]
    pub received: Option<crate::received::ReceivedHealth>,
    /// What is wrong judged from both sides (e.g. sent but not received).
    #[serde(default)]
    pub flag: Option<crate::received::HealthFlag>,
}

impl DestinationRow {
    /// Whether the relay is (or is trying to be) sending to it.
    pub fn is_sending(&self) -> bool {
        self.state.is_sending()
    }
}

impl DashboardStatus {
    /// How many destinations are in each state, in the order of [`DestinationState`], leaving
    /// out empty states: e.g. `[("streaming", 212), ("retrying", 3)]`.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        DestinationState::VARIANTS
            .iter()
            .map(|state| (state.as_str(), self.destinations.iter().filter(|d| d.state == *state).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// How many destinations are (or are trying to be) sent to.
    pub fn sending(&self) -> usize {
        self.destinations.iter().filter(|d| d.is_sending()).count()
    }

    /// Total egress now, bits per second.
    pub fn egress_bps(&self) -> u64 {
        self.destinations.iter().map(|d| d.bitrate_bps).sum()
    }

    /// Restream's totals: destinations it receives (of those it reports on), social channels
    /// online (of those it reports on), and viewers where the platforms report them.
    pub fn restream_totals(&self) -> RestreamTotals {
        let reports: Vec<&crate::received::ReceivedHealth> =
            self.destinations.iter().filter_map(|d| d.received.as_ref()).filter(|r| r.listening).collect();
        RestreamTotals {
            received: reports.iter().filter(|r| r.receiving).count(),
            reported: reports.len(),
            channels_online: reports.iter().map(|r| r.channels_online()).sum(),
            channels: reports.iter().map(|r| r.channels.len()).sum(),
            viewers: reports.iter().filter_map(|r| r.viewers()).reduce(u64::saturating_add),
            flagged: self.destinations.iter().filter(|d| d.flag.is_some()).count(),
        }
    }
}

/// What Restream reports over every destination, for the top of the Destinations section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestreamTotals {
    /// Destinations Restream receives.
    pub received: usize,
    /// Destinations Restream reports on (Fanout is listening to their streaming updates).
    pub reported: usize,
    /// Social channels online.
    pub channels_online: usize,
    /// Social channels Restream reports on.
    pub channels: usize,
    /// Viewers on every channel, where the platforms report them.
    pub viewers: Option<u64>,
    /// Destinations flagged (sent but not received).
    pub flagged: usize,
}

/// Where the server gets the dashboard's state (provided as context by the server).
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct DashboardSource(pub std::sync::Arc<dyn Fn() -> DashboardStatus + Send + Sync>);

#[cfg(feature = "ssr")]
impl std::fmt::Debug for DashboardSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardSource").finish_non_exhaustive()
    }
}

/// The dashboard's state now (the admin gate refuses this without a session).
#[server(name = ReadDashboard, prefix = "/api", endpoint = "admin_dashboard", input = server_fn::codec::GetUrl)]
pub async fn admin_dashboard() -> Result<DashboardStatus, ServerFnError> {
    crate::admin::require_admin().await?;
    let source = crate::context::<DashboardSource>()?;
    Ok((source.0)())
}

/// A bitrate for people: `1.5 Mbit/s`, `320 kbit/s`.
pub fn human_bitrate(bps: u64) -> String {
    if bps >= 1_000_000 { format!("{:.1} Mbit/s", bps as f64 / 1_000_000.0) } else { format!("{} kbit/s", bps / 1000) }
}

/// A byte count for people: `12.3 MB`.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
impl DestinationRow {
    /// A volunteer's row named `name` (its account id too), in `state`, at `bps`.
    pub(crate) fn sample(name: &str, state: &str, bps: u64) -> Self {
        Self {
            id: DestinationId::Account(crate::model::AccountId::from_stored(name)),
            name: name.into(),
            kind: DestinationKind::Restream,
            channels: Vec::new(),
            titles: None,
            state: state.parse().unwrap_or_else(|_| panic!("{state} is a state")),
            bitrate_bps: bps,
            bytes_sent: 0,
            reconnects: 0,
            skips: 0,
            last_error: None,
            received: None,
            flag: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, bps: u64) -> DestinationRow {
        DestinationRow::sample("a", state, bps)
    }

    #[test]
    fn counts_follow_the_states_in_a_fixed_order_and_skip_empty_ones() {
        let status = DashboardStatus {
            destinations: vec![
                row("retrying", 0),
                row("streaming", 1_500_000),
                row("paused", 0),
                row("streaming", 1_400_000),
                row("connecting", 0),
                row("needs_reconnect", 0),
            ],
            ..DashboardStatus::default()
        };
        assert_eq!(status.counts(), [("streaming", 2), ("connecting", 1), ("retrying", 1), ("paused", 1), ("needs_reconnect", 1)]);
        assert_eq!(status.sending(), 4, "paused and refused destinations are not sent to");
        assert_eq!(status.egress_bps(), 2_900_000);
        assert!(DashboardStatus::default().counts().is_empty());
    }

    #[test]
    fn restream_totals_count_only_what_restream_reports() {
        use crate::received::{ChannelHealth, ChannelState, HealthFlag, ReceivedHealth};
        let channel = |state, viewers| ChannelHealth { id: 1, platform: "YouTube".into(), name: "a".into(), state, viewers };
        let receiving = ReceivedHealth {
            listening: true,
            receiving: true,
            channels: vec![channel(ChannelState::Online, Some(7)), channel(ChannelState::Offline, None)],
            ..ReceivedHealth::default()
        };
        let flagged =
            ReceivedHealth { listening: true, channels: vec![channel(ChannelState::Online, Some(3))], ..ReceivedHealth::default() };
        let status = DashboardStatus {
            destinations: vec![
                DestinationRow { received: Some(receiving), ..row("streaming", 1) },
                DestinationRow { received: Some(flagged), flag: Some(HealthFlag::SentNotReceived), ..row("streaming", 1) },
                DestinationRow { received: Some(ReceivedHealth::default()), ..row("streaming", 1) },
                row("paused", 0),
            ],
            ..DashboardStatus::default()
        };
        let totals = status.restream_totals();
        assert_eq!((totals.received, totals.reported), (1, 2), "a report not in yet is not counted");
        assert_eq!((totals.channels_online, totals.channels, totals.viewers, totals.flagged), (2, 3, Some(10), 1));
        assert_eq!(DashboardStatus::default().restream_totals().viewers, None);
    }

    #[test]
    fn figures_read_as_people_say_them() {
        assert_eq!(human_bitrate(1_549_000), "1.5 Mbit/s");
        assert_eq!(human_bitrate(320_400), "320 kbit/s");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
        assert_eq!(human_bytes(999), "999 B");
    }
}

/// One connected volunteer, as the Accounts section lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub restream_user: String,
    /// Their Restream channels: `platform (enabled|off)`.
    pub channels: Vec<String>,
    /// `active`, `paused`, `needs_reconnect`, `disconnected`.
    pub status: String,
    /// When they first connected (RFC 3339, UTC).
    pub connected_since: String,
    /// For an account Restream refused: the volunteer's manage page, to send them (it says
    /// how to connect again).
    pub manage_link: Option<String>,
}

/// Every account, newest first (the admin gate refuses this without a session).
#[server(name = ReadAccounts, prefix = "/api", endpoint = "admin_accounts", input = server_fn::codec::GetUrl)]
pub async fn admin_accounts() -> Result<Vec<AccountRow>, ServerFnError> {
    crate::admin::require_admin().await?;
    use crate::store::SharedStore;
    let store = crate::context::<SharedStore>()?;
    let signer = crate::context::<crate::manage::link::LinkSigner>()?;
    let base = crate::context::<crate::setup::PublicUrl>()?;
    let mut accounts = store.accounts().await.map_err(|e| ServerFnError::new(e.to_string()))?;
    accounts.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    let at = crate::store::now();
    Ok(accounts
        .into_iter()
        .map(|a| AccountRow {
            id: a.id.to_string(),
            name: a.display_name,
            email: a.email,
            restream_user: a.restream.username,
            channels: a
                .restream_channels
                .iter()
                .map(|c| format!("{} {} ({})", c.platform, c.display_name, if c.enabled { "enabled" } else { "off" }))
                .collect(),
            manage_link: (a.status == crate::model::AccountStatus::NeedsReconnect)
                .then(|| base.join(&format!("/manage/{}", signer.issue(&a.id, a.link_epoch, at)))),
            status: a.status.to_string(),
            connected_since: a.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        })
        .collect())
}
