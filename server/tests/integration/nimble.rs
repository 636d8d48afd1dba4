//! `FANOUT_BACKEND=nimble` end to end: the YouTube stand-in goes live with a real HLS source,
//! Fanout titles the channels through the Restream stand-in and drives the Nimble management-API
//! stand-in — one Fanout-owned republish rule per active account, gone when the account pauses
//! and when the live ends, foreign rules untouched — while its ingest (ffmpeg) publishes to
//! "Nimble's" RTMP ingest. The stand-in has no RTMP, so a real nginx-rtmp sink plays that part
//! and shows the bytes arriving. A Fanout killed mid-live adopts its rules when it starts
//! again. Also `fanout nimble-config` and the check report.

use std::time::Instant;

use app::model::{AccountStatus, EventKind, LiveState};
use app::store::{Store, VideoId};
use fanout_testworld::nginx::NginxSink;
use fanout_testworld::nimble::{NimbleStandIn, RepublishSteer};
use fanout_testworld::restream::StandInUser;
use fanout_testworld::source::LiveSource;
use fanout_testworld::youtube::{ChannelShows, YoutubeStandIn};
use serde_json::{Value, json};

use super::engine::{ADMIN_PASSWORD, admin_users, events_of};
use super::signup::World;
use super::*;

const VIDEO: &str = "NimbleLive1";
const TITLE: &str = "Satsang live on Nimble — day 3";
const TOKEN: &str = "Zq8-v1NfT3xK0pLr9aWm";
/// Where Fanout's ingest publishes inside "Nimble" (the nginx sink's application is `live`).
const INGEST_APP: &str = "live";
const INGEST_STREAM: &str = "fanout-ingest";
/// Restream's ingest as the rules' destinations name it (nothing connects to it: the stand-in
/// only keeps rules).
const RESTREAM_INGEST: &str = "rtmp://live.restream.example:1935/live";

/// The sign-up world plus YouTube, a live HLS source, the Nimble stand-in and the nginx sink
/// standing in for Nimble's RTMP ingest, with Fanout watching and `FANOUT_BACKEND=nimble`.
struct NimbleWorld {
    world: World,
    youtube: YoutubeStandIn,
    source: LiveSource,
    ingest: NginxSink,
    nimble: NimbleStandIn,
    _dir: tempfile::TempDir,
}

impl NimbleWorld {
    /// Fanout authorises with `fanout_token`; the stand-in expects [`TOKEN`].
    async fn start(fanout_token: &str, grace_secs: u64) -> Self {
        let dir = temp_dir();
        let nimble = NimbleStandIn::start(TOKEN).await.unwrap_or_else(|e| panic!("{e}"));
        let youtube = YoutubeStandIn::start().await.unwrap_or_else(|e| panic!("{e}"));
        let ingest = NginxSink::start(dir.path(), "nimble-ingest").await.unwrap_or_else(|e| panic!("{e}"));
        let source = LiveSource::hls(dir.path()).await.unwrap_or_else(|e| panic!("{e}"));
        let rtmp_base = ingest.ingest_base().trim_end_matches(&format!("/{INGEST_APP}")).to_string();
        let admin = admin_users();
        let grace = grace_secs.to_string();
        let world = World::start(&[
            ("FANOUT_YOUTUBE_CHANNEL", "@FanoutTestChannel"),
            ("FANOUT_YOUTUBE_URL", &youtube.url()),
            ("FANOUT_POLL_SECS", "1"),
            ("FANOUT_GRACE_SECS", &grace),
            ("FANOUT_RESTREAM_INGEST", RESTREAM_INGEST),
            ("FANOUT_RATE_LIMIT", "1000"),
            ("FANOUT_ADMIN_USERS", &admin),
            ("FANOUT_RELAY", "nimble"),
            ("FANOUT_NIMBLE_API", &nimble.url()),
            ("FANOUT_NIMBLE_TOKEN", fanout_token),
            ("FANOUT_NIMBLE_INGEST", &rtmp_base),
            ("FANOUT_NIMBLE_APP", INGEST_APP),
            ("FANOUT_NIMBLE_STREAM", INGEST_STREAM),
        ])
        .await;
        Self { world, youtube, source, ingest, nimble, _dir: dir }
    }

    async fn volunteer(&self, id: i64, name: &str) -> (StandInUser, String) {
        let user = self.world.user(id, name);
        let link = self.world.connect(name, id).await;
        (user, link)
    }

    async fn manage(&self, link: &str, action: &str) {
        let response = self.world.http.post(format!("{}{link}/{action}", self.world.fanout.url())).send().await;
        assert!(response.is_ok_and(|r| r.status().is_redirection()), "{action}");
    }

    fn go_live(&self) -> Instant {
        let manifest = self.source.hls_url().unwrap_or_default();
        self.youtube.show(ChannelShows::Live { video_id: VIDEO.into(), title: TITLE.into(), manifest });
        Instant::now()
    }

    /// Waits until the ingest publishes to "Nimble's" RTMP ingest; fails with the logs.
    async fn wait_ingest(&self, seconds: u64) {
        let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
        while self.ingest.bytes_in(INGEST_STREAM).await <= 50_000 {
            if Instant::now() > deadline {
                panic!(
                    "the ingest did not publish to Nimble's RTMP ingest within {seconds} s\n--- fanout:\n{}\n--- nginx:\n{}",
                    self.world.fanout.log(),
                    self.ingest.error_log()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The rules the stand-in holds that carry Fanout's marker.
    fn owned(&self) -> Vec<Value> {
        self.nimble.rules().into_iter().filter(|r| r["dest_stream_params"].as_str().is_some_and(|p| p.starts_with("fanout="))).collect()
    }

    /// Fanout's rule for stream key `key`, if there is one.
    fn rule_of(&self, key: &str) -> Option<Value> {
        self.owned().into_iter().find(|r| r["dest_stream"] == key)
    }

    /// The id of `user`'s rule (empty when there is none).
    fn rule_id(&self, user: &StandInUser) -> String {
        self.rule_of(&user.stream_key).and_then(|r| r["id"].as_str().map(String::from)).unwrap_or_default()
    }

    /// Successful calls of `method` on paths starting with `path`.
    fn calls(&self, method: &str, path: &str) -> usize {
        self.nimble.calls().iter().filter(|c| c.method == method && c.path.starts_with(path) && (200..300).contains(&c.status)).count()
    }

    async fn account_id(&self, user: &StandInUser) -> String {
        let accounts = self.world.store().await.accounts().await.unwrap_or_else(|e| panic!("{e}"));
        let account =
            accounts.into_iter().find(|a| a.restream.user_id.0 == user.id).unwrap_or_else(|| panic!("{} signed up", user.username));
        account.id.as_str().to_string()
    }

    async fn admin_cookie(&self) -> String {
        self.world.admin_cookie(ADMIN_PASSWORD).await
    }

    async fn dashboard(&self, cookie: &str) -> app::dashboard::DashboardStatus {
        self.world.dashboard(cookie).await
    }
}

fn row<'a>(status: &'a app::dashboard::DashboardStatus, name: &str) -> Option<&'a app::dashboard::DestinationRow> {
    status.destinations.iter().find(|d| d.name == name)
}

fn steer(state: &str, bandwidth: u64, retry_count: u64) -> RepublishSteer {
    RepublishSteer { state: state.into(), bandwidth, bytes_sent: bandwidth * 4, retry_count }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_on_nimble_gets_one_owned_rule_per_active_account_until_it_ends() {
    let mut live = NimbleWorld::start(TOKEN, 15).await;
    let foreign = live.nimble.add_rule(json!({
        "src_app": INGEST_APP, "src_stream": INGEST_STREAM, "dest_addr": "a.rtmp.youtube.com", "dest_port": 1935,
        "dest_app": "live2", "dest_stream": "someone-elses-key", "dest_app_params": "", "dest_stream_params": "",
        "auth_schema": "NONE", "dest_login": "", "dest_password": "", "keep_src_stream_params": false, "ssl": false,
    }));
    let (ana, _) = live.volunteer(8001, "Ana").await;
    let (ben, _) = live.volunteer(8002, "Ben").await;
    let (cy, cy_link) = live.volunteer(8003, "Cy").await;
    let (dee, dee_link) = live.volunteer(8004, "Dee").await;
    live.manage(&dee_link, "pause").await;

    let started = live.go_live();
    live.wait_ingest(60).await;
    eprintln!("source live → ingest publishing to the Nimble ingest: {:.1} s", started.elapsed().as_secs_f64());
    eventually(30, "one rule per active account", || async { live.owned().len() == 3 }).await;
    eprintln!("source live → every rule in Nimble: {:.1} s", started.elapsed().as_secs_f64());

    for user in [&ana, &ben, &cy] {
        let rule = live.rule_of(&user.stream_key).unwrap_or_else(|| panic!("{}'s rule", user.username));
        let marker = fanout_nimble::ownership::marker(&live.account_id(user).await);
        assert_eq!(rule["dest_stream_params"], marker.as_str(), "marked with the account");
        assert_eq!(
            (&rule["dest_addr"], &rule["dest_port"], &rule["dest_app"]),
            (&json!("live.restream.example"), &json!(1935), &json!("live"))
        );
        assert_eq!((&rule["src_app"], &rule["src_stream"], &rule["ssl"]), (&json!(INGEST_APP), &json!(INGEST_STREAM), &json!(false)));
        let meta = live.world.restream.channel_meta(user.channels[0].id).unwrap_or_else(|| panic!("{} titled", user.username));
        assert_eq!(meta.title, TITLE);
    }
    assert!(live.rule_of(&dee.stream_key).is_none(), "no rule for the paused account");
    assert_eq!(live.calls("POST", "/manage/rtmp/republish"), 3, "each rule made once");

    // Nimble says Ana's republish streams and Ben's reconnects; Cy's has no stats yet.
    live.nimble.set_stats(&live.rule_id(&ana), steer("connected", 2_500_000, 0));
    live.nimble.set_stats(&live.rule_id(&ben), steer("reconnecting", 0, 2));
    let cookie = live.admin_cookie().await;
    eventually(15, "the dashboard shows what Nimble's stats say, and the input's bitrate", || async {
        let now = live.dashboard(&cookie).await;
        let state = |name| row(&now, name).map(|r| r.state.to_string()).unwrap_or_default();
        // The input's bitrate is read from the ingest's progress: it needs a few seconds of it.
        (state("Ana"), state("Ben"), state("Cy"), state("Dee"))
            == ("streaming".into(), "retrying".into(), "connecting".into(), "paused".into())
            && now.input_bps > 100_000
    })
    .await;
    let now = live.dashboard(&cookie).await;
    assert_eq!(row(&now, "Ana").map(|r| (r.bitrate_bps, r.bytes_sent)), Some((2_500_000, 10_000_000)), "{now:?}");
    assert!(row(&now, "Ben").is_some_and(|r| r.reconnects == 2 && r.last_error.is_some()), "{now:?}");
    assert!(now.input_publishing && now.input_bps > 100_000, "the input is read from the ingest's progress: {now:?}");
    assert_eq!(now.live.as_ref().map(|l| l.phase.to_string()).as_deref(), Some("streaming"));

    // Killed mid-live, Fanout adopts its own rules when it starts again: none made twice.
    let orphans: Vec<u32> = live.world.fanout.pid().map(fanout_testworld::usage::tree).unwrap_or_default().into_iter().skip(1).collect();
    live.nimble.clear_calls();
    live.world.kill_and_restart_fanout().await;
    // Its ffmpeg outlives a SIGKILL and would go on publishing to Nimble: systemd's KillMode
    // ends a dead service's leftover processes; here the test does.
    for pid in orphans.into_iter().filter_map(|pid| i32::try_from(pid).ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    let restarted = Instant::now();
    let cookie = live.admin_cookie().await;
    eventually(60, "the restarted Fanout publishes again and shows Nimble's stats", || async {
        let now = live.dashboard(&cookie).await;
        let state = |name| row(&now, name).map(|r| r.state.to_string()).unwrap_or_default();
        now.input_publishing && now.input_bps > 0 && (state("Ana"), state("Ben")) == ("streaming".into(), "retrying".into())
    })
    .await;
    eprintln!("restart → publishing again with the rules adopted: {:.1} s", restarted.elapsed().as_secs_f64());
    assert_eq!(live.calls("POST", "/manage/rtmp/republish"), 0, "the leftover rules were adopted, not made again");
    assert_eq!(live.calls("DELETE", "/manage/rtmp/republish/"), 0);
    assert_eq!(live.owned().len(), 3);

    // Cy pauses: exactly Cy's rule goes; nothing else is touched.
    let cy_rule = live.rule_id(&cy);
    live.manage(&cy_link, "pause").await;
    let paused = Instant::now();
    eventually(15, "Cy's rule is deleted", || async { live.rule_of(&cy.stream_key).is_none() }).await;
    eprintln!("account paused → its rule deleted: {:.1} s", paused.elapsed().as_secs_f64());
    assert_eq!(live.calls("DELETE", &format!("/manage/rtmp/republish/{cy_rule}")), 1);
    assert_eq!(live.calls("DELETE", "/manage/rtmp/republish/"), 1, "only Cy's rule was deleted");
    assert_eq!(live.owned().len(), 2);

    let store = live.world.store().await;
    assert!(events_of(&store, EventKind::InputLost).await.is_empty(), "the input is alive on Nimble's path");
    assert_eq!(events_of(&store, EventKind::LiveDetected).await.len(), 1, "one live, resumed after the restart");
    assert!(events_of(&store, EventKind::DestinationFailed).await.is_empty());
    assert!(events_of(&store, EventKind::Backend).await.is_empty(), "a healthy Nimble reports no problem");
    let before = live.ingest.bytes_in(INGEST_STREAM).await;
    eventually(10, "the ingest keeps publishing", || async { live.ingest.bytes_in(INGEST_STREAM).await > before }).await;

    // The source stops for good: after 5 s without output and 15 s of grace the live ends, and
    // Fanout's rules go with it; the foreign one stays.
    live.source.stop().await;
    let stopped = Instant::now();
    eventually(60, "the live ends", || async {
        store.live(&VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == LiveState::Ended && l.ended_at.is_some())
    })
    .await;
    eventually(15, "Fanout's rules are removed", || async { live.owned().is_empty() }).await;
    eprintln!("source stopped → live ended and rules removed: {:.1} s", stopped.elapsed().as_secs_f64());
    let rules = live.nimble.rules();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["id"], foreign.as_str(), "the foreign rule is untouched");
    assert_eq!(live.calls("DELETE", &format!("/manage/rtmp/republish/{foreign}")), 0);
    assert!(events_of(&store, EventKind::InputLost).await.len() == 1);
    let accounts = store.accounts().await.unwrap_or_default();
    assert_eq!(accounts.iter().filter(|a| a.status == AccountStatus::Paused).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_nimble_token_is_an_event_and_a_fixed_one_brings_the_rules() {
    let live = NimbleWorld::start("Wrong-token-9f2c-0123456789", 30).await;
    let (ana, _) = live.volunteer(8101, "Ana").await;
    live.go_live();
    let store = live.world.store().await;
    eventually(60, "the refused token is recorded", || async {
        events_of(&store, EventKind::Backend).await.iter().any(|m| m.contains("management token"))
    })
    .await;
    let cookie = live.admin_cookie().await;
    eventually(15, "Ana's row says why nothing is sent", || async {
        row(&live.dashboard(&cookie).await, "Ana").is_some_and(|r| r.last_error.as_deref().is_some_and(|e| e.contains("management token")))
    })
    .await;
    assert!(live.nimble.rules().is_empty());
    assert!(live.nimble.calls().iter().all(|c| !c.authorized && c.status == 403), "every call was refused");
    let refused = events_of(&store, EventKind::Backend).await;
    assert_eq!(refused.iter().filter(|m| m.contains("management token")).count(), 1, "reported once, not every 5 s: {refused:?}");
    assert!(refused.iter().all(|m| !m.contains("Wrong-token") && !m.contains(TOKEN)), "{refused:?}");

    // Nimble is given the token Fanout has (as editing nimble.conf would): the rule comes.
    live.nimble.set_token("Wrong-token-9f2c-0123456789");
    eventually(15, "Ana's rule is made once the token is accepted", || async { live.rule_of(&ana.stream_key).is_some() }).await;
    eventually(15, "Ana's row no longer shows the refusal", || async {
        row(&live.dashboard(&cookie).await, "Ana").is_some_and(|r| r.last_error.is_none())
    })
    .await;
    eventually(10, "the recovery is recorded", || async {
        events_of(&store, EventKind::Backend).await.iter().any(|m| m.contains("works again"))
    })
    .await;
    let log = live.world.fanout.log();
    assert!(!log.contains("Wrong-token-9f2c") && !log.contains(&ana.stream_key), "no secret in the log");
}

#[tokio::test]
async fn nimble_config_renders_for_this_host_and_refuses_a_missing_or_weak_token() {
    let dir = temp_dir();
    let out = dir.path().join("nimble");
    let out_arg = out.display().to_string();
    let args = ["nimble-config", "--out", out_arg.as_str()];

    let missing = run(&args, dir.path(), &[]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("FANOUT_NIMBLE_TOKEN"), "{}", text(&missing.stderr));
    let weak = run(&args, dir.path(), &[("FANOUT_NIMBLE_TOKEN", "mypassword")]).await;
    assert_eq!(weak.status.code(), Some(1));
    assert!(text(&weak.stderr).contains("well-known default") && !text(&weak.stderr).contains("mypassword"), "{}", text(&weak.stderr));
    assert!(!out.join("nimble.conf").exists(), "nothing written when refused");

    let env = [("FANOUT_NIMBLE_TOKEN", TOKEN), ("FANOUT_NIMBLE_API", "http://127.0.0.1:8092"), ("FANOUT_NIMBLE_APP", "ingest")];
    let done = run(&args, dir.path(), &env).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        !text(&done.stdout).contains(TOKEN) && text(&done.stdout).contains("rtmp://127.0.0.1:1935/ingest/live"),
        "{}",
        text(&done.stdout)
    );
    let nimble_conf = std::fs::read_to_string(out.join("nimble.conf")).unwrap_or_else(|e| panic!("{e}"));
    let rules_conf = std::fs::read_to_string(out.join("rules.conf")).unwrap_or_else(|e| panic!("{e}"));
    assert!(nimble_conf.contains(&format!("management_token = {TOKEN}\n")) && nimble_conf.contains("management_port = 8092\n"));
    assert!(nimble_conf.contains("management_listen_interfaces = 127.0.0.1\n"));
    assert!(!nimble_conf.contains("{{") && !rules_conf.contains("{{"));
    let rules: Value = serde_json::from_str(&rules_conf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules["SyncResponse"]["RtmpSettings"]["apps"][0]["app"], "ingest");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join("nimble.conf")).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode, 0o600);

    // `fanout check` asks Nimble itself: the right token, a wrong one, nobody listening.
    let nimble = NimbleStandIn::start(TOKEN).await.unwrap_or_else(|e| panic!("{e}"));
    let check_with = |token: &'static str, api: String| {
        let data = dir.path().join("data");
        async move { run(&["check"], &data, &[("FANOUT_RELAY", "nimble"), ("FANOUT_NIMBLE_TOKEN", token), ("FANOUT_NIMBLE_API", &api)]).await }
    };
    let check = check_with(TOKEN, nimble.url()).await;
    let report = text(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.lines().any(|l| l.contains("FANOUT_NIMBLE_TOKEN") && l.contains("set (not shown)")), "{report}");
    assert!(report.lines().any(|l| l.contains("FANOUT_RELAY") && l.contains("nimble")), "{report}");
    assert!(report.lines().any(|l| l.contains("Nimble API") && l.contains("answers with the configured token")), "{report}");
    assert!(!report.contains(TOKEN), "{report}");

    let wrong = check_with("Another-token-that-is-long-enough", nimble.url()).await;
    let report = text(&wrong.stdout);
    assert_eq!(wrong.status.code(), Some(1), "a refused token is an error: {report}");
    assert!(report.lines().any(|l| l.contains("Nimble API") && l.contains("ERROR") && l.to_lowercase().contains("token")), "{report}");
    assert!(!report.contains("Another-token"), "{report}");

    let gone = format!("http://127.0.0.1:{}", fanout_testworld::ports::free_port().unwrap_or_else(|e| panic!("{e}")));
    let unreachable = check_with(TOKEN, gone).await;
    let report = text(&unreachable.stdout);
    assert!(unreachable.status.success(), "Fanout can start without Nimble: {report}");
    assert!(report.lines().any(|l| l.contains("Nimble API") && l.contains("warn") && l.contains("keep trying")), "{report}");
}
