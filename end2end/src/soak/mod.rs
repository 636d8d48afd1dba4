//! The soak: a real live in the test world — ffmpeg's HLS source, the YouTube and Restream
//! stand-ins, an nginx-rtmp sink with one stream per destination, Fanout watching with every
//! volunteer connected through the real OAuth flow — run for a while under a schedule of
//! faults ([`faults`]), measured as it goes, and judged at the end ([`report`]).
//!
//! `fanout-soak --minutes N` (`scripts/soak`) runs it; `scripts/test` runs two minutes of it.

pub mod faults;
pub mod report;

use std::time::{Duration, Instant};

use crate::nginx::NginxSink;
use crate::restream::{RestreamStandIn, StandInConfig, StandInUser};
use crate::source::LiveSource;
use crate::youtube::{ChannelShows, YoutubeStandIn};
use crate::{FanoutOptions, FanoutServer, WorldError};

pub use report::Report;

/// How a soak runs.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// How long.
    pub duration: Duration,
    /// How many volunteers (destinations).
    pub destinations: usize,
    /// Fanout's grace for a lost input, seconds.
    pub grace_secs: u64,
    /// The `fanout` binary.
    pub binary: Option<std::path::PathBuf>,
}

impl Default for SoakConfig {
    fn default() -> Self {
        Self { duration: Duration::from_secs(120), destinations: 20, grace_secs: 20, binary: None }
    }
}

/// The admin the soak signs in as (for the login bursts it is the one they never guess).
const ADMIN: (&str, &str) = ("admin", "the soak's admin password");

/// The world a soak runs in.
pub struct SoakWorld {
    /// Where everything keeps its files.
    pub dir: tempfile::TempDir,
    /// Restream.
    pub restream: RestreamStandIn,
    /// YouTube.
    pub youtube: YoutubeStandIn,
    /// The source.
    pub source: LiveSource,
    /// The sink, one stream per volunteer.
    pub sink: NginxSink,
    /// Fanout.
    pub fanout: FanoutServer,
    /// The volunteers.
    pub users: Vec<StandInUser>,
    /// The live shown now (its number; its id and title follow from it).
    pub live: u32,
}

impl std::fmt::Debug for SoakWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SoakWorld({} destinations, live {})", self.users.len(), self.live)
    }
}

/// The id of live number `n`.
pub fn live_id(n: u32) -> String {
    format!("SoakLive{n:03}")
}

/// The title of live number `n`.
pub fn live_title(n: u32) -> String {
    format!("Soak live number {n}")
}

impl SoakWorld {
    /// Stands the world up and signs every volunteer up.
    pub async fn start(config: &SoakConfig) -> Result<Self, WorldError> {
        let dir = tempfile::Builder::new()
            .prefix("fanout-soak-")
            .tempdir()
            .map_err(|source| WorldError::Io { what: "create the soak's directory".into(), source })?;
        let stand_in = StandInConfig::default();
        let (client_id, client_secret) = (stand_in.client_id.clone(), stand_in.client_secret.clone());
        let restream = RestreamStandIn::start(stand_in).await?;
        let youtube = YoutubeStandIn::start().await?;
        let sink = NginxSink::start(dir.path(), "soak").await?;
        let source = LiveSource::hls(dir.path()).await?;
        restream.receive_from(sink.stat_url());
        let hash = server::access::users::hash_password(ADMIN.1)
            .map_err(|e| WorldError::Io { what: "hash".into(), source: std::io::Error::other(e.to_string()) })?;
        let mut options = FanoutOptions::default()
            .env("RESTREAM_CLIENT_ID", client_id)
            .env("RESTREAM_CLIENT_SECRET", client_secret)
            .env("RESTREAM_API_URL", restream.url())
            .env("FANOUT_RESTREAM_UPDATES_URL", restream.updates_url())
            .env("FANOUT_RESTREAM_CHAT_URL", restream.chat_url())
            .env("FANOUT_YOUTUBE_CHANNEL", "@FanoutSoak")
            .env("FANOUT_YOUTUBE_URL", youtube.url())
            .env("FANOUT_POLL_SECS", "1")
            .env("FANOUT_GRACE_SECS", config.grace_secs.to_string())
            .env("FANOUT_RESTREAM_INGEST", sink.ingest_base())
            .env("FANOUT_RATE_LIMIT", "10000")
            .env("FANOUT_TRUST_FORWARDED_FOR", "true")
            .env("FANOUT_ADMIN_USERS", format!("{}:{hash}", ADMIN.0));
        if let Some(binary) = &config.binary {
            options = options.binary(binary);
        }
        let fanout = FanoutServer::start(dir.path(), options).await?;
        restream.add_redirect_uri(&format!("{}/oauth/restream/callback", fanout.url()));
        let mut users = Vec::new();
        for n in 0..config.destinations {
            let name = format!("Soak Volunteer {n:03}");
            let user = StandInUser::sample(7000 + i64::try_from(n).unwrap_or(0), &name);
            restream.add_user(user.clone());
            crate::volunteer::connect(fanout.url(), &restream, &user, &name).await?;
            users.push(user);
        }
        let mut world = Self { dir, restream, youtube, source, sink, fanout, users, live: 0 };
        world.next_live();
        Ok(world)
    }

    /// The channel goes live with the next live (a new video id and title).
    pub fn next_live(&mut self) {
        self.live += 1;
        let manifest = self.source.hls_url().unwrap_or_default();
        self.youtube.show(ChannelShows::Live { video_id: live_id(self.live), title: live_title(self.live), manifest });
    }

    /// The stream keys, one per destination.
    pub fn keys(&self) -> Vec<String> {
        self.users.iter().map(|u| u.stream_key.clone()).collect()
    }
}

/// Runs a soak: the world, the faults, the measurements; returns the report.
pub async fn run(config: SoakConfig) -> Result<Report, WorldError> {
    let started = Instant::now();
    let mut world = SoakWorld::start(&config).await?;
    let setup = started.elapsed();
    let mut schedule = faults::Schedule::new(&config);
    let mut measure = report::Measurements::new(&world);
    let deadline = Instant::now() + config.duration;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while Instant::now() < deadline {
        tick.tick().await;
        let stats = world.sink.stats().await.unwrap_or_default();
        measure.sample(&world, &stats);
        schedule.step(&mut world, &mut measure).await;
    }
    schedule.finish(&mut world).await;
    Ok(measure.finish(&world, setup, config.duration).await)
}
