//! `fanout check`: the report, its exit status, and that it changes nothing.

use super::*;

#[tokio::test]
async fn defaults_pass_with_warnings_and_nothing_is_created() {
    let dir = temp_dir();
    let data_dir = dir.path().join("data");
    let output = run(&["check"], &data_dir, &[]).await;
    let report = text(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("0 error(s)") && report.contains("Fanout can start."), "{report}");
    let warned = |name: &str| report.lines().any(|line| line.trim_start().starts_with("warn") && line.contains(name));
    assert!(warned("RESTREAM_CLIENT_ID") && warned("FANOUT_YOUTUBE_CHANNEL"), "{report}");
    assert!(!data_dir.exists(), "check creates nothing");
}

#[tokio::test]
async fn a_malformed_key_fails_the_check_and_says_why() {
    let dir = temp_dir();
    let output = run(&["check"], dir.path(), &[("FANOUT_SECRET_KEY", "dG9vIHNob3J0")]).await;
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("FANOUT_SECRET_KEY") && report.contains("must be exactly 32 bytes"), "{report}");
    assert!(report.contains("cannot start until the errors are fixed"));
    assert!(!report.contains("dG9vIHNob3J0"), "the key is never printed");
}

#[tokio::test]
async fn the_wrong_key_for_an_existing_store_fails_the_check() {
    let dir = temp_dir();
    let data_dir = data_dir_after_one_run(dir.path()).await;

    let good = run(&["check"], &data_dir, &[]).await;
    let good_report = text(&good.stdout);
    assert!(good.status.success(), "{good_report}");
    assert!(good_report.contains("SQLite reachable") && good_report.contains("were sealed with key"), "{good_report}");

    let other_key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let bad = run(&["check"], &data_dir, &[("FANOUT_SECRET_KEY", other_key)]).await;
    let report = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{report}");
    assert!(report.contains("secret key vs store") && report.contains("sealed with key"), "{report}");

    std::fs::remove_file(data_dir.join("secret.key")).unwrap_or_else(|e| panic!("{e}"));
    let lost = run(&["check"], &data_dir, &[]).await;
    let report = text(&lost.stdout);
    assert_eq!(lost.status.code(), Some(1), "{report}");
    assert!(report.contains("restore the key"), "{report}");
}

#[tokio::test]
async fn an_unreachable_mongodb_fails_the_check() {
    let dir = temp_dir();
    let output =
        run(&["check"], dir.path(), &[("FANOUT_MONGO_URI", "mongodb://fanout:pw-never-shown@127.0.0.1:9/?connectTimeoutMS=500")]).await;
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("cannot reach MongoDB") || report.contains("MongoDB store"), "{report}");
    assert!(!report.contains("pw-never-shown"), "{report}");
}

#[tokio::test]
async fn the_source_tools_versions_are_reported_and_a_stale_yt_dlp_is_a_warning_that_says_how_to_update() {
    let dir = temp_dir();
    // Any installed yt-dlp is younger than this: the report says its age as "ok".
    let output = run(&["check"], dir.path(), &[("FANOUT_YT_DLP_MAX_AGE_DAYS", "100000")]).await;
    let report = text(&output.stdout);
    let line = |name: &str| report.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap_or_default().to_string();
    assert!(line("yt-dlp").trim_start().starts_with("ok") && line("yt-dlp").contains("days old"), "{report}");
    assert!(line("ffmpeg").contains("ffmpeg version"), "{report}");

    let stale = run(&["check"], dir.path(), &[("FANOUT_YT_DLP_MAX_AGE_DAYS", "1")]).await;
    let report = text(&stale.stdout);
    let warning = report.lines().find(|l| l.split_whitespace().nth(1) == Some("yt-dlp")).unwrap_or_default();
    assert!(warning.trim_start().starts_with("warn") && warning.contains("--update-to stable"), "{report}");
    assert!(stale.status.success(), "a stale yt-dlp is a warning, not an error: {report}");
}

/// `fanout check --youtube` against the YouTube stand-in: the whole path, then a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_youtube_tries_the_engines_path_end_to_end_and_names_what_stands_in_the_way() {
    use fanout_testworld::source::LiveSource;
    use fanout_testworld::youtube::{ChannelShows, YoutubeStandIn};
    let dir = temp_dir();
    let youtube = YoutubeStandIn::start().await.unwrap_or_else(|e| panic!("{e}"));
    let source = LiveSource::hls(dir.path()).await.unwrap_or_else(|e| panic!("{e}"));
    let base = youtube.url();
    let env = [("FANOUT_YOUTUBE_CHANNEL", "@FanoutTestChannel"), ("FANOUT_YOUTUBE_URL", base.as_str())];

    let quiet = run(&["check", "--youtube"], dir.path(), &env).await;
    let report = text(&quiet.stdout);
    assert!(quiet.status.success() && report.contains("not live now"), "{report}");

    let manifest = source.hls_url().unwrap_or_default();
    youtube.show(ChannelShows::Live { video_id: "CanaryLive1".into(), title: "The canary".into(), manifest });
    let live = run(&["check", "--youtube"], dir.path(), &env).await;
    let report = text(&live.stdout);
    assert!(live.status.success(), "{report}");
    for expected in ["live now: “The canary”", "yt-dlp: a stream on 127.0.0.1", "ffmpeg read 3 s of the live"] {
        assert!(report.contains(expected), "{expected:?} missing:\n{report}");
    }
    // With a Data API key the canary looks through the API, as the engine would.
    let api = youtube.api_url();
    let key = fanout_testworld::youtube::data_api::STAND_IN_API_KEY;
    let with_api = [env[0], env[1], ("FANOUT_YT_API_KEY", key), ("FANOUT_YT_API_URL", api.as_str())];
    let pages_before = youtube.requests();
    let through_api = run(&["check", "--youtube"], dir.path(), &with_api).await;
    let report = text(&through_api.stdout);
    assert!(through_api.status.success() && report.contains("Data API") && report.contains("live now: “The canary”"), "{report}");
    assert!(youtube.api_requests() > 0 && youtube.requests() == pages_before, "the API, not the page: {report}");
    assert!(!report.contains(key), "the key is not shown");

    let watch = format!("{}/watch?v=CanaryLive1", base.trim_end_matches('/'));
    let given = run(&["check", "--youtube", &watch], dir.path(), &env).await;
    assert!(given.status.success() && text(&given.stdout).contains("ffmpeg read 3 s"), "{}", text(&given.stdout));

    youtube.show(ChannelShows::Refused {
        video_id: "CanaryLive1".into(),
        title: "The canary".into(),
        status: "LOGIN_REQUIRED".into(),
        reason: "Sign in to confirm you’re not a bot".into(),
    });
    let walled = run(&["check", "--youtube"], dir.path(), &env).await;
    let report = text(&walled.stdout);
    assert_eq!(walled.status.code(), Some(1), "{report}");
    assert!(report.contains("confirm it is not a bot") && report.contains("FANOUT_YT_COOKIES"), "{report}");
}

#[tokio::test]
async fn bad_notification_settings_fail_the_check_without_showing_their_secrets() {
    let dir = temp_dir();
    let env = [
        ("FANOUT_SMTP_URL", "smtp://fanout:pa55word@mail.example.org:587?tls=sometimes"),
        ("FANOUT_MAIL_FROM", "Fanout <fanout@example.org>"),
        ("FANOUT_NOTIFY_EMAILS", "ops@example.org,not-an-address"),
        ("FANOUT_WEBHOOK_URLS", "https://discord.com/api/webhooks/1/hooktok3n,ftp://example.org/othertok3n"),
    ];
    let output = run(&["check"], dir.path(), &env).await;
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let error = |name: &str| report.lines().any(|line| line.trim_start().starts_with("ERROR") && line.contains(name));
    assert!(error("FANOUT_SMTP_URL") && error("FANOUT_NOTIFY_EMAILS") && error("FANOUT_WEBHOOK_URLS"), "{report}");
    assert!(report.contains("“not-an-address” is not an e-mail address"), "{report}");
    assert!(report.contains("webhook #1 (discord.com, discord)"), "the good webhook is named by its host: {report}");
    for secret in ["pa55word", "hooktok3n", "othertok3n"] {
        assert!(!report.contains(secret), "{secret} printed:\n{report}");
    }
}

#[tokio::test]
async fn bad_node_settings_fail_the_check_and_say_which_and_why() {
    let dir = temp_dir();
    let env = [("FANOUT_NODE_NAME", "node a"), ("FANOUT_NODE_RELAY_URL", "http://10.0.0.2/fanout")];
    let output = run(&["check"], dir.path(), &env).await;
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let error = |name: &str, why: &str| {
        report.lines().any(|line| line.trim_start().starts_with("ERROR") && line.contains(name) && line.contains(why))
    };
    assert!(error("FANOUT_PORT_MBPS", "go together"), "the missing third is named: {report}");
    assert!(error("FANOUT_NODE_NAME", "a node name holds only"), "{report}");
    assert!(error("FANOUT_NODE_RELAY_URL", "must be an rtmp:// URL"), "{report}");

    let good = [("FANOUT_NODE_NAME", "node-a"), ("FANOUT_NODE_RELAY_URL", "rtmp://10.0.0.2:1935/fanout"), ("FANOUT_PORT_MBPS", "1000")];
    let output = run(&["check"], dir.path(), &good).await;
    let report = text(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("node node-a of a cluster") && report.contains("the cluster's nodes must share this host"), "{report}");
}
