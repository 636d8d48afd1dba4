//! The fan-out benchmark, small: every contender (the floor too) sends a real-time source to ten sinks and
//! every sink gets every frame and byte. Correctness only — the figures are `fanout-bench`'s.

use fanout_testworld::bench::{Bench, Kind, Run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_runs_and_every_sink_gets_every_byte_from_every_contender() {
    let cache = std::env::var_os("HOME").map_or_else(std::env::temp_dir, std::path::PathBuf::from).join(".cache/fanout/bench");
    let mut bench = Bench::new(fanout_testworld::fanout_binary(), cache).await.unwrap_or_else(|e| panic!("{e}"));
    for kind in [Kind::Fanout, Kind::Nginx, Kind::Tee, Kind::Floor] {
        let figures = bench.run(&Run { kind, sinks: 10, kbps: 1500, seconds: 8, slow: 0 }).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(figures.receiving, 10, "{figures:?}");
        assert_eq!((figures.short, figures.missing_frames), (0, 0), "{figures:?}");
        assert!(figures.delivered_min >= 0.999, "{figures:?}");
        assert!(figures.lag_p95_ms.is_finite() && figures.lag_p95_ms > 0.0, "lag was measured: {figures:?}");
        assert!(figures.cpu_s_per_min >= 0.0 && figures.peak_rss_kib > 0, "{figures:?}");
    }
}
