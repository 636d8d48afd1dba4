//! What the engine publishes: the shared [`DashboardStatus`] (`app::dashboard`, the same type
//! the dashboard renders and `/metrics` reads — nothing copies it field by field), and how a
//! destination's connection status becomes its row.

pub use app::dashboard::{DashboardStatus, DestinationRow, LiveSummary};
use app::model::{DestinationId, DestinationKind, DestinationState, Held};

use crate::relay::DestinationStatus;

/// What the engine knows of a destination besides its connection: who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// The volunteer's name, or the direct destination's label.
    pub name: String,
    /// Whose it is.
    pub kind: DestinationKind,
    /// The Restream channels behind it (enabled ones).
    pub channels: Vec<String>,
    /// What became of its titles for this live, in words.
    pub titles: Option<String>,
}

/// The row of destination `id`, sent to with `status`.
pub fn row(id: DestinationId, who: Who, status: &DestinationStatus) -> DestinationRow {
    DestinationRow {
        id,
        name: who.name,
        kind: who.kind,
        channels: who.channels,
        titles: who.titles,
        state: status.state,
        bitrate_bps: status.bitrate_bps,
        bytes_sent: status.bytes_sent,
        reconnects: status.reconnects,
        skips: status.skips,
        last_error: status.last_error.clone(),
        received: None,
        flag: None,
    }
}

/// The row of destination `id`, held out of the live for `held` (with why, when known).
pub fn held_row(id: DestinationId, who: Who, held: Held, why: Option<String>) -> DestinationRow {
    let status = DestinationStatus { state: DestinationState::Stopped, last_error: why, ..DestinationStatus::new() };
    DestinationRow { state: held.into(), ..row(id, who, &status) }
}
