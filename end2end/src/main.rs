//! `testworld`: stands the test world up for the Playwright tests — the Restream.io stand-in
//! with one volunteer, and Fanout configured against it (or, with `--bare`, Fanout with no
//! configuration at all; or, with `--live`, a live in progress: the YouTube stand-in showing a
//! live fed by ffmpeg's HLS source, two volunteers already connected, an nginx-rtmp sink as
//! their Restream ingest, and the world's control server to act on the sink; or, with
//! `--restream-only <n>`, the Restream stand-in alone with `n` users and a token each, for the
//! streaming-updates benchmark; or, with `--demo`, the live world with three volunteers and a
//! few lines for a person: where to sign in, and how to watch what a destination receives —
//! `scripts/serve --demo`) — prints its addresses as one JSON line on standard output, and
//! keeps it up until its standard input closes or it gets SIGTERM/SIGINT; then ends every
//! process it started.

use std::sync::Arc;

use anyhow::Context;
use fanout_testworld::control::WorldControl;
use fanout_testworld::nginx::NginxSink;
use fanout_testworld::restream::{RestreamStandIn, StandInConfig, StandInUser};
use fanout_testworld::source::LiveSource;
use fanout_testworld::youtube::{ChannelShows, YoutubeStandIn};
use fanout_testworld::{FanoutOptions, FanoutServer};
use tokio::io::AsyncReadExt;

/// The volunteer the browser tests sign up as.
const VOLUNTEER_ID: i64 = 5001;
/// The volunteers already connected in a `--live` world (the first two) and a `--demo` one.
const LIVE_VOLUNTEERS: [(i64, &str); 3] = [(5101, "Ana Volunteer"), (5102, "Ben Volunteer"), (5103, "Chandra Volunteer")];
/// The live a `--live` world shows.
const LIVE: (&str, &str) = ("WorldLive01", "Morning satsang — live from the test world");

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
    if let Some(count) = restream_only() {
        return serve_restream_only(count).await;
    }
    let config = StandInConfig::default();
    let (client_id, client_secret) = (config.client_id.clone(), config.client_secret.clone());
    let restream = RestreamStandIn::start(config).await.context("cannot start the Restream stand-in")?;
    restream.add_user(StandInUser::sample(VOLUNTEER_ID, "Ana Volunteer"));

    let demo = std::env::args().any(|arg| arg == "--demo");
    let live = demo || std::env::args().any(|arg| arg == "--live");
    let mut options = FanoutOptions::default()
        .env("RESTREAM_CLIENT_ID", client_id)
        .env("RESTREAM_CLIENT_SECRET", client_secret)
        .env("RESTREAM_API_URL", restream.url())
        .env("FANOUT_RESTREAM_UPDATES_URL", restream.updates_url())
        .env("FANOUT_RESTREAM_CHAT_URL", restream.chat_url())
        .env("FANOUT_YOUTUBE_CHANNEL", "@FanoutTestChannel")
        .env("FANOUT_RATE_LIMIT", "1000")
        .env("FANOUT_PORT_MBPS", "1000")
        .env("FANOUT_ADMIN_USERS", format!("{}:{}", ADMIN.0, server::access::users::hash_password(ADMIN.1)?));
    let media = if live {
        let youtube = YoutubeStandIn::start().await.context("cannot start the YouTube stand-in")?;
        let sink = Arc::new(NginxSink::start(dir.path(), "sinks").await.context("cannot start the nginx sink")?);
        let source = LiveSource::hls(dir.path()).await.context("cannot start the live source")?;
        restream.receive_from(sink.stat_url());
        options = options
            .env("FANOUT_YOUTUBE_URL", youtube.url())
            .env("FANOUT_POLL_SECS", "1")
            .env("FANOUT_GRACE_SECS", "60")
            .env("FANOUT_RESTREAM_INGEST", sink.ingest_base());
        Some((youtube, sink, source))
    } else {
        None
    };
    let fanout = FanoutServer::start(dir.path(), options).await?;
    restream.add_redirect_uri(&format!("{}/oauth/restream/callback", fanout.url()));
    let mut live_addresses = serde_json::Value::Null;
    let mut control = None;
    if let Some((youtube, sink, source)) = &media {
        let mut volunteers = Vec::new();
        for (id, name) in LIVE_VOLUNTEERS.into_iter().take(if demo { 3 } else { 2 }) {
            let user = StandInUser::sample(id, name);
            restream.add_user(user.clone());
            fanout_testworld::volunteer::connect(fanout.url(), &restream, &user, name)
                .await
                .with_context(|| format!("cannot sign {name} up"))?;
            let channels: Vec<i64> = user.channels.iter().map(|c| c.id).collect();
            let watch = sink.url(&user.stream_key);
            volunteers
                .push(serde_json::json!({ "id": id, "name": name, "streamKey": user.stream_key, "channels": channels, "watch": watch }));
        }
        let manifest = source.hls_url().context("the source has no HLS URL")?;
        youtube.show(ChannelShows::Live { video_id: LIVE.0.into(), title: LIVE.1.into(), manifest });
        let server = WorldControl::start(Arc::clone(sink)).await?;
        live_addresses = serde_json::json!({ "title": LIVE.1, "volunteers": volunteers, "control": server.url() });
        control = Some(server);
    }

    let addresses = serde_json::json!({
        "fanout": fanout.url(),
        "restream": restream.url(),
        "volunteerId": VOLUNTEER_ID,
        "admin": { "name": ADMIN.0, "password": ADMIN.1 },
        "dataDir": fanout.data_dir(),
        "log": dir.path().join("fanout.log"),
        "live": live_addresses,
    });
    println!("{addresses}");
    if demo {
        explain_the_demo(&addresses);
    }
    wait_for_the_end().await;
    drop(control);
    fanout.stop().await?;
    drop(media);
    Ok(())
}

/// What a person trying Fanout needs from a `--demo` world, on standard error.
fn explain_the_demo(addresses: &serde_json::Value) {
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
    let fanout = text(&addresses["fanout"]);
    let mut lines = vec![
        String::new(),
        "Fanout's demo is up: a YouTube channel (stood in for) is live, and Fanout restreams it to".into(),
        "three volunteers' Restream.io accounts (stood in for, each ingest an nginx-rtmp sink here).".into(),
        String::new(),
        format!(
            "  the dashboard   {fanout}/admin   sign in as {} / {}",
            text(&addresses["admin"]["name"]),
            text(&addresses["admin"]["password"])
        ),
        format!("  the sign-up     {fanout}/"),
        "  what each destination receives:".into(),
    ];
    for volunteer in addresses["live"]["volunteers"].as_array().into_iter().flatten() {
        lines.push(format!("    {:<18} ffplay -loglevel warning {}", text(&volunteer["name"]), text(&volunteer["watch"])));
    }
    lines.extend([String::new(), "Ctrl-C stops Fanout and everything the demo started.".into()]);
    eprintln!("{}", lines.join("\n"));
}

/// `--restream-only <n>`'s `n`.
fn restream_only() -> Option<i64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == "--restream-only")?;
    args.get(at + 1).and_then(|n| n.parse().ok())
}

/// The Restream stand-in alone, with `count` users (ids from 900000) and a token pair each.
async fn serve_restream_only(count: i64) -> anyhow::Result<()> {
    let restream = RestreamStandIn::start(StandInConfig::default()).await.context("cannot start the Restream stand-in")?;
    let users: Vec<serde_json::Value> = (0..count)
        .map(|n| {
            let user = StandInUser::sample(900_000 + n, &format!("Bench {n}"));
            restream.add_user(user.clone());
            serde_json::json!({ "id": user.id, "token": restream.issue_tokens(user.id).access })
        })
        .collect();
    let addresses = serde_json::json!({
        "restream": restream.url(),
        "updates": restream.updates_url(),
        "chat": restream.chat_url(),
        "pid": std::process::id(),
        "users": users,
    });
    println!("{addresses}");
    wait_for_the_end().await;
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
