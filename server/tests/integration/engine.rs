//! The live engine end to end: the YouTube stand-in goes live with a real HLS source, Fanout
//! titles every enabled channel through the Restream stand-in and fans the live out to real
//! nginx-rtmp sinks, where ffprobe reads what arrives. Timings are printed, never asserted.

use std::time::{Duration, Instant};

use app::model::{AccountStatus, EventKind, LiveState};
use app::secrets::{Cipher, MasterKey, Purpose};
use app::store::{EventQuery, SqliteStore, Store, VideoId};
use fanout_testworld::nginx::NginxSink;
use fanout_testworld::restream::StandInUser;
use fanout_testworld::source::{LiveSource, probe_codecs};
use fanout_testworld::youtube::{ChannelShows, YoutubeStandIn};

use super::signup::World;
use super::*;

pub(super) const VIDEO: &str = "LiveVideo01";
pub(super) const TITLE: &str = "Satsang live 🔴 — \"Completion\" & the science of living: day 12";

/// The password of the live tests' admin, `admin`.
pub(super) const ADMIN_PASSWORD: &str = "engine test admin password";

/// `admin:<hash>` for `FANOUT_ADMIN_USERS`.
pub(super) fn admin_users() -> String {
    format!("admin:{}", server::access::users::hash_password(ADMIN_PASSWORD).unwrap_or_else(|e| panic!("{e}")))
}

/// The sign-up world plus YouTube, a live HLS source and an nginx sink, with Fanout watching.
pub(super) struct LiveWorld {
    pub(super) world: World,
    pub(super) youtube: YoutubeStandIn,
    pub(super) source: LiveSource,
    pub(super) sink: NginxSink,
}

impl LiveWorld {
    pub(super) async fn start(grace_secs: u64) -> Self {
        Self::start_with(grace_secs, &[]).await
    }

    /// The same world, with more settings for Fanout.
    pub(super) async fn start_with(grace_secs: u64, extra: &[(&str, &str)]) -> Self {
        Self::start_configured(grace_secs, extra, false, true).await
    }

    /// The same world, its source without audio.
    pub(super) async fn start_without_audio(grace_secs: u64, extra: &[(&str, &str)]) -> Self {
        Self::start_configured(grace_secs, extra, false, false).await
    }

    /// The same world, watching the channel through the Data API stand-in with `key`.
    pub(super) async fn start_with_api(grace_secs: u64, key: &str) -> Self {
        Self::start_configured(grace_secs, &[("FANOUT_YT_API_KEY", key)], true, true).await
    }

    async fn start_configured(grace_secs: u64, extra: &[(&str, &str)], through_api: bool, audio: bool) -> Self {
        let dir = temp_dir();
        let youtube = YoutubeStandIn::start().await.unwrap_or_else(|e| panic!("{e}"));
        let api_url = youtube.api_url();
        let sink = NginxSink::start(dir.path(), "sinks").await.unwrap_or_else(|e| panic!("{e}"));
        let source = if audio { LiveSource::hls(dir.path()).await } else { LiveSource::hls_video_only(dir.path()).await };
        let source = source.unwrap_or_else(|e| panic!("{e}"));
        let grace = grace_secs.to_string();
        let (youtube_url, ingest, admins) = (youtube.url(), sink.ingest_base(), admin_users());
        let mut env = vec![
            ("FANOUT_YOUTUBE_CHANNEL", "@FanoutTestChannel"),
            ("FANOUT_YOUTUBE_URL", youtube_url.as_str()),
            ("FANOUT_POLL_SECS", "1"),
            ("FANOUT_GRACE_SECS", grace.as_str()),
            ("FANOUT_RESTREAM_INGEST", ingest.as_str()),
            ("FANOUT_RATE_LIMIT", "1000"),
            ("FANOUT_ADMIN_USERS", admins.as_str()),
            ("FANOUT_PORT_MBPS", "100"),
        ];
        env.extend_from_slice(extra);
        if through_api {
            env.push(("FANOUT_YT_API_URL", api_url.as_str()));
        }
        let world = World::start(&env).await;
        // Restream's streaming updates report what its ingest, the sink, really receives.
        world.restream.receive_from(sink.stat_url());
        std::mem::forget(dir); // the sink and source live in it for the whole test
        Self { world, youtube, source, sink }
    }

    /// Signs the admin in; returns the session cookie.
    pub(super) async fn admin_cookie(&self) -> String {
        self.world.admin_cookie(ADMIN_PASSWORD).await
    }

    /// What the admin dashboard says now.
    pub(super) async fn dashboard(&self, cookie: &str) -> app::dashboard::DashboardStatus {
        self.world.dashboard(cookie).await
    }

    /// Adds Restream user `id` and signs them up; returns the user and their manage link.
    pub(super) async fn volunteer(&self, id: i64, name: &str) -> (StandInUser, String) {
        let user = self.world.user(id, name);
        let link = self.world.connect(name, id).await;
        (user, link)
    }

    pub(super) fn go_live(&self) -> Instant {
        let manifest = self.source.hls_url().unwrap_or_default();
        self.youtube.show(ChannelShows::Live { video_id: VIDEO.into(), title: TITLE.into(), manifest });
        Instant::now()
    }

    pub(super) async fn store(&self) -> SqliteStore {
        self.world.store().await
    }

    pub(super) async fn patches(&self) -> usize {
        self.world.restream.calls().iter().filter(|c| c.method == "PATCH").count()
    }

    /// Whether a publisher is on stream `key` at the sink now.
    pub(super) async fn publishing(&self, key: &str) -> bool {
        self.sink.stats().await.unwrap_or_default().iter().any(|s| s.name == key && s.publishing)
    }

    /// The longest time the sink's byte counter for `key` stood still while `during` ran.
    pub(super) async fn longest_stall<F: Future<Output = ()>>(&self, key: &str, during: F) -> Duration {
        let done = std::sync::atomic::AtomicBool::new(false);
        let watching = async {
            let (mut last, mut grew, mut longest) = (self.sink.bytes_in(key).await, Instant::now(), Duration::ZERO);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let now = self.sink.bytes_in(key).await;
                if now > last {
                    longest = longest.max(grew.elapsed());
                    (last, grew) = (now, Instant::now());
                }
            }
            longest
        };
        let during = async {
            during.await;
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        };
        tokio::join!(watching, during).0
    }

    pub(super) async fn wait_receiving(&self, keys: &[&str], seconds: u64) {
        for key in keys {
            eventually(seconds, &format!("the sink receives {key}"), || async { self.sink.bytes_in(key).await > 50_000 }).await;
        }
    }
}

/// Prints Fanout's CPU and memory (and its ffmpeg's) over `seconds` of streaming.
async fn report_usage(live: &LiveWorld, seconds: u64) {
    use fanout_testworld::usage::{children, cpu_seconds, resident_kib};
    let Some(pid) = live.world.fanout.pid() else { return };
    let ffmpeg = children(pid);
    let sample = || (cpu_seconds(pid).unwrap_or(0.0), ffmpeg.iter().filter_map(|c| cpu_seconds(*c)).sum::<f64>());
    let (fanout_before, ffmpeg_before) = sample();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (fanout_after, ffmpeg_after) = sample();
    let percent = |used: f64| used / seconds as f64 * 100.0;
    eprintln!(
        "with {} destinations: fanout {:.1} % CPU, {} KiB resident; its ingest ffmpeg {:.1} % CPU, {} KiB",
        live.sink.stats().await.map(|s| s.len()).unwrap_or(0),
        percent(fanout_after - fanout_before),
        resident_kib(pid).unwrap_or(0),
        percent(ffmpeg_after - ffmpeg_before),
        ffmpeg.iter().filter_map(|c| resident_kib(*c)).sum::<u64>(),
    );
}

fn cipher_of(world: &World) -> Cipher {
    let key = MasterKey::read_file(&world.fanout.data_dir().join("secret.key")).ok().flatten().unwrap_or_else(|| panic!("key file"));
    Cipher::new(&key)
}

pub(super) async fn events_of(store: &SqliteStore, kind: EventKind) -> Vec<String> {
    let page = store.events(&EventQuery { kind: Some(kind), ..EventQuery::newest(200) }).await.unwrap_or_else(|e| panic!("{e}"));
    page.events.into_iter().map(|e| e.event.message).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_is_titled_and_fanned_out_to_every_active_account_only() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7001, "Ana").await;
    let (ben, _) = live.volunteer(7002, "Ben").await;
    let (cy, _) = live.volunteer(7003, "Cy").await;
    let (dee, dee_link) = live.volunteer(7004, "Dee").await;
    let paused = live.world.http.post(format!("{}{dee_link}/pause", live.world.fanout.url())).send().await;
    assert!(paused.is_ok_and(|r| r.status().is_redirection()));
    // Cy's access token has expired: Fanout must refresh it once, and keep the rotated pair.
    live.world.restream.expire_access_tokens(cy.id);

    let started = live.go_live();
    let keys: Vec<&str> = [&ana, &ben, &cy].iter().map(|u| u.stream_key.as_str()).collect();
    live.wait_receiving(&keys, 60).await;
    eprintln!("source live → first media at all {} sinks: {:.1} s", keys.len(), started.elapsed().as_secs_f64());

    for key in &keys {
        assert_eq!(probe_codecs(&live.sink.url(key)).await.unwrap_or_default(), ["aac", "h264"], "{key}");
    }
    report_usage(&live, 10).await;
    for user in [&ana, &ben, &cy] {
        let youtube_channel = user.channels[0].id;
        let meta = live.world.restream.channel_meta(youtube_channel).unwrap_or_else(|| panic!("{} titled", user.username));
        assert_eq!(meta.title, TITLE, "the whole title");
        assert!(meta.description.is_some_and(|d| d.contains(VIDEO)), "the description links the live");
        assert_eq!(live.world.restream.channel_meta(user.channels[1].id), None, "a disabled channel is not titled");
    }
    assert!(dee.channels.iter().all(|c| live.world.restream.channel_meta(c.id).is_none()), "the paused account is left alone");
    assert_eq!(live.sink.bytes_in(&dee.stream_key).await, 0, "nothing is streamed to the paused account");

    assert_eq!(live.world.restream.refresh_count(cy.id), 1, "one refresh for the expired token");
    let store = live.store().await;
    let stored = store
        .accounts()
        .await
        .ok()
        .and_then(|a| a.into_iter().find(|a| a.restream.user_id.0 == cy.id))
        .and_then(|a| a.tokens)
        .unwrap_or_else(|| panic!("Cy's tokens are stored"));
    let current = live.world.restream.tokens_of(cy.id).unwrap_or_else(|| panic!("Cy has a valid pair"));
    let cipher = cipher_of(&live.world);
    assert_eq!(cipher.open_secret(Purpose::RefreshToken, &stored.refresh).map(|s| s.expose().to_string()).ok(), Some(current.refresh));

    let live_record = store.live(&VideoId(VIDEO.into())).await.ok().flatten().unwrap_or_else(|| panic!("the live is stored"));
    assert_eq!((live_record.title.as_str(), live_record.state), (TITLE, LiveState::Streaming));
    assert_eq!(events_of(&store, EventKind::TitleUpdated).await.len(), 3);
    assert_eq!(events_of(&store, EventKind::DestinationJoined).await.len(), 3);
    assert_eq!(events_of(&store, EventKind::LiveDetected).await.len(), 1);

    // A second live on the channel while this one streams is recorded and left alone.
    let manifest = live.source.hls_url().unwrap_or_default();
    live.youtube.show(ChannelShows::Live { video_id: "SecondLive1".into(), title: "Another live".into(), manifest });
    eventually(15, "the second live is recorded", || async { !events_of(&store, EventKind::SecondLiveIgnored).await.is_empty() }).await;
    let before = live.sink.bytes_in(&ana.stream_key).await;
    eventually(10, "the first live goes on", || async { live.sink.bytes_in(&ana.stream_key).await > before }).await;
    assert_eq!(store.recent_lives(10).await.map(|l| l.len()).ok(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_goes_down_comes_back_and_the_others_never_stall() {
    let live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7101, "Ana").await;
    let (ben, _) = live.volunteer(7102, "Ben").await;
    // Restream fails every title update: streaming must not wait for titles.
    live.world.restream.fail_channel_meta(true);
    live.go_live();
    live.wait_receiving(&[&ana.stream_key, &ben.stream_key], 60).await;

    let cookie = live.admin_cookie().await;
    let state_of = |status: &app::dashboard::DashboardStatus, name: &str| {
        status.destinations.iter().find(|d| d.name == name).map(|d| d.state.to_string()).unwrap_or_default()
    };
    let before = live.dashboard(&cookie).await;
    assert_eq!(before.counts(), [("streaming", 2)], "the dashboard shows both streaming: {before:?}");
    assert_eq!(before.live.as_ref().map(|l| l.phase.to_string()).as_deref(), Some("streaming"));
    eventually(10, "the capacity plan counts both destinations at the input's bitrate", || async {
        let now = live.dashboard(&cookie).await;
        now.input_bps > 100_000
            && now.capacity.is_some_and(|c| c.port_bps == 100_000_000 && c.planned_bps == now.input_bps * 2 && c.advice.is_none())
    })
    .await;

    let patches = live.patches().await;
    live.sink.block(&ana.stream_key).await;
    let lost = Instant::now();
    eventually(15, "Ana's row turns retrying on the dashboard", || async { state_of(&live.dashboard(&cookie).await, "Ana") == "retrying" })
        .await;
    eprintln!("destination down → dashboard says retrying: {:.1} s", lost.elapsed().as_secs_f64());
    assert_eq!(state_of(&live.dashboard(&cookie).await, "Ben"), "streaming", "Ben's row is untouched");
    let mut last = live.sink.bytes_in(&ben.stream_key).await;
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let now = live.sink.bytes_in(&ben.stream_key).await;
        assert!(now > last, "Ben's stream never stalls while Ana's destination is down ({last} → {now})");
        last = now;
    }
    let down = live.sink.stats().await.unwrap_or_default();
    assert!(!down.iter().any(|s| s.name == ana.stream_key && s.publishing), "Ana's destination is down");

    live.sink.unblock(&ana.stream_key);
    let back = Instant::now();
    eventually(45, "Ana's destination receives again", || async {
        live.sink.stats().await.unwrap_or_default().iter().any(|s| s.name == ana.stream_key && s.publishing && s.bytes_in > 10_000)
    })
    .await;
    eprintln!("destination back → receiving again: {:.1} s", back.elapsed().as_secs_f64());
    eventually(10, "Ana's row is streaming again on the dashboard", || async {
        state_of(&live.dashboard(&cookie).await, "Ana") == "streaming"
    })
    .await;
    let after = live.dashboard(&cookie).await;
    assert!(after.destinations.iter().any(|d| d.name == "Ana" && d.reconnects >= 1 && d.last_error.is_some()), "{after:?}");
    assert_eq!(probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default(), ["aac", "h264"], "headers resent on reconnect");
    let store = live.store().await;
    assert_eq!(live.patches().await, patches, "titles were tried once (a 500 is tried again at once), not again on reconnect");
    assert_eq!(events_of(&store, EventKind::TitleFailed).await.len(), 2, "each failed title is an event");
    let statuses = reqwest::get(format!("{}/metrics", live.world.fanout.url())).await.unwrap_or_else(|e| panic!("{e}"));
    let metrics = statuses.text().await.unwrap_or_default();
    assert!(metrics.contains("fanout_destination_reconnects_total"), "{metrics}");
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_input_drop_keeps_the_live_and_a_long_one_ends_it() {
    let mut live = LiveWorld::start(25).await;
    let (ana, _) = live.volunteer(7201, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;

    // Short: the source stops for 10 s (input lost after 5 s without media), then resumes.
    live.source.stop().await;
    let store = live.store().await;
    eventually(20, "the input loss is recorded", || async { !events_of(&store, EventKind::InputLost).await.is_empty() }).await;
    live.source.start().await.unwrap_or_else(|e| panic!("{e}"));
    eventually(40, "the input comes back within the grace", || async { !events_of(&store, EventKind::InputRestored).await.is_empty() })
        .await;
    let before = live.sink.bytes_in(&ana.stream_key).await;
    eventually(20, "the sink receives again", || async { live.sink.bytes_in(&ana.stream_key).await > before }).await;
    assert_eq!(events_of(&store, EventKind::LiveDetected).await.len(), 1, "one live, one session");
    assert_eq!(live.patches().await, 1, "no second title update");

    // Long: the source stops for good; after 5 s + 25 s of grace the live ends.
    live.source.stop().await;
    eventually(60, "the live ends and is recorded", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Ended && l.ended_at.is_some())
    })
    .await;
    eventually(10, "the end is recorded as an event", || async {
        events_of(&store, EventKind::LiveStateChanged).await.iter().any(|m| m.starts_with("Live ended"))
    })
    .await;
    eventually(15, "the destination is closed", || async {
        !live.sink.stats().await.unwrap_or_default().iter().any(|s| s.name == ana.stream_key && s.publishing)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_live_fanout_resumes_the_same_live_without_titling_again() {
    let mut live = LiveWorld::start(30).await;
    let (ana, _) = live.volunteer(7301, "Ana").await;
    let (ben, _) = live.volunteer(7302, "Ben").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key, &ben.stream_key], 60).await;
    assert_eq!(live.patches().await, 2);

    live.world.kill_and_restart_fanout().await;
    let restarted = Instant::now();
    let store = live.store().await;
    eventually(60, "the restarted Fanout streams the live again", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Streaming)
            && events_of(&store, EventKind::LiveStateChanged).await.iter().any(|m| m.starts_with("Resuming the live"))
    })
    .await;
    for user in [&ana, &ben] {
        let before = live.sink.bytes_in(&user.stream_key).await;
        eventually(30, &format!("{} receives again after the restart", user.username), || async {
            live.sink.bytes_in(&user.stream_key).await > before + 50_000
        })
        .await;
    }
    eprintln!("restart → every sink receiving again: {:.1} s", restarted.elapsed().as_secs_f64());
    assert_eq!(live.patches().await, 2, "no duplicate title updates");
    let lives = store.recent_lives(10).await.unwrap_or_default();
    assert_eq!(lives.len(), 1, "the same live, resumed");
    assert_eq!(lives[0].state, LiveState::Streaming);
    assert!(events_of(&store, EventKind::LiveStateChanged).await.iter().any(|m| m.starts_with("Resuming the live")));
    assert_eq!(events_of(&store, EventKind::LiveDetected).await.len(), 1);
    let accounts = store.accounts().await.unwrap_or_default();
    assert!(accounts.iter().all(|a| a.status == AccountStatus::Active));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volunteers_joining_pausing_and_resuming_mid_live_change_only_their_own_destination() {
    let live = LiveWorld::start(30).await;
    let (ana, ana_link) = live.volunteer(7401, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;

    let (ben, _) = live.volunteer(7402, "Ben").await;
    live.wait_receiving(&[&ben.stream_key], 30).await;

    let act = |action: &str| live.world.http.post(format!("{}{ana_link}/{action}", live.world.fanout.url())).send();
    assert!(act("pause").await.is_ok_and(|r| r.status().is_redirection()));
    eventually(15, "Ana's destination leaves", || async { !live.publishing(&ana.stream_key).await }).await;
    let before = live.sink.bytes_in(&ben.stream_key).await;
    eventually(10, "Ben's goes on", || async { live.sink.bytes_in(&ben.stream_key).await > before }).await;

    assert!(act("resume").await.is_ok_and(|r| r.status().is_redirection()));
    eventually(30, "Ana's destination joins again", || live.publishing(&ana.stream_key)).await;
    let store = live.store().await;
    assert_eq!(events_of(&store, EventKind::DestinationLeft).await.len(), 1);
    assert_eq!(events_of(&store, EventKind::DestinationJoined).await.len(), 3, "Ana, Ben, Ana again");
    assert_eq!(live.patches().await, 2, "titles set once per account, not again on resume");
}
