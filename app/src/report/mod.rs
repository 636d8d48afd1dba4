//! A past live's report, as its page shows it: the live (title, start, end, duration, peak,
//! failures), its samples over time (destinations streaming, egress, reconnects, slate and
//! grace) and its worst destinations — read from the store by the `admin_live_report` server
//! function. [`chart`] lays the charts out (pure geometry); the page is
//! `pages::admin::report`.

#![allow(missing_docs)] // `#[server]` generates a public argument struct.

pub mod chart;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How many destinations the "worst destinations" table lists.
pub const WORST_LISTED: usize = 10;

/// The address of a live's report page.
pub fn report_path(video_id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(video_id.as_bytes()).collect();
    format!("/admin/lives/{encoded}")
}

/// One sample, as the charts draw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplePoint {
    /// Seconds since the first sample.
    pub secs: u64,
    pub streaming: u32,
    pub destinations: u32,
    pub egress_bps: u64,
    /// Reconnects since the sample before.
    pub reconnects: u32,
    /// The slate went out since the sample before.
    pub slate: bool,
    /// The live was in its grace since the sample before.
    pub grace: bool,
}

/// One destination of the worst ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorstRow {
    pub name: String,
    /// Seconds it should have streamed and did not.
    pub down_secs: u32,
    pub reconnects: u32,
    /// Its lowest bitrate while streaming, when measured.
    pub lowest_bps: Option<u64>,
}

/// A live's whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveReport {
    pub video_id: String,
    /// The live's title, whole (what the titles set on the channels were made from).
    pub title: String,
    pub url: String,
    /// `detected` … `ended`.
    pub state: String,
    /// RFC 3339, UTC.
    pub detected_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// From the start of streaming to the end (or now, while it goes on).
    pub duration_secs: Option<u64>,
    pub peak_destinations: u32,
    pub failures: u32,
    /// Oldest first.
    pub samples: Vec<SamplePoint>,
    /// Worst first, at most [`WORST_LISTED`].
    pub worst: Vec<WorstRow>,
    /// How many destinations the live had in all.
    pub destinations_seen: usize,
}

/// The worst destinations first: the longest down, then the most reconnects, then the lowest
/// bitrate (one never measured last), then by name; at most `limit`.
pub fn worst(mut rows: Vec<WorstRow>, limit: usize) -> Vec<WorstRow> {
    rows.sort_by(|a, b| {
        b.down_secs
            .cmp(&a.down_secs)
            .then(b.reconnects.cmp(&a.reconnects))
            .then_with(|| a.lowest_bps.unwrap_or(u64::MAX).cmp(&b.lowest_bps.unwrap_or(u64::MAX)))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(limit);
    rows
}

/// The report of the live `video` (`None` when there is no such live; the admin gate refuses
/// this without a session).
#[server(name = ReadLiveReport, prefix = "/api", endpoint = "admin_live_report", input = server_fn::codec::GetUrl)]
pub async fn admin_live_report(video: String) -> Result<Option<LiveReport>, ServerFnError> {
    crate::admin::require_admin().await?;
    use crate::store::{SharedStore, VideoId};
    let store = crate::context::<SharedStore>()?;
    let failed = |e: crate::store::StoreError| ServerFnError::new(e.to_string());
    let video_id = VideoId(video);
    let Some(live) = store.live(&video_id).await.map_err(failed)? else { return Ok(None) };
    let samples = store.live_samples(&video_id).await.map_err(failed)?;
    let tallies = store.destination_tallies(&video_id).await.map_err(failed)?;
    let origin = samples.first().map(|s| s.at);
    use crate::store::rfc3339;
    let now = crate::store::now();
    Ok(Some(LiveReport {
        url: format!("https://www.youtube.com/watch?v={}", live.video_id.0),
        state: live.state.to_string(),
        detected_at: rfc3339(live.detected_at),
        started_at: live.started_at.map(rfc3339),
        ended_at: live.ended_at.map(rfc3339),
        duration_secs: live.started_at.map(|start| (live.ended_at.unwrap_or(now) - start).whole_seconds().max(0).unsigned_abs()),
        peak_destinations: live.peak_destinations,
        failures: live.failures,
        samples: samples
            .iter()
            .map(|s| SamplePoint {
                secs: origin.map_or(0, |origin| (s.at - origin).whole_seconds().max(0).unsigned_abs()),
                streaming: s.streaming,
                destinations: s.destinations,
                egress_bps: s.egress_bps,
                reconnects: s.reconnects,
                slate: s.slate,
                grace: s.grace,
            })
            .collect(),
        destinations_seen: tallies.len(),
        worst: worst(
            tallies
                .into_iter()
                .map(|t| WorstRow { name: t.name, down_secs: t.down_secs, reconnects: t.reconnects, lowest_bps: t.lowest_bps })
                .collect(),
            WORST_LISTED,
        ),
        title: live.title,
        video_id: live.video_id.0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, down_secs: u32, reconnects: u32, lowest_bps: Option<u64>) -> WorstRow {
        WorstRow { name: name.into(), down_secs, reconnects, lowest_bps }
    }

    #[test]
    fn the_worst_destinations_are_the_longest_down_then_the_most_reconnected_then_the_slowest() {
        let rows = vec![
            row("fine", 0, 0, Some(2_000_000)),
            row("slow", 0, 0, Some(300_000)),
            row("flaky", 12, 4, Some(1_000_000)),
            row("down", 300, 1, None),
            row("flakier", 12, 9, None),
            row("never measured", 0, 0, None),
        ];
        let names: Vec<String> = worst(rows.clone(), 10).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["down", "flakier", "flaky", "slow", "fine", "never measured"]);
        assert_eq!(worst(rows, 2).len(), 2);
    }

    #[test]
    fn a_report_is_addressed_by_its_video_id_escaped() {
        assert_eq!(report_path("abc123DEF45"), "/admin/lives/abc123DEF45");
        assert_eq!(report_path("a/b?c"), "/admin/lives/a%2Fb%3Fc");
    }
}
