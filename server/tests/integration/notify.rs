//! Notifications end to end, read where they land: a real SMTP server and a webhook recorder on
//! loopback (`fanout_testworld::{smtp, webhook}`). A live that starts and ends in the test world
//! is mailed to the admins (the relay refusing the first try with a 451 shows the retry) and
//! posted to a Discord-, a Slack- and a generic webhook in their shapes (the end's mail links
//! the live's report, whose page charts the samples stored while it streamed); YouTube's bot wall is
//! told, and a webhook that keeps failing ends as a `notification_failed` event; the Settings'
//! test message reports each channel. No token of a webhook reaches the log or the events.

use app::model::EventKind;
use app::store::{Store, VideoId};
use fanout_testworld::smtp::SmtpSink;
use fanout_testworld::webhook::WebhookRecorder;
use fanout_testworld::youtube::ChannelShows;

use super::engine::{ADMIN_PASSWORD, LiveWorld, TITLE, VIDEO, admin_users, events_of};
use super::signup::World;
use super::*;

const FROM: &str = "Fanout <fanout@example.org>";
const ADMIN_MAIL: &str = "ops@example.org";

/// The notification settings pointing at `sink` and `hooks` (paths under the recorder).
fn settings(sink: &SmtpSink, recorder: &WebhookRecorder, hooks: &[&str]) -> Vec<(String, String)> {
    let hooks: Vec<String> = hooks.iter().map(|h| h.replace("{}", &recorder.url(""))).collect();
    vec![
        ("FANOUT_SMTP_URL".into(), sink.url()),
        ("FANOUT_MAIL_FROM".into(), FROM.into()),
        ("FANOUT_NOTIFY_EMAILS".into(), ADMIN_MAIL.into()),
        ("FANOUT_WEBHOOK_URLS".into(), hooks.join(",")),
    ]
}

fn borrowed(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn subjects(sink: &SmtpSink) -> Vec<String> {
    sink.mails().iter().map(fanout_testworld::smtp::Mail::subject).collect()
}

fn field(body: &serde_json::Value, name: &str) -> String {
    body.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_that_starts_and_ends_is_mailed_to_the_admins_and_posted_to_each_webhook_in_its_shape() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let recorder = WebhookRecorder::start().await.unwrap_or_else(|e| panic!("{e}"));
    let env = settings(&sink, &recorder, &["discord+{}discord/tok3n-d", "slack+{}slack/tok3n-s", "{}json/tok3n-j"]);
    // The relay says "try again later" to the first message.
    sink.refuse_next(1);
    let live = LiveWorld::start_with(30, &borrowed(&env)).await;
    let (ana, _) = live.volunteer(9301, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;

    let started = "Live started: 1 destination streaming";
    eventually(60, "the admins are mailed that the live started", || async { subjects(&sink).iter().any(|s| s == started) }).await;
    assert_eq!(sink.refused(), 1, "the first try was refused, and the message came on a later one");
    let mail = sink.mails().into_iter().find(|m| m.subject() == started).unwrap_or_else(|| panic!("mail"));
    assert_eq!(mail.to, vec![ADMIN_MAIL.to_string()]);
    assert_eq!(mail.from, "fanout@example.org");
    assert!(mail.body.contains(TITLE) && mail.body.contains("/admin"), "{}", mail.body);
    eventually(30, "every webhook hears it", || async {
        [("discord/tok3n-d", "content"), ("slack/tok3n-s", "text"), ("json/tok3n-j", "subject")]
            .iter()
            .all(|(path, name)| recorder.bodies(path).iter().any(|b| field(b, name).starts_with(started)))
    })
    .await;
    let json = recorder.bodies("json/tok3n-j");
    assert_eq!(field(&json[0], "event"), "live_started");
    assert!(recorder.bodies("discord/tok3n-d")[0].get("text").is_none(), "Discord's shape is {{content}} alone");

    // The report's samples are stored while the live streams (one every 10 s).
    let (store, video) = (live.store().await, VideoId(VIDEO.into()));
    eventually(40, "a sample of the live streaming to Ana is stored", || async {
        store.live_samples(&video).await.unwrap_or_default().iter().any(|s| s.streaming == 1 && s.egress_bps > 0)
    })
    .await;

    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    eventually(90, "the admins are mailed that the live ended", || async {
        subjects(&sink).iter().any(|s| s.starts_with("Live ended: ") && s.ends_with("peak 1 destination, 0 failures"))
    })
    .await;
    eventually(30, "and the webhooks", || async {
        recorder.bodies("slack/tok3n-s").iter().any(|b| field(b, "text").starts_with("Live ended: "))
            && recorder.bodies("json/tok3n-j").iter().any(|b| field(b, "event") == "live_ended")
    })
    .await;
    eprintln!("captured mails: {:?}", subjects(&sink));
    // The message links the live's report, which shows what was sampled during the live.
    let ended = sink.mails().into_iter().find(|m| m.subject().starts_with("Live ended: ")).unwrap_or_else(|| panic!("mail"));
    let report = format!("{}/admin/lives/{VIDEO}", live.world.fanout.url().trim_end_matches('/'));
    assert!(ended.body.contains(&format!("Its report: {report}")), "{}", ended.body);
    let samples = store.live_samples(&video).await.unwrap_or_else(|e| panic!("{e}"));
    eprintln!("samples stored: {samples:?}");
    let cookie = live.admin_cookie().await;
    let page = live.world.http.get(&report).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    assert!(page.contains(r#"id="report-title""#) && page.contains("Ana"), "the report names the live and its destination: {page}");
    assert!(page.contains(&format!(r#"data-points="{}""#, samples.len())), "one point per stored sample: {page}");
    let log = live.world.fanout.log();
    assert!(log.contains("notification sent"), "sending is logged");
    assert!(!log.contains("tok3n"), "no webhook's token in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_wall_is_told_and_a_webhook_that_keeps_failing_ends_as_an_event_without_its_token() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let recorder = WebhookRecorder::start().await.unwrap_or_else(|e| panic!("{e}"));
    recorder.answer("broken/tok3n-b", 500);
    let env = settings(&sink, &recorder, &["{}ok/tok3n-o", "{}broken/tok3n-b"]);
    let live = LiveWorld::start_with(600, &borrowed(&env)).await;
    live.youtube.show(ChannelShows::Refused {
        video_id: VIDEO.into(),
        title: TITLE.into(),
        status: "LOGIN_REQUIRED".into(),
        reason: "Sign in to confirm you’re not a bot".into(),
    });
    eventually(60, "the admins are mailed about the bot wall", || async {
        subjects(&sink).iter().any(|s| s == "YouTube refused us (bot wall)")
    })
    .await;
    eventually(10, "the working webhook hears it", || async {
        recorder.bodies("ok/tok3n-o").iter().any(|b| field(b, "event") == "youtube_refused")
    })
    .await;
    let store = live.store().await;
    eventually(60, "the failing webhook's message ends as an event", || async {
        !events_of(&store, EventKind::NotificationFailed).await.is_empty()
    })
    .await;
    let failed = events_of(&store, EventKind::NotificationFailed).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("webhook #2 (127.0.0.1, json): “YouTube refused us (bot wall)” not delivered after 5 tries"),
        "{failed:?}"
    );
    assert!(failed[0].contains("HTTP 500"), "{failed:?}");
    assert_eq!(recorder.bodies("broken/tok3n-b").len(), 5, "tried five times");
    assert!(!failed[0].contains("tok3n") && !live.world.fanout.log().contains("tok3n"), "the token stays out of events and logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_message_from_the_settings_reaches_every_channel_and_says_how_each_went() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let recorder = WebhookRecorder::start().await.unwrap_or_else(|e| panic!("{e}"));
    recorder.answer("broken/tok3n-b", 500);
    let mut env = settings(&sink, &recorder, &["discord+{}ok/tok3n-o", "{}broken/tok3n-b"]);
    env.push(("FANOUT_ADMIN_USERS".into(), admin_users()));
    let world = World::start(&borrowed(&env)).await;
    let cookie = world.admin_cookie(ADMIN_PASSWORD).await;
    let base = world.fanout.url().trim_end_matches('/').to_string();
    let page = world.http.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    assert!(page.contains(r#"action="/admin/notify/test""#), "the Settings hold the form, for a browser without JavaScript");
    let csrf = page.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();

    let forged = world
        .http
        .post(format!("{base}/admin/notify/test"))
        .header("cookie", &cookie)
        .header("origin", &base)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forged.status().as_u16(), 403, "no test message without the form's token");
    assert!(sink.mails().is_empty());

    let sent = world
        .http
        .post(format!("{base}/admin/notify/test"))
        .header("cookie", &cookie)
        .header("origin", &base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sent.status().as_u16(), 303);
    let page = world.http.get(format!("{base}/admin")).header("cookie", &cookie).send().await.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    let flash = page.split(r#"id="flash""#).nth(1).and_then(|r| r.split("</p>").next()).unwrap_or_default().to_string();
    let relay = sink.url().trim_start_matches("smtp://").to_string();
    assert!(flash.contains(&format!("e-mail to the admins via smtp://{relay}: sent")), "{flash}");
    assert!(flash.contains("webhook #1 (127.0.0.1, discord): sent"), "{flash}");
    assert!(flash.contains("webhook #2 (127.0.0.1, json): failed (the webhook answered HTTP 500)"), "{flash}");
    assert!(flash.contains(r#"role="alert""#), "one channel failed: shown as a failure");
    assert_eq!(subjects(&sink), vec!["Test message from Fanout".to_string()]);
    assert!(sink.mails()[0].body.contains("Admin admin asked for this test"));
    assert!(field(&recorder.bodies("ok/tok3n-o")[0], "content").starts_with("Test message from Fanout"));
    assert_eq!(recorder.bodies("broken/tok3n-b").len(), 1, "a test is tried once, its answer shown at once");
    assert!(!page.contains("tok3n") && !world.fanout.log().contains("tok3n"), "no token on the page or in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanout_restarted_mid_live_does_not_tell_the_admins_again_that_the_live_started() {
    let sink = SmtpSink::start().await.unwrap_or_else(|e| panic!("{e}"));
    let recorder = WebhookRecorder::start().await.unwrap_or_else(|e| panic!("{e}"));
    let env = settings(&sink, &recorder, &["{}json/restart"]);
    let mut live = LiveWorld::start_with(30, &borrowed(&env)).await;
    let (ana, _) = live.volunteer(9331, "Ana").await;
    live.go_live();
    live.wait_receiving(&[&ana.stream_key], 90).await;
    let started = "Live started: 1 destination streaming";
    eventually(60, "the admins hear the live started", || async { subjects(&sink).iter().any(|s| s == started) }).await;

    live.world.kill_and_restart_fanout().await;
    let before = live.sink.bytes_in(&ana.stream_key).await;
    eventually(60, "the restarted Fanout streams the live again", || async { live.sink.bytes_in(&ana.stream_key).await > before + 50_000 })
        .await;
    // The marker: the live's end, told by the restarted Fanout, comes after any second "live
    // started" it would have told (that one is due as soon as its destination streams).
    live.youtube.show(ChannelShows::Ended { video_id: VIDEO.into(), title: TITLE.into() });
    eventually(90, "the restarted Fanout tells the live ended", || async {
        recorder.bodies("json/restart").iter().any(|b| field(b, "event") == "live_ended")
    })
    .await;
    assert_eq!(subjects(&sink).iter().filter(|s| *s == started).count(), 1, "told once: {:?}", subjects(&sink));
    let events: Vec<String> = recorder.bodies("json/restart").iter().map(|b| field(b, "event")).collect();
    assert_eq!(events, ["live_started", "live_ended"], "the webhook heard each once");
}
