use super::*;

fn sample(secs: u64, streaming: u32, egress_bps: u64) -> SamplePoint {
    SamplePoint { secs, streaming, destinations: 4, egress_bps, reconnects: 0, slate: false, grace: false }
}

fn pairs(points: &str) -> Vec<(f64, f64)> {
    points
        .split(' ')
        .map(|pair| {
            let (x, y) = pair.split_once(',').unwrap_or_else(|| panic!("{pair}"));
            (x.parse().unwrap_or_else(|e| panic!("{e}")), y.parse().unwrap_or_else(|e| panic!("{e}")))
        })
        .collect()
}

#[test]
fn one_point_per_sample_from_the_left_edge_to_the_right_scaled_to_the_plot() {
    let samples = [sample(0, 0, 0), sample(10, 2, 1_000_000), sample(20, 4, 4_000_000)];
    let chart = chart(&samples, Measure::Streaming);
    assert_eq!(chart.count, 3);
    let points = pairs(&chart.points);
    assert_eq!(points.len(), 3);
    let plot = chart.plot;
    assert_eq!(points[0], (plot.left, plot.bottom), "no destination at the start: the bottom left corner");
    assert_eq!(points[2].0, plot.right);
    assert!((points[2].1 - plot.top).abs() < 0.1, "4 of a scale up to 4: the top");
    assert!((points[1].0 - (plot.left + plot.right) / 2.0).abs() < 0.1, "the middle sample in the middle");
    assert!((points[1].1 - (plot.top + plot.bottom) / 2.0).abs() < 0.1);
}

#[test]
fn the_destinations_scale_reaches_every_destination_in_whole_steps() {
    let chart = chart(&[sample(0, 1, 0), sample(10, 2, 0)], Measure::Streaming);
    let labels: Vec<&str> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["0", "1", "2", "3", "4"], "4 destinations in all, 2 streaming at most");
    assert_eq!(nice_scale(212.0, true), (300.0, 100.0));
    assert_eq!(nice_scale(0.0, true), (1.0, 1.0), "an empty chart still has a scale");
    assert_eq!(nice_scale(3.0, true), (3.0, 1.0));
}

#[test]
fn egress_is_labelled_as_bitrates() {
    let chart = chart(&[sample(0, 1, 2_900_000), sample(10, 1, 3_100_000)], Measure::Egress);
    let labels: Vec<&str> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["0 kbit/s", "1.0 Mbit/s", "2.0 Mbit/s", "3.0 Mbit/s", "4.0 Mbit/s"]);
    assert!(chart.y_ticks.windows(2).all(|w| w[0].at > w[1].at), "upwards");
}

#[test]
fn time_ticks_are_round_and_at_most_six_or_so() {
    let samples: Vec<SamplePoint> = (0..=360).map(|i| sample(i * 10, 1, 1)).collect(); // an hour
    let chart = chart(&samples, Measure::Streaming);
    let labels: Vec<&str> = chart.x_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["0:00", "10:00", "20:00", "30:00", "40:00", "50:00", "1:00:00"]);
    assert_eq!(chart.x_ticks.last().map(|t| t.at), Some(chart.plot.right));
    assert_eq!(clock(3725), "1:02:05");
}

#[test]
fn slate_and_grace_shade_the_time_before_the_samples_that_saw_them_and_reconnects_are_marked() {
    let mut samples: Vec<SamplePoint> = (0..=10).map(|i| sample(i * 10, 1, 1)).collect();
    samples[3].slate = true;
    samples[4].slate = true;
    samples[8].grace = true;
    samples[6].reconnects = 2;
    let chart = chart(&samples, Measure::Egress);
    let plot = chart.plot;
    let x = |secs: f64| plot.left + (plot.right - plot.left) * secs / 100.0;
    assert_eq!(chart.slate.len(), 1, "two samples in a row are one stretch");
    assert!((chart.slate[0].x - x(20.0)).abs() < 1e-9 && (chart.slate[0].width - (x(40.0) - x(20.0))).abs() < 1e-9);
    assert_eq!(chart.grace.len(), 1);
    assert!((chart.grace[0].x - x(70.0)).abs() < 1e-9);
    assert_eq!(chart.reconnects, vec![Mark { x: x(60.0), count: 2, when: "1:00".into() }]);
}

#[test]
fn no_samples_make_an_empty_chart_not_a_panic() {
    let chart = chart(&[], Measure::Egress);
    assert_eq!((chart.count, chart.points.as_str()), (0, ""));
    assert!(chart.slate.is_empty() && chart.reconnects.is_empty());
    let one = super::chart(&[sample(0, 3, 5)], Measure::Streaming);
    assert_eq!(one.count, 1);
}
