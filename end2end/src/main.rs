//! `testworld`: stands the test world up for the Playwright tests — the Restream.io stand-in
//! with one volunteer, and Fanout configured against it (or, with `--bare`, Fanout with no
//! configuration at all) — prints its addresses as one JSON line on standard output, and keeps
//! it up until its standard input closes or it gets SIGTERM/SIGINT; then ends every process it
//! started.

use anyhow::Context;
use fanout_testworld::restream::{RestreamStandIn, StandInConfig, StandInUser};
use fanout_testworld::{FanoutOptions, FanoutServer};
use tokio::io::AsyncReadExt;

/// The volunteer the browser tests sign up as.
const VOLUNTEER_ID: i64 = 5001;
/// The admin the browser tests sign in as.
const ADMIN: (&str, &str) = ("admin", "test world admin password");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("fanout-world-").tempdir().context("cannot create the world's directory")?;
    if std::env::args().any(|arg| arg == "--bare") {
        let fanout = FanoutServer::start(dir.path(), FanoutOptions::default()).await?;
        let addresses = serde_json::json!({ "fanout": fanout.url(), "dataDir": fanout.data_dir() });
        println!("{addresses}");
        wait_for_the_end().await;
        fanout.stop().await?;
        return Ok(());
    }
    let config = StandInConfig::default();
    let (client_id, client_secret) = (config.client_id.clone(), config.client_secret.clone());
    let restream = RestreamStandIn::start(config).await.context("cannot start the Restream stand-in")?;
    restream.add_user(StandInUser::sample(VOLUNTEER_ID, "Ana Volunteer"));

    let options = FanoutOptions::default()
        .env("RESTREAM_CLIENT_ID", client_id)
        .env("RESTREAM_CLIENT_SECRET", client_secret)
        .env("RESTREAM_API_URL", restream.url())
        .env("FANOUT_YOUTUBE_CHANNEL", "@FanoutTestChannel")
        .env("FANOUT_RATE_LIMIT", "1000")
        .env("FANOUT_PORT_MBPS", "1000")
        .env("FANOUT_ADMIN_USERS", format!("{}:{}", ADMIN.0, server::admin::users::hash_password(ADMIN.1)?));
    let fanout = FanoutServer::start(dir.path(), options).await?;
    restream.add_redirect_uri(&format!("{}/oauth/restream/callback", fanout.url()));

    let addresses = serde_json::json!({
        "fanout": fanout.url(),
        "restream": restream.url(),
        "volunteerId": VOLUNTEER_ID,
        "admin": { "name": ADMIN.0, "password": ADMIN.1 },
        "dataDir": fanout.data_dir(),
        "log": dir.path().join("fanout.log"),
    });
    println!("{addresses}");
    wait_for_the_end().await;
    fanout.stop().await?;
    Ok(())
}

/// Until standard input closes, or SIGINT/SIGTERM.
async fn wait_for_the_end() {
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    tokio::select! {
        _ = stdin.read_to_end(&mut sink) => {},
        _ = tokio::signal::ctrl_c() => {},
        _ = terminated() => {},
    }
}

async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
