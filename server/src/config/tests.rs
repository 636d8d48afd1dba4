use std::path::Path;

use app::secrets::MasterKey;

use super::*;

/// The arguments `fanout` gets with nothing configured (what clap's defaults give).
pub(crate) fn defaults(data_dir: &Path) -> ConfigArgs {
    ConfigArgs {
        listen: "127.0.0.1:3000".into(),
        public_url: None,
        data_dir: data_dir.to_path_buf(),
        mongo_uri: None,
        mongo_database: "fanout".into(),
        secret_key: None,
        youtube_channel: None,
        restream_client_id: None,
        restream_client_secret: None,
        restream_api_url: "https://api.restream.io".into(),
        site_root: data_dir.join("no-site"),
        rate_limit: 20,
        trust_forwarded_for: false,
        admin_users: None,
        port_mbps: None,
        retention_days: 90,
        events_max: 100_000,
        metrics_token: None,
        youtube_url: "https://www.youtube.com".into(),
        poll_secs: 15,
        grace_secs: 60,
        title_template: "{title}".into(),
        description_template: "{title}\\n\\nLive now: {url}".into(),
        restream_ingest: "rtmp://live.restream.io/live".into(),
        restream_updates_url: "wss://streaming.api.restream.io/ws".into(),
        restream_chat_url: "wss://chat.api.restream.io/ws".into(),
        source: SourceArgs {
            pull: crate::ingest::PullMode::YtDlp,
            page_manifest: false,
            transcode: crate::ingest::TranscodeProfile::Copy,
            ffmpeg: "ffmpeg".into(),
            add_silent_audio: false,
            yt_dlp: "yt-dlp".into(),
            yt_dlp_args: None,
            yt_cookies: None,
            yt_proxy: None,
            js_runtime: None,
            yt_dlp_max_age_days: 60,
            yt_dlp_auto_update: false,
            yt_api_key: None,
            yt_api_url: "https://www.googleapis.com/youtube/v3".into(),
        },
        push: push::PushArgs {
            source: SourceKind::Pull,
            push_listen: SocketAddr::from(([0, 0, 0, 0], 1935)),
            push_tls_cert: None,
            push_tls_key: None,
            push_title: "Live now".into(),
        },
        slate: slate::SlateArgs { slate: true, slate_image: None, slate_text: "We'll be right back".into() },
        notify: NotifyArgs { smtp_url: None, mail_from: None, notify_emails: None, webhook_urls: None },
        node: NodeArgs { node_name: None, node_relay_url: None },
        backend: None,
        relay: None,
        nimble_api: "http://127.0.0.1:8082".into(),
        nimble_token: None,
        nimble_ingest: "rtmp://127.0.0.1:1935".into(),
        nimble_app: "fanout".into(),
        nimble_stream: "live".into(),
        nimble_ingest_login: None,
        nimble_ingest_password: None,
        log: "info".into(),
        log_format: LogFormat::Text,
    }
}

fn error_about(validated: &Validated, subject: &str) -> String {
    validated
        .findings
        .at_least(Level::Error)
        .find(|f| f.subject == subject)
        .map(|f| f.detail.clone())
        .unwrap_or_else(|| panic!("expected an error about {subject}, got:\n{}", validated.findings))
}

#[test]
fn nothing_configured_is_valid_and_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let validated = validate(&defaults(&dir.path().join("data")));
    assert_eq!(validated.findings.count(Level::Error), 0, "{}", validated.findings);
    let settings = validated.settings.unwrap_or_else(|| panic!("defaults must validate"));
    assert!(matches!(&settings.store, StoreLocation::Sqlite(p) if p.ends_with("data/fanout.db")));
    assert!(settings.restream.is_none() && settings.youtube_channel.is_none());

    let missing: Vec<Vec<String>> = settings.setup_status().missing.into_iter().map(|m| m.variables).collect();
    assert_eq!(missing, [vec!["RESTREAM_CLIENT_ID".to_string(), "RESTREAM_CLIENT_SECRET".into()], vec!["FANOUT_YOUTUBE_CHANNEL".into()]]);
    let warned: Vec<&str> = validated.findings.at_least(Level::Warn).map(|f| f.subject).collect();
    assert_eq!(warned, ["FANOUT_YOUTUBE_CHANNEL", "RESTREAM_CLIENT_ID", "FANOUT_SITE_ROOT", "FANOUT_ADMIN_USERS"]);
}

#[test]
fn every_bad_value_is_reported_at_once_and_no_settings_are_made() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut args = defaults(dir.path());
    args.listen = "localhost".into();
    args.public_url = Some("ftp://fanout.example.org".into());
    args.mongo_uri = Some(Secret::new("postgres://admin:hunter2@db.example.org/fanout"));
    args.secret_key = Some(Secret::new("c2hvcnQ="));
    args.youtube_channel = Some("https://twitch.tv/someone".into());
    args.restream_client_id = Some("abc".into());
    args.restream_api_url = "not a url".into();
    args.log = "info,=[".into();

    let validated = validate(&args);
    assert!(validated.settings.is_none());
    assert!(error_about(&validated, "FANOUT_LISTEN").contains("address:port"));
    assert!(error_about(&validated, "FANOUT_PUBLIC_URL").contains("http:// or https://"));
    assert!(error_about(&validated, "FANOUT_MONGO_URI").contains("mongodb://"));
    assert!(error_about(&validated, "FANOUT_SECRET_KEY").contains("exactly 32 bytes"));
    assert!(error_about(&validated, "FANOUT_YOUTUBE_CHANNEL").contains("not a YouTube address"));
    assert!(error_about(&validated, "RESTREAM_CLIENT_SECRET").contains("set both or neither"));
    assert!(error_about(&validated, "RESTREAM_API_URL").contains("not a URL"));
    assert!(error_about(&validated, "FANOUT_LOG").contains("not a log filter"));
    assert_eq!(validated.findings.count(Level::Error), 8);
}

#[test]
fn secret_values_never_appear_in_the_report_or_settings() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut args = defaults(dir.path());
    args.mongo_uri = Some(Secret::new("mongodb://admin:Hunter2Mongo@db.example.org"));
    args.secret_key = Some(Secret::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    args.restream_client_id = Some("client-id-1".into());
    args.restream_client_secret = Some(Secret::new("Hunter2Restream"));
    let validated = validate(&args);
    let report = validated.findings.to_string();
    let settings = format!("{:?}", validated.settings.unwrap_or_else(|| panic!("valid:\n{report}")));
    for shown in [report, settings] {
        assert!(!shown.contains("Hunter2Mongo") && !shown.contains("Hunter2Restream"), "{shown}");
        assert!(!shown.contains("AAAAAAAAAAAAAAAAAAAA"), "{shown}");
    }
    let mut bad = defaults(dir.path());
    bad.mongo_uri = Some(Secret::new("mysql://root:Hunter2Mongo@x"));
    assert!(!validate(&bad).findings.to_string().contains("Hunter2Mongo"));
}

#[test]
fn unreadable_key_file_is_an_error_and_an_existing_one_is_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join(KEY_FILE_NAME), "garbage").unwrap_or_else(|e| panic!("{e}"));
    let validated = validate(&defaults(dir.path()));
    assert!(error_about(&validated, "FANOUT_SECRET_KEY").contains("not valid base64"));

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (key, _) = MasterKey::load_or_create(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let validated = validate(&defaults(dir.path()));
    let detail = validated.findings.0.iter().find(|f| f.subject == "FANOUT_SECRET_KEY").map(|f| f.detail.clone());
    assert!(detail.is_some_and(|d| d.contains(&key.id().to_string())));
}

#[test]
fn listening_everywhere_without_a_public_url_is_warned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut args = defaults(dir.path());
    args.listen = "0.0.0.0:8080".into();
    let validated = validate(&args);
    assert!(validated.findings.at_least(Level::Warn).any(|f| f.subject == "FANOUT_PUBLIC_URL"));
    assert!(validated.settings.is_some(), "a warning does not stop the server");
}

#[test]
fn engine_settings_are_checked_and_templates_get_their_line_breaks() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let settings = validate(&defaults(dir.path())).settings.unwrap_or_else(|| panic!("valid"));
    assert_eq!(settings.engine.description_template, "{title}\n\nLive now: {url}");
    assert_eq!(settings.engine.poll, std::time::Duration::from_secs(15));
    let mut bad = defaults(dir.path());
    bad.poll_secs = 0;
    bad.restream_ingest = "http://live.restream.io/live".into();
    bad.title_template = " ".into();
    let validated = validate(&bad);
    assert!(error_about(&validated, "FANOUT_POLL_SECS").contains("between 1 and 3600"));
    assert!(error_about(&validated, "FANOUT_RESTREAM_INGEST").contains("rtmp://"));
    assert!(error_about(&validated, "FANOUT_TITLE_TEMPLATE").contains("{title}"));
}

#[test]
fn restreams_websockets_are_ws_addresses_without_a_query_and_the_chat_one_can_be_off() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let settings = validate(&defaults(dir.path())).settings.unwrap_or_else(|| panic!("valid"));
    let urls = &settings.engine.restream_updates;
    assert_eq!(urls.streaming.as_str(), "wss://streaming.api.restream.io/ws");
    assert_eq!(urls.chat.as_ref().map(Url::as_str), Some("wss://chat.api.restream.io/ws"));

    let mut args = defaults(dir.path());
    args.restream_updates_url = "https://streaming.api.restream.io/ws".into();
    args.restream_chat_url = "wss://chat.api.restream.io/ws?accessToken=abc".into();
    let validated = validate(&args);
    assert!(error_about(&validated, "FANOUT_RESTREAM_UPDATES_URL").contains("ws:// or wss://"));
    assert!(error_about(&validated, "FANOUT_RESTREAM_CHAT_URL").contains("must not have a query"));

    args.restream_updates_url = "ws://127.0.0.1:9000/ws".into();
    args.restream_chat_url = "off".into();
    let validated = validate(&args);
    let settings = validated.settings.unwrap_or_else(|| panic!("valid:\n{}", validated.findings));
    assert_eq!(settings.engine.restream_updates.chat, None);
    assert!(validated.findings.at_least(Level::Warn).all(|f| !f.subject.starts_with("FANOUT_RESTREAM_")), "loopback may be plain ws");
    args.restream_updates_url = "ws://streaming.example.org/ws".into();
    assert!(
        validate(&args).findings.at_least(Level::Warn).any(|f| f.subject == "FANOUT_RESTREAM_UPDATES_URL"),
        "tokens in the clear are warned"
    );
}

#[test]
fn configured_values_are_parsed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut args = defaults(dir.path());
    args.public_url = Some("https://fanout.example.org".into());
    args.youtube_channel = Some("@SriNithyananda".into());
    args.restream_client_id = Some(" id ".into());
    args.restream_client_secret = Some(Secret::new("secret"));
    args.mongo_uri = Some(Secret::new("mongodb+srv://u:p@cluster.example.org"));
    let settings = validate(&args).settings.unwrap_or_else(|| panic!("valid"));
    assert_eq!(settings.public_url.as_ref().map(|u| u.as_str()), Some("https://fanout.example.org/"));
    assert_eq!(settings.youtube_channel, Some(YoutubeChannel::Handle("SriNithyananda".into())));
    assert_eq!(settings.restream.as_ref().map(|r| r.client_id.as_str()), Some("id"));
    assert!(matches!(settings.store, StoreLocation::Mongo { ref database, .. } if database == "fanout"));
    assert!(settings.setup_status().is_complete());
}

const NIMBLE_TOKEN: &str = "Zq8-v1NfT3xK0pLr9aWm";

fn nimble(dir: &Path) -> ConfigArgs {
    ConfigArgs { backend: Some(BackendKind::Nimble), nimble_token: Some(Secret::new(NIMBLE_TOKEN)), ..defaults(dir) }
}

#[test]
fn the_builtin_relay_is_the_default_and_nimble_needs_its_token() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let settings = validate(&defaults(dir.path())).settings.unwrap_or_else(|| panic!("valid"));
    assert!(matches!(settings.engine.backend, BackendSettings::Builtin));

    let missing = ConfigArgs { nimble_token: None, ..nimble(dir.path()) };
    let validated = validate(&missing);
    assert!(validated.settings.is_none());
    assert!(error_about(&validated, "FANOUT_NIMBLE_TOKEN").contains("management_token"));

    let validated = validate(&nimble(dir.path()));
    let report = validated.findings.to_string();
    assert!(!report.contains(NIMBLE_TOKEN), "{report}");
    assert!(report.contains("set (not shown)"), "{report}");
    let settings = validated.settings.unwrap_or_else(|| panic!("valid:\n{report}"));
    assert!(!format!("{settings:?}").contains(NIMBLE_TOKEN));
    let BackendSettings::Nimble(nimble) = settings.engine.backend else { panic!("nimble chosen") };
    let target = nimble.ingest_target();
    assert_eq!(format!("{}/{}", target.tc_url(), target.key.expose()), "rtmp://127.0.0.1:1935/fanout/live");
    assert_eq!(nimble.api.as_str(), "http://127.0.0.1:8082/");
    assert_eq!(nimble.source(), fanout_nimble::Source { app: "fanout".into(), stream: "live".into() });
}

#[test]
fn nimble_settings_are_checked_and_a_weak_token_is_warned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let weak = ConfigArgs { nimble_token: Some(Secret::new("mypassword")), ..nimble(dir.path()) };
    let validated = validate(&weak);
    let warned = validated.findings.at_least(Level::Warn).find(|f| f.subject == "FANOUT_NIMBLE_TOKEN").map(|f| f.detail.clone());
    assert!(warned.is_some_and(|d| d.contains("weak") && !d.contains("mypassword")));
    assert!(validated.settings.is_some(), "a weak token is a warning: an existing Nimble may have chosen it");

    let mut bad = nimble(dir.path());
    bad.nimble_api = "ftp://127.0.0.1:8082".into();
    bad.nimble_ingest = "rtmp://127.0.0.1:1935/live".into();
    bad.nimble_app = "fan out".into();
    bad.nimble_ingest_login = Some("fanout".into());
    let validated = validate(&bad);
    assert!(error_about(&validated, "FANOUT_NIMBLE_API").contains("http://"));
    assert!(error_about(&validated, "FANOUT_NIMBLE_INGEST").contains("FANOUT_NIMBLE_APP"));
    assert!(error_about(&validated, "FANOUT_NIMBLE_APP").contains("letters"));
    assert!(error_about(&validated, "FANOUT_NIMBLE_INGEST_LOGIN").contains("both or neither"));
}

#[test]
fn an_ingest_login_rides_in_the_url_and_never_in_the_report() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut args = nimble(dir.path());
    args.nimble_ingest = "rtmp://10.0.0.5:1936".into();
    args.nimble_ingest_login = Some("fanout-ingest".into());
    args.nimble_ingest_password = Some(Secret::new("h7Gq2-Lm9xR4tVb8Kc"));
    let validated = validate(&args);
    assert!(!validated.findings.to_string().contains("h7Gq2"), "{}", validated.findings);
    let settings = nimble_settings(&args).unwrap_or_else(|f| panic!("valid:\n{f}"));
    let target = settings.ingest_target();
    assert_eq!(
        format!("{}/{}", target.tc_url(), target.key.expose()),
        "rtmp://10.0.0.5:1936/fanout?rtmpauth=fanout-ingest:h7Gq2-Lm9xR4tVb8Kc/live"
    );
    let values = settings.template_values().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((values.rtmp_listen_ip.to_string(), values.rtmp_port, values.management_port), ("10.0.0.5".into(), 1936, 8082));
    let rendered = fanout_nimble::render(&values).unwrap_or_else(|e| panic!("{e}"));
    assert!(rendered.nimble_conf().contains(&format!("management_token = {NIMBLE_TOKEN}")));

    let remote_api = ConfigArgs { nimble_api: "http://nimble.example.org:8082".into(), ..nimble(dir.path()) };
    let settings = nimble_settings(&remote_api).unwrap_or_else(|f| panic!("valid:\n{f}"));
    assert!(settings.template_values().is_err_and(|e| e.contains("loopback")));
}
