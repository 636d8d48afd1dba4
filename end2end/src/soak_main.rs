//! `fanout-soak`: runs the soak (`fanout_testworld::soak`) and prints its report; exits 1 when
//! an invariant does not hold. `scripts/soak --minutes N` builds and runs it.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fanout_testworld::soak::{SoakConfig, run};

/// Run a live in the test world under a schedule of faults, and judge it.
#[derive(Debug, Parser)]
struct Args {
    /// How long, in minutes.
    #[arg(long, default_value_t = 2)]
    minutes: u64,
    /// How many destinations (volunteers).
    #[arg(long, default_value_t = 20)]
    destinations: usize,
    /// Fanout's grace for a lost input, in seconds.
    #[arg(long, default_value_t = 20)]
    grace: u64,
    /// The `fanout` binary (default: the workspace's debug build).
    #[arg(long)]
    fanout: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = SoakConfig {
        duration: Duration::from_secs(args.minutes * 60),
        destinations: args.destinations,
        grace_secs: args.grace,
        binary: args.fanout,
    };
    match run(config).await {
        Ok(report) => {
            print!("{report}");
            if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(error) => {
            eprintln!("fanout-soak: the world did not stand up: {error}");
            ExitCode::FAILURE
        }
    }
}
