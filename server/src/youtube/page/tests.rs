use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/youtube/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_live_page_gives_the_whole_title_and_the_manifest() {
    let LivePage::Live(live) = parse_live_page(&fixture("live.html")).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("live.html is live")
    };
    assert_eq!(live.video_id, "Ab3_dE-fGh1");
    assert_eq!(
        live.title,
        "Live 🔴 Nithyananda Satsang — \"Completion\" };  var x = {a:1}; </script> & the science of living enlightenment, day 12 of the Paramashivoham retreat from Kailasa"
    );
    assert!(live.title.chars().count() > 100, "kept whole, never cut");
    assert!(live.description.contains("https://example.org/?a=1&b=2 <b>not html</b> };"), "{}", live.description);
    assert_eq!(live.channel_id, "UCabcdefghijklmnopqrstuv");
    assert_eq!(live.author, "Fanout Test Channel");
    assert!(live.hls_manifest_url.as_deref().is_some_and(|u| u.ends_with("/file/index.m3u8")));
    assert_eq!(live.thumbnail_url.as_deref(), Some("https://i.ytimg.com/vi/Ab3_dE-fGh1/maxresdefault_live.jpg"));
    assert_eq!(live.started_at.map(|t| t.unix_timestamp()), Some(1_795_600_923));
}

#[test]
fn a_player_response_ended_by_the_script_tag_reads_the_same() {
    let page = parse_live_page(&fixture("live_script_end.html")).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(page, LivePage::Live(ref live) if live.title == "Short live" && live.hls_manifest_url.is_some()), "{page:?}");
}

#[test]
fn a_live_without_a_manifest_is_still_live() {
    let page = parse_live_page(&fixture("live_without_manifest.html")).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(page, LivePage::Live(ref live) if live.video_id == "Zz9_yX-wVu8" && live.hls_manifest_url.is_none()), "{page:?}");
}

#[test]
fn a_scheduled_live_is_upcoming_with_its_start() {
    let page = parse_live_page(&fixture("upcoming.html")).unwrap_or_else(|e| panic!("{e}"));
    let LivePage::Upcoming(scheduled) = page else { panic!("upcoming: {page:?}") };
    assert_eq!((scheduled.video_id.as_str(), scheduled.title.as_str()), ("Up_c0m1ng11", "Tomorrow's satsang"));
    assert_eq!(scheduled.scheduled_start.map(|t| t.unix_timestamp()), Some(1_764_111_600));
}

#[test]
fn an_ended_live_is_ended_not_live() {
    let page = parse_live_page(&fixture("ended.html")).unwrap_or_else(|e| panic!("{e}"));
    let LivePage::Ended(ended) = page else { panic!("ended: {page:?}") };
    assert_eq!(ended.video_id, "EndeD_l1ve1");
    assert_eq!(ended.ended_at.map(|t| t.unix_timestamp()), Some(1_795_523_400));
}

#[test]
fn a_channel_without_a_live_is_no_live() {
    assert_eq!(parse_live_page(&fixture("no_live_channel_home.html")), Ok(LivePage::NoLive));
}

#[test]
fn the_consent_page_and_a_changed_layout_are_errors_an_operator_can_read() {
    let consent = parse_live_page(&fixture("consent.html")).err().unwrap_or_else(|| panic!("consent is an error"));
    assert_eq!(consent, PageError::ConsentWall);
    assert!(consent.to_string().starts_with("could not parse the /live page: YouTube showed its cookie-consent page"));
    let changed = parse_live_page(&fixture("changed_layout.html")).err().unwrap_or_else(|| panic!("an error"));
    assert_eq!(changed, PageError::NoPlayerResponse);
    assert!(changed.to_string().contains("layout changed"));
}

#[test]
fn no_prefix_of_a_page_makes_it_panic() {
    let page = fixture("live.html");
    let mut cut = 0;
    while cut < page.len() {
        if page.is_char_boundary(cut) {
            let _ = parse_live_page(&page[..cut]);
        }
        cut += 97;
    }
}

#[test]
fn garbage_is_refused_cleanly() {
    let nested = format!("var ytInitialPlayerResponse = {};", "[".repeat(100_000));
    for input in ["", "\u{0}\u{1}binary", "var ytInitialPlayerResponse = ", "var ytInitialPlayerResponse = 42;", nested.as_str()] {
        assert!(parse_live_page(input).is_err(), "{:?}", &input[..input.len().min(40)]);
    }
    assert!(matches!(
        parse_live_page(r#"<script>var ytInitialPlayerResponse = {"videoDetails":{"videoId":"bad"}};</script>"#),
        Err(PageError::UnexpectedShape(_))
    ));
    assert_eq!(
        parse_live_page(
            "<script>var ytInitialPlayerResponse = null;var ytInitialData = {\"metadata\":{\"channelMetadataRenderer\":{}}};</script>"
        ),
        Ok(LivePage::NoLive)
    );
    assert_eq!(
        parse_live_page("<script>var ytInitialData = {\"contents\":{}};</script>"),
        Err(PageError::NoPlayerResponse),
        "no channel data: changed"
    );
}

#[test]
fn an_assignment_quoted_outside_a_script_is_not_the_player_response() {
    let decoy = r#"<title>var ytInitialPlayerResponse = {"videoDetails":{"videoId":"Dec0y_Id001","title":"fake","isLive":true},"streamingData":{"hlsManifestUrl":"https://evil.example/x.m3u8"}} - YouTube</title>"#;
    let page = fixture("live.html").replacen("<title>", &format!("{decoy}<title>"), 1);
    let LivePage::Live(live) = parse_live_page(&page).unwrap_or_else(|e| panic!("{e}")) else { panic!("live") };
    assert_eq!(live.video_id, "Ab3_dE-fGh1", "the script's player response, not the decoy");
    let only_decoy = format!("<html><head>{decoy}</head><body><script>var ytInitialData = {{}};</script></body></html>");
    assert!(parse_live_page(&only_decoy).is_err());
}

#[test]
fn a_live_youtube_refuses_to_play_is_live_with_its_refusal_said_plainly() {
    let page = fixture("live.html").replacen(
        r#""playabilityStatus":{"status":"OK""#,
        r#""playabilityStatus":{"status":"LOGIN_REQUIRED","reason":"Sign in to confirm you're not a bot""#,
        1,
    );
    let LivePage::Live(live) = parse_live_page(&page).unwrap_or_else(|e| panic!("{e}")) else { panic!("live") };
    assert_eq!(live.video_id, "Ab3_dE-fGh1", "the live is there, whoever may play it");
    let refusal = live.refusal.unwrap_or_else(|| panic!("refused"));
    assert_eq!(refusal.problem, SourceProblem::BotWall);
    assert_eq!(refusal.detail, "YouTube refuses to play the live to this server (LOGIN_REQUIRED): Sign in to confirm you're not a bot");
    let members = fixture("live.html").replacen(
        r#""playabilityStatus":{"status":"OK""#,
        r#""playabilityStatus":{"status":"UNPLAYABLE","reason":"Join this channel to get access to members-only content like this video""#,
        1,
    );
    let LivePage::Live(live) = parse_live_page(&members).unwrap_or_else(|e| panic!("{e}")) else { panic!("live") };
    assert_eq!(live.refusal.map(|r| r.problem), Some(SourceProblem::MembersOnly));
}

#[test]
fn huge_thumbnail_sizes_do_not_overflow() {
    let page = fixture("live.html").replacen("\"width\":", "\"width\":4294967295,\"w\":", 1).replacen(
        "\"height\":",
        "\"height\":4294967295,\"h\":",
        1,
    );
    assert!(page.contains("4294967295"), "the fixture has thumbnail sizes to replace");
    assert!(matches!(parse_live_page(&page), Ok(LivePage::Live(_))));
}

#[test]
fn every_page_names_its_channel_for_the_feed() {
    for name in ["live.html", "upcoming.html", "ended.html", "no_live_channel_home.html"] {
        let read = read_live_page(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read.channel_id.as_deref(), Some("UCabcdefghijklmnopqrstuv"), "{name}");
        assert_eq!(Ok(read.page), parse_live_page(&fixture(name)), "{name}: the same reading");
    }
    let home = |metadata: &str, head: &str| {
        format!(
            "<html><head>{head}</head><script>var ytInitialData = {{\"metadata\":{{\"channelMetadataRenderer\":{metadata}}}}};</script></html>"
        )
    };
    let rss = "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"RSS\" \
               href=\"https://www.youtube.com/feeds/videos.xml?channel_id=UCzyxwvutsrqponmlkjihgfe\">";
    let id_of = |html: String| read_live_page(&html).ok().and_then(|read| read.channel_id);
    assert_eq!(id_of(home(r#"{"title":"T"}"#, rss)).as_deref(), Some("UCzyxwvutsrqponmlkjihgfe"), "the feed's link alone");
    assert_eq!(id_of(home(r#"{"externalId":"UCshort"}"#, "")), None, "not an id's shape");
    assert_eq!(id_of(home(r#"{"externalId":"UCabcdefghijklmnopqrstu\u00e9"}"#, "")), None);
    assert_eq!(id_of(home("{\"externalId\":\"UCabcdefghijklmnopqrstuéé\"}", "")), None, "a character across the end: no panic");
    assert_eq!(
        id_of(home(r#"{"description":"\"externalId\":\"UCzzzzzzzzzzzzzzzzzzzzzz","externalId":"UCabcdefghijklmnopqrstuv"}"#, ""))
            .as_deref(),
        Some("UCabcdefghijklmnopqrstuv"),
        "the key quoted inside a string is not the key"
    );
}
