//! `testworld`: stands the test world up for the Playwright tests, prints its addresses as one
//! JSON line on standard output, and keeps it up until its standard input closes or it gets
//! SIGTERM/SIGINT; then ends every process it started.

use anyhow::Context;
use fanout_testworld::{FanoutOptions, FanoutServer};
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("fanout-world-").tempdir().context("cannot create the world's directory")?;
    let fanout = FanoutServer::start(dir.path(), FanoutOptions::default()).await?;
    let addresses = serde_json::json!({
        "fanout": fanout.url(),
        "dataDir": fanout.data_dir(),
        "log": dir.path().join("fanout.log"),
    });
    println!("{addresses}");

    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    tokio::select! {
        _ = stdin.read_to_end(&mut sink) => {},
        _ = tokio::signal::ctrl_c() => {},
        _ = terminated() => {},
    }
    fanout.stop().await?;
    Ok(())
}

async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
