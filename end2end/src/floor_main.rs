//! `fanout-floor`: the fan-out benchmark's floor contender (see `fanout_testworld::bench::floor`):
//! connects to every destination in a file, then on SIGUSR1 writes the source's pre-chunked
//! 100 ms batches to each, at real time, and exits when it has sent `--seconds` of it.

#![deny(unsafe_code, rust_2018_idioms)]

use std::path::PathBuf;

use clap::Parser;
use fanout_testworld::bench::floor::{FloorArgs, run};

/// The bare writes of a fan-out: the cost the kernel sets.
#[derive(Debug, Parser)]
struct Args {
    /// The FLV source file.
    #[arg(long)]
    source: PathBuf,
    /// Seconds of it to send.
    #[arg(long)]
    seconds: u64,
    /// The destinations' RTMP URLs, one per line.
    #[arg(long)]
    to_file: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    run(&FloorArgs { source: args.source, seconds: args.seconds, to_file: args.to_file }).await?;
    Ok(())
}
