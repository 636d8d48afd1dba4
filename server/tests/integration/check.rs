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
