//! `fanout-bench`: how many destinations this box can feed, and at what cost against nginx-rtmp
//! push, ffmpeg tee and the floor (the same bytes written with no RTMP logic). Prints markdown tables (BENCHMARKS.md holds a full run) and writes the
//! figures as JSON lines beside them. See `scripts/bench` for the command that builds what it
//! measures.

#![deny(unsafe_code, rust_2018_idioms)]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fanout_testworld::bench::{Bench, Figures, Kind, Run, TABLE_HEADER, row};

/// Fan-out benchmark: Fanout's relay, nginx-rtmp push, ffmpeg tee and the floor (the bare
/// writes), side by side.
#[derive(Debug, Parser)]
struct Args {
    /// Destination counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "10,100,300,500")]
    sinks: Vec<usize>,
    /// Source bitrates (kbit/s).
    #[arg(long, value_delimiter = ',', default_value = "1500,4000")]
    kbps: Vec<u32>,
    /// Seconds of stream per measurement.
    #[arg(long, default_value_t = 45)]
    seconds: u64,
    /// Contenders.
    #[arg(long, value_delimiter = ',', default_value = "fanout,nginx,tee,floor")]
    contenders: Vec<Kind>,
    /// Extra runs: `slow` (one slow sink among 100), `join` (100 joining one by one).
    #[arg(long, value_delimiter = ',', default_value = "slow,join")]
    extra: Vec<String>,
    /// The `fanout` binary measured (a release build).
    #[arg(long, env = "FANOUT_BIN")]
    fanout: Option<PathBuf>,
    /// Where encoded sources are kept between runs.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// A file the figures are appended to as JSON lines.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Profile Fanout with `perf` at the largest N (first bitrate) into this file, and print
    /// its top items.
    #[arg(long)]
    profile: Option<PathBuf>,
}

fn record(json: Option<&PathBuf>, figures: &Figures) -> anyhow::Result<()> {
    println!("{}", row(figures));
    if let Some(path) = json {
        use std::io::Write;
        let mut file =
            std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("open {}", path.display()))?;
        writeln!(file, "{}", serde_json::to_string(figures)?)?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fanout = args.fanout.clone().unwrap_or_else(|| fanout_testworld::target_dir().join("release").join("fanout"));
    anyhow::ensure!(fanout.is_file(), "no fanout binary at {} (build it: cargo build --release -p server)", fanout.display());
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(|| std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from).join(".cache/fanout/bench"));
    let mut bench = Bench::new(fanout, cache).await?;

    let largest = args.sinks.iter().copied().max().unwrap_or(0);
    for (round, &kbps) in args.kbps.iter().enumerate() {
        println!("\n### {kbps} kbit/s, {} s per run\n\n{TABLE_HEADER}", args.seconds);
        let mut tee_gave_up = false;
        let mut ratios = Vec::new();
        for &sinks in &args.sinks {
            let mut cpu = std::collections::HashMap::new();
            for &kind in &args.contenders {
                if kind == Kind::Tee && tee_gave_up {
                    println!("| {} | {sinks} | {kbps} | not run: it did not keep up at a smaller N |||||||||||", kind.label());
                    continue;
                }
                if round == 0 && sinks == largest && kind == Kind::Fanout {
                    bench.profile.clone_from(&args.profile);
                }
                let figures = bench.run(&Run { kind, sinks, kbps, seconds: args.seconds, slow: 0 }).await?;
                if kind == Kind::Tee && !figures.kept_up() {
                    tee_gave_up = true;
                }
                cpu.insert(kind, figures.cpu_s_per_min);
                record(args.json.as_ref(), &figures)?;
            }
            ratios.push((sinks, cpu));
        }
        print_ratios(kbps, &ratios);
    }

    let kbps = args.kbps.first().copied().unwrap_or(1500);
    if args.extra.iter().any(|e| e == "slow") {
        println!("\n### One slow sink (reads at 10 % of the bitrate) among 100, {kbps} kbit/s\n\n{TABLE_HEADER}");
        for kind in args.contenders.iter().copied().filter(|k| *k != Kind::Tee) {
            for slow in [0, 1] {
                let figures = bench.run(&Run { kind, sinks: 100, kbps, seconds: args.seconds, slow }).await?;
                record(args.json.as_ref(), &figures)?;
            }
        }
    }
    if args.extra.iter().any(|e| e == "join") {
        let times = bench.joins(100, kbps, Duration::from_millis(250)).await?;
        let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "\n### 100 destinations joining one by one (every 250 ms) during a live, {kbps} kbit/s\n\n\
             time from join to first keyframe at the sink: p50 {:.0} ms · p95 {:.0} ms · max {:.0} ms · min {:.0} ms",
            at(0.5),
            at(0.95),
            at(1.0),
            at(0.0)
        );
    }
    if let Some(path) = &args.profile {
        print_profile(path, largest).await;
    }
    Ok(())
}

/// Fanout's CPU over the floor's and over nginx-rtmp's, per N (where both were measured).
fn print_ratios(kbps: u32, ratios: &[(usize, std::collections::HashMap<Kind, f64>)]) {
    let ratio = |cpu: &std::collections::HashMap<Kind, f64>, other: Kind| match (cpu.get(&Kind::Fanout), cpu.get(&other)) {
        (Some(fanout), Some(other)) if *other > 0.0 => format!("{:.2}", fanout / other),
        _ => "—".to_string(),
    };
    println!("\n{kbps} kbit/s, Fanout's CPU as a multiple of:\n\n| N | the floor | nginx-rtmp push |\n|---:|---:|---:|");
    for (sinks, cpu) in ratios {
        println!("| {sinks} | {} | {} |", ratio(cpu, Kind::Floor), ratio(cpu, Kind::Nginx));
    }
}

/// The profile's top items (self time, by binary and symbol).
async fn print_profile(path: &std::path::Path, sinks: usize) {
    let report = tokio::process::Command::new("perf")
        .args(["report", "--stdio", "--no-children", "--sort", "dso,symbol", "-g", "none", "--percent-limit", "1.5", "-i"])
        .arg(path)
        .output()
        .await;
    println!("\n### Profile of Fanout's relay at N = {sinks} (perf, self time)\n\n```");
    match report {
        Ok(output) => String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.contains('%') && !l.starts_with('#'))
            .take(25)
            .for_each(|l| println!("{}", l.split_whitespace().collect::<Vec<_>>().join(" "))),
        Err(error) => println!("perf report failed: {error}"),
    }
    println!("```");
}
