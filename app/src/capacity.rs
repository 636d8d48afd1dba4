//! The capacity planner the seed did by hand: destinations × the live's bitrate against the
//! server port's real capacity (`FANOUT_PORT_MBPS`) — how full the port is now and will be with
//! every destination streaming, a warning before it overloads, and whether the 480p profile
//! would fit where the source's bitrate does not.

use serde::{Deserialize, Serialize};

/// What the 480p profile sends per destination: 1.2 Mbit/s of video and 128 kbit/s of audio.
pub const P480_BPS: u64 = 1_328_000;
/// Above this share of the port, the planner warns (TCP and RTMP overhead, other traffic).
pub const SAFE_SHARE: f64 = 0.8;

/// The planner's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The port, bits per second.
    pub port_bps: u64,
    /// Leaving the server now.
    pub egress_bps: u64,
    /// With every destination at the live's bitrate.
    pub planned_bps: u64,
    /// `planned_bps / port_bps`.
    pub planned_share: f64,
    /// What to tell the admin, when anything.
    pub advice: Option<String>,
}

/// Plans `destinations` at `bitrate_bps` each on a port of `port_mbps`, with `egress_bps` out now.
pub fn plan(port_mbps: u32, destinations: usize, bitrate_bps: u64, egress_bps: u64) -> Capacity {
    let port_bps = u64::from(port_mbps) * 1_000_000;
    let planned_bps = bitrate_bps.saturating_mul(destinations as u64);
    let planned_share = if port_bps == 0 { f64::INFINITY } else { planned_bps as f64 / port_bps as f64 };
    let fits = |bps: u64| (bps as f64) <= port_bps as f64 * SAFE_SHARE;
    let advice = if destinations == 0 || fits(planned_bps) {
        None
    } else {
        let at_480p = P480_BPS.saturating_mul(destinations as u64);
        let most = (port_bps as f64 * SAFE_SHARE / bitrate_bps.max(1) as f64).floor() as u64;
        Some(if bitrate_bps > P480_BPS && fits(at_480p) {
            format!(
                "{destinations} destinations at {:.1} Mbit/s need {:.0} Mbit/s, over {:.0} % of the {port_mbps} Mbit/s port; \
                 the 480p profile ({:.0} Mbit/s in all) would fit.",
                bitrate_bps as f64 / 1e6,
                planned_bps as f64 / 1e6,
                SAFE_SHARE * 100.0,
                at_480p as f64 / 1e6
            )
        } else {
            format!(
                "{destinations} destinations at {:.1} Mbit/s need {:.0} Mbit/s, over {:.0} % of the {port_mbps} Mbit/s port; \
                 it carries about {most} safely. Use a bigger port or fewer destinations.",
                bitrate_bps as f64 / 1e6,
                planned_bps as f64 / 1e6,
                SAFE_SHARE * 100.0
            )
        })
    };
    Capacity { port_bps, egress_bps, planned_bps, planned_share, advice }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_fits_gets_no_advice() {
        let capacity = plan(1000, 200, 3_000_000, 450_000_000);
        assert_eq!(capacity.port_bps, 1_000_000_000);
        assert_eq!(capacity.planned_bps, 600_000_000);
        assert!((capacity.planned_share - 0.6).abs() < 1e-9);
        assert_eq!(capacity.advice, None);
    }

    #[test]
    fn over_the_safe_share_it_warns_and_suggests_480p_when_that_fits() {
        // The seed's case: 220 destinations at 4.5 Mbit/s on a 1 Gbit/s port.
        let capacity = plan(1000, 220, 4_500_000, 0);
        let advice = capacity.advice.unwrap_or_default();
        assert!(advice.contains("990 Mbit/s") && advice.contains("480p"), "{advice}");
        // 220 × 1.328 = 292 Mbit/s fits in 800.
        assert!(advice.contains("292 Mbit/s"), "{advice}");
    }

    #[test]
    fn when_even_480p_does_not_fit_it_says_how_many_the_port_carries() {
        let capacity = plan(100, 220, 4_500_000, 0);
        let advice = capacity.advice.unwrap_or_default();
        assert!(!advice.contains("480p") && advice.contains("about 17 safely"), "{advice}");
    }

    #[test]
    fn exactly_at_the_safe_share_is_still_fine_and_nothing_planned_is_fine() {
        assert_eq!(plan(100, 40, 2_000_000, 0).advice, None, "80 of 100 Mbit/s");
        assert!(plan(100, 41, 2_000_000, 0).advice.is_some());
        assert_eq!(plan(100, 0, 2_000_000, 0).advice, None);
    }
}
