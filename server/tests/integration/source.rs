//! The source as YouTube is in 2026, in the test world: yt-dlp (real, its generic extractor on
//! the stand-in's watch page) resolves the live; what YouTube puts in the way is named in events
//! and on the dashboard; a stream URL about to expire is replaced before it does, with no gap;
//! and the operator's levers (cookies, a proxy with a password, extra yt-dlp arguments) reach
//! yt-dlp and ffmpeg without a secret on any command line.
//!
//! What cannot run offline: yt-dlp's YouTube extractor itself (its clients, the `n` challenge
//! solved with deno, PO tokens) — `fanout check --youtube` is the canary for that on a real
//! server (README, "Check YouTube from the server").

use std::time::{Duration, Instant};

use app::model::{EventKind, SourceProblem};
use app::store::Store;
use fanout_testworld::proxy::HttpProxy;
use fanout_testworld::source::probe_codecs;
use fanout_testworld::youtube::ChannelShows;

use super::controls;
use super::engine::{LiveWorld, TITLE, VIDEO, events_of};
use super::*;

fn refused(status: &str, reason: &str) -> ChannelShows {
    ChannelShows::Refused { video_id: VIDEO.into(), title: TITLE.into(), status: status.into(), reason: reason.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_youtube_puts_in_the_way_is_named_with_what_to_do_and_clears_when_the_live_plays() {
    let live = LiveWorld::start(600).await;
    let (ana, _) = live.volunteer(9901, "Ana").await;
    let cookie = live.admin_cookie().await;
    let store = live.store().await;
    let client = reqwest::Client::new();
    let base = live.world.fanout.url().to_string();
    let cases = [
        (refused("LOGIN_REQUIRED", "Sign in to confirm you’re not a bot"), SourceProblem::BotWall),
        (ChannelShows::Consent, SourceProblem::ConsentWall),
        (refused("LOGIN_REQUIRED", "Join this channel to get access to members-only content like this video"), SourceProblem::MembersOnly),
    ];
    for (shows, problem) in cases {
        live.youtube.show(shows);
        eventually(30, &format!("the dashboard names {problem}"), || async {
            live.dashboard(&cookie).await.source_problem.is_some_and(|note| note.problem == problem)
        })
        .await;
        let page = client.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
        let page = page.text().await.unwrap_or_default();
        assert!(page.contains(&format!("data-problem=\"{problem}\"")), "the banner for {problem}");
        assert!(page.contains(&leptos_escaped(problem.advice())), "the banner says what to do about {problem}");
        if problem == SourceProblem::BotWall {
            // The refused live starts (yt-dlp may play what the page refuses, e.g. with
            // cookies), and its ingest says why it cannot.
            eventually(60, "the ingest names the bot wall", || async {
                live.dashboard(&cookie).await.ingest_problem.is_some_and(|note| note.problem == problem)
            })
            .await;
        }
        let events = events_of(&store, EventKind::SourceProblem).await;
        assert!(events.iter().any(|e| e.contains(problem.summary())), "an event for {problem}: {events:?}");
    }
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;
    eventually(30, "the banners go once the live plays", || async {
        let status = live.dashboard(&cookie).await;
        status.source_problem.is_none() && status.ingest_problem.is_none()
    })
    .await;
    let page = client.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!page.text().await.unwrap_or_default().contains("data-problem="), "no banner left");
}

/// How Leptos writes `text` into HTML.
fn leptos_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_url_about_to_expire_is_replaced_before_it_does_with_no_gap_at_the_sink() {
    let live = LiveWorld::start(30).await;
    // YouTube's URLs last about 6 h; these, 40 s: a fresh pull is due halfway.
    live.youtube.expire_manifests(Some(Duration::from_secs(40)));
    let (ana, _) = live.volunteer(9911, "Ana").await;
    let cookie = live.admin_cookie().await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    let restarts_before = live.dashboard(&cookie).await.ingest_restarts;

    // Watch the sink's byte counter for longer than two URLs last.
    let watched = Instant::now();
    let (mut last, mut last_growth, mut longest_gap) = (live.sink.bytes_in(&ana.stream_key).await, Instant::now(), Duration::ZERO);
    while watched.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = live.sink.bytes_in(&ana.stream_key).await;
        if now > last {
            longest_gap = longest_gap.max(last_growth.elapsed());
            (last, last_growth) = (now, Instant::now());
        }
    }
    longest_gap = longest_gap.max(last_growth.elapsed());
    let log = live.world.fanout.log();
    let takeovers = log.matches("the fresh pull took over").count();
    eprintln!("URLs expiring every 40 s over 90 s: {takeovers} takeovers, longest gap at the sink {:.2} s", longest_gap.as_secs_f64());
    assert!(takeovers >= 2, "a fresh pull took over before each URL expired:\n{log}");
    let status = live.dashboard(&cookie).await;
    assert_eq!(status.ingest_restarts, restarts_before, "no restart: the pull was replaced, not lost");
    let store = live.store().await;
    assert!(events_of(&store, EventKind::InputLost).await.is_empty(), "the input was never lost");
    assert!(longest_gap < Duration::from_secs(5), "the sink never went 5 s without media (longest {longest_gap:?})");
    assert_eq!(probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default(), ["aac", "h264"], "still a playable stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_a_proxy_with_a_password_and_extra_arguments_reach_yt_dlp_and_ffmpeg_with_no_secret_shown() {
    const PASSWORD: &str = "pr0xy-pa55-7Qz";
    const COOKIE: &str = "SIDsecret-cookie-4kQ";
    let dir = temp_dir();
    let proxy = HttpProxy::start(dir.path(), "ana", PASSWORD).await.unwrap_or_else(|e| panic!("{e}"));
    let cookies = dir.path().join("cookies.txt");
    std::fs::write(&cookies, format!("# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t2147483647\tSID\t{COOKIE}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&cookies, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap_or_else(|e| panic!("{e}"));
    // yt-dlp behind a wrapper that records what it was given, then runs it.
    let record = dir.path().join("yt-dlp-runs");
    std::fs::create_dir_all(&record).unwrap_or_else(|e| panic!("{e}"));
    let wrapper = dir.path().join("yt-dlp");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}/argv.'$$\nenv > '{0}/env.'$$\nexec '{1}' \"$@\"\n",
        record.display(),
        fanout_testworld::user_tool("yt-dlp")
    );
    std::fs::write(&wrapper, script).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));

    let proxy_url = proxy.url_with_credentials();
    let (wrapper_path, cookies_path) = (wrapper.display().to_string(), cookies.display().to_string());
    let live = LiveWorld::start_with(
        30,
        &[
            ("FANOUT_YT_DLP", wrapper_path.as_str()),
            ("FANOUT_YT_COOKIES", cookies_path.as_str()),
            ("FANOUT_YT_PROXY", proxy_url.as_str()),
            ("FANOUT_YT_DLP_ARGS", "--socket-timeout 15 --extractor-retries 1"),
        ],
    )
    .await;
    let (ana, _) = live.volunteer(9921, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;

    // yt-dlp: the extra arguments, a private copy of the cookies, the loopback forwarder.
    let runs: Vec<_> = std::fs::read_dir(&record).unwrap_or_else(|e| panic!("{e}")).flatten().map(|e| e.path()).collect();
    let argv_file = runs.iter().find(|p| p.to_string_lossy().contains("argv.")).unwrap_or_else(|| panic!("yt-dlp ran"));
    let argv: Vec<String> = std::fs::read_to_string(argv_file).unwrap_or_default().lines().map(str::to_string).collect();
    let after = |flag: &str| argv.iter().position(|a| a == flag).and_then(|i| argv.get(i + 1)).cloned().unwrap_or_default();
    assert_eq!(after("--socket-timeout"), "15", "the extra arguments: {argv:?}");
    assert!(argv.contains(&"--ignore-config".to_string()), "{argv:?}");
    let copy = after("--cookies");
    assert!(!copy.is_empty() && copy != cookies_path, "yt-dlp gets a private copy of the cookies, not the operator's file: {argv:?}");
    let forwarder = after("--proxy");
    assert!(forwarder.starts_with("http://127.0.0.1:") && !forwarder.ends_with(&format!(":{}", proxy.port())), "{argv:?}");
    // Nothing secret on any child's command line or in its environment.
    let mut seen: Vec<String> = runs.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    let pid = live.world.fanout.pid().unwrap_or_else(|| panic!("pid"));
    for child in fanout_testworld::usage::tree(pid).into_iter().filter(|p| *p != pid) {
        let read = |what: &str| std::fs::read(format!("/proc/{child}/{what}")).map(|b| text(&b).replace('\0', " ")).unwrap_or_default();
        seen.push(format!("{}\n{}", read("cmdline"), read("environ")));
    }
    for (i, what) in seen.iter().enumerate() {
        for secret in [PASSWORD, COOKIE, "FANOUT_"] {
            assert!(!what.contains(secret), "a child was given {secret:?} ({i}):\n{what}");
        }
    }
    assert!(seen.iter().any(|s| s.contains("-http_proxy")), "ffmpeg goes through the proxy too");
    // Every path to YouTube went through the operator's proxy: the page, the watch page
    // (yt-dlp), the media (ffmpeg).
    let requests = proxy.requests();
    for path in ["/live", "/watch?v=", ".m3u8", ".ts"] {
        assert!(requests.iter().any(|r| r.contains(path)), "no request for {path} through the proxy: {requests:?}");
    }
    assert!(!live.world.fanout.log().contains(PASSWORD) && !live.world.fanout.log().contains(COOKIE), "Fanout's log keeps both secret");
    // The admin's Settings show each lever, the proxy without its password.
    let admin = controls::Admin::sign_in(&live).await;
    let settings: app::admin::AdminSettings = admin.get_json("/api/admin_settings").await;
    let value = |name: &str| settings.rows.iter().find(|r| r.name == name).map(|r| r.value.clone()).unwrap_or_default();
    assert!(value("FANOUT_YT_PROXY").contains(&format!("127.0.0.1:{}", proxy.port())), "{:?}", settings.rows);
    assert!(value("FANOUT_YT_COOKIES").contains("cookies.txt") && value("FANOUT_YT_DLP_ARGS").contains("--socket-timeout 15"));
    let shown = format!("{:?}", settings.rows);
    assert!(!shown.contains(PASSWORD) && !shown.contains(COOKIE), "{shown}");
    assert_eq!(probe_codecs(&live.sink.url(&ana.stream_key)).await.unwrap_or_default(), ["aac", "h264"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yt_dlp_is_updated_between_lives_never_during_one() {
    // yt-dlp's updater cannot run here (it would change this machine's yt-dlp): a wrapper stands
    // in for `--version` and `--update-to`, and hands everything else to the real yt-dlp.
    let dir = temp_dir();
    let state = dir.path();
    std::fs::write(state.join("version"), "2026.10.26\n").unwrap_or_else(|e| panic!("{e}"));
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n  --version) cat '{0}/version' ;;\n  --update-to) date +%s >> '{0}/updates'; echo 2026.11.30 > '{0}/version'; echo 'Updated yt-dlp to stable@2026.11.30' ;;\n  *) exec '{1}' \"$@\" ;;\nesac\n",
        state.display(),
        fanout_testworld::user_tool("yt-dlp")
    );
    let wrapper = state.join("yt-dlp");
    std::fs::write(&wrapper, script).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
    let wrapper = wrapper.display().to_string();
    let mut live = LiveWorld::start_with(10, &[("FANOUT_YT_DLP", wrapper.as_str()), ("FANOUT_YT_DLP_AUTO_UPDATE", "true")]).await;
    let started = Instant::now();
    let (ana, _) = live.volunteer(9931, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    // The first update falls due 30 s after start: the live is on, so it waits.
    while started.elapsed() < Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(!state.join("updates").exists(), "no update during a live");
    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    live.source.stop().await;
    let store = live.store().await;
    eventually(60, "yt-dlp is updated once the live has ended", || async {
        events_of(&store, EventKind::ToolUpdated).await.iter().any(|e| e.contains("from 2026.10.26 to 2026.11.30"))
    })
    .await;
    let updates = std::fs::read_to_string(state.join("updates")).unwrap_or_default();
    assert_eq!(updates.lines().count(), 1, "one update");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youtube_saying_the_live_ended_ends_the_restream_while_media_still_flows() {
    let live = LiveWorld::start(600).await;
    let (ana, _) = live.volunteer(9941, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    // The broadcaster ended the live on YouTube, but media keeps coming (the source runs on).
    let said = Instant::now();
    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    let store = live.store().await;
    eventually(20, "the live ends on YouTube's word", || async {
        store.live(&app::store::VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == app::model::LiveState::Ended)
    })
    .await;
    eprintln!("YouTube says ended → live ended in Fanout: {:.1} s (1 s polls, two looks)", said.elapsed().as_secs_f64());
    let events = events_of(&store, EventKind::LiveStateChanged).await;
    assert!(events.iter().any(|e| e.contains("YouTube says") && e.contains("has ended")), "{events:?}");
    eventually(20, "the destination is closed", || async { !live.publishing(&ana.stream_key).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_data_api_key_a_live_is_found_and_ended_without_a_look_at_the_live_page() {
    use fanout_testworld::youtube::data_api::STAND_IN_API_KEY;
    let live = LiveWorld::start_with_api(600, STAND_IN_API_KEY).await;
    let (ana, _) = live.volunteer(9951, "Ana").await;
    let idle = Instant::now();
    let calls_before = live.youtube.api_requests();
    eventually(10, "the API is polled", || async { live.youtube.api_requests() > calls_before + 3 }).await;
    let idle_calls = live.youtube.api_requests() - calls_before;
    let idle_secs = idle.elapsed().as_secs_f64();

    let started = live.go_live();
    live.wait_receiving(&[&ana.stream_key], 60).await;
    eprintln!("live on the API → first media at the sink: {:.1} s (1 s polls)", started.elapsed().as_secs_f64());
    let meta = live.world.restream.channel_meta(ana.channels[0].id).unwrap_or_else(|| panic!("titled"));
    assert_eq!(meta.title, TITLE, "the title comes from the API's snippet");
    let live_calls_before = live.youtube.api_requests();
    let during = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await; // a window to measure the rate over
    let live_rate = (live.youtube.api_requests() - live_calls_before) as f64 / during.elapsed().as_secs_f64();

    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    let store = live.store().await;
    eventually(20, "the live ends on the API's word", || async {
        store.live(&app::store::VideoId(VIDEO.into())).await.ok().flatten().is_some_and(|l| l.state == app::model::LiveState::Ended)
    })
    .await;
    assert_eq!(live.youtube.requests(), 0, "no /live page request: detection went through the API alone");
    let idle_rate = idle_calls as f64 / idle_secs;
    eprintln!(
        "Data API calls: {idle_rate:.2}/s idle, {live_rate:.2}/s during the live with 1 s polls → with the default 15 s polls \
         about {:.0} quota units a day idle, {:.0} a day live (of 10 000)",
        idle_rate * 86_400.0 / 15.0,
        live_rate * 86_400.0 / 15.0
    );
    assert!(idle_rate <= 1.3, "about one unit a poll while nothing happens ({idle_rate:.2}/s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_data_api_key_is_a_banner_that_says_what_to_fix_and_never_shows_the_key() {
    const WRONG: &str = "AIzaWrongKeyWrongKeyWrongKey0000000000";
    let live = LiveWorld::start_with_api(600, WRONG).await;
    let cookie = live.admin_cookie().await;
    eventually(20, "the dashboard names the refused key", || async {
        live.dashboard(&cookie).await.source_problem.is_some_and(|note| note.problem == SourceProblem::DataApiRefused)
    })
    .await;
    let status = live.dashboard(&cookie).await;
    let note = status.source_problem.clone().unwrap_or_else(|| panic!("a problem"));
    assert!(note.detail.contains("API key not valid") && note.message().contains("FANOUT_YT_API_KEY"), "{note:?}");
    let store = live.store().await;
    let events = events_of(&store, EventKind::SourceProblem).await;
    assert!(events.iter().any(|e| e.contains("Data API")), "{events:?}");
    assert!(!format!("{events:?}{:?}{}", status.source_problem, live.world.fanout.log()).contains(WRONG), "the key is never shown");
}
