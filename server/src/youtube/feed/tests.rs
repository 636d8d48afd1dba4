use app::model::{SourceProblem, SourceProblemNote};

use super::atom::{AtomError, MAX_ENTRIES, MAX_TEXT, parse_feed};
use super::*;
use crate::youtube::page::{EndedLive, LiveNow};

const CHANNEL: &str = "UCabcdefghijklmnopqrstuv";

/// The public feed's shape (as www.youtube.com serves it; YouTube documents none): the
/// feed-level `yt:channelId` without its `UC`, entries newest first, a `media:group` whose
/// `media:title` must not be taken for the entry's title, an upcoming live with 0 views.
const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv"/>
 <id>yt:channel:abcdefghijklmnopqrstuv</id>
 <yt:channelId>abcdefghijklmnopqrstuv</yt:channelId>
 <title>Fanout Test Channel</title>
 <link rel="alternate" href="https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv"/>
 <author><name>Fanout Test Channel</name><uri>https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv</uri></author>
 <published>2015-10-11T10:38:54+00:00</published>
 <entry>
  <id>yt:video:Up_c0m1ng11</id>
  <yt:videoId>Up_c0m1ng11</yt:videoId>
  <yt:channelId>UCabcdefghijklmnopqrstuv</yt:channelId>
  <title>Tomorrow&#39;s satsang &amp; Q&amp;A</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=Up_c0m1ng11"/>
  <author><name>Fanout Test Channel</name><uri>https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv</uri></author>
  <published>2026-11-30T09:00:00+00:00</published>
  <updated>2026-11-30T09:05:00+00:00</updated>
  <media:group>
   <media:title>Not the entry's title</media:title>
   <media:content url="https://www.youtube.com/v/Up_c0m1ng11?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i2.ytimg.com/vi/Up_c0m1ng11/hqdefault.jpg" width="480" height="360"/>
   <media:description>Line one
line two &lt;b&gt;</media:description>
   <media:community><media:starRating count="0" average="0.00" min="1" max="5"/><media:statistics views="0"/></media:community>
  </media:group>
 </entry>
 <entry>
  <id>yt:video:EndeD_l1ve1</id>
  <yt:videoId>EndeD_l1ve1</yt:videoId>
  <yt:channelId>UCabcdefghijklmnopqrstuv</yt:channelId>
  <title><![CDATA[Yesterday's live <with> CDATA]]></title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=EndeD_l1ve1"/>
  <published>2026-11-29T10:00:00+00:00</published>
 </entry>
</feed>
"#;

fn feed(xml: &str) -> Feed {
    parse_feed(xml).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_public_feeds_entries_are_read_newest_first_with_their_titles() {
    let read = feed(SAMPLE);
    assert_eq!(read.video_ids(), ["Up_c0m1ng11", "EndeD_l1ve1"]);
    assert_eq!(read.entries[0].title, "Tomorrow's satsang & Q&A", "entities resolved; media:title not taken");
    assert_eq!(read.entries[1].title, "Yesterday's live <with> CDATA");
    assert_eq!(read.entries[0].published.map(|t| t.unix_timestamp()), Some(1_796_029_200));
    let empty = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>No videos yet</title></feed>"#;
    assert_eq!(feed(empty).entries, [], "a channel without videos has an empty feed");
    assert_eq!(feed("<feed/>").entries, []);
}

#[test]
fn an_entry_without_a_video_id_of_the_right_shape_is_skipped_and_the_atom_id_stands_in() {
    let xml = "<feed><entry><id>yt:video:AAAAAAAAAAA</id><title>by its id</title></entry>\
               <entry><yt:videoId>short</yt:videoId></entry><entry><title>none</title></entry>\
               <entry><yt:videoId> BBBBBBBBBBB </yt:videoId><title>  padded  </title><published>not a date</published></entry></feed>";
    let read = feed(xml);
    assert_eq!(read.video_ids(), ["AAAAAAAAAAA", "BBBBBBBBBBB"]);
    assert_eq!((read.entries[1].title.as_str(), read.entries[1].published), ("padded", None));
}

#[test]
fn what_is_not_a_whole_feed_is_refused_with_why() {
    let html = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body></body></html>";
    assert!(matches!(parse_feed(html), Err(AtomError::NotAFeed(root)) if root == "html"), "an HTML page");
    assert!(matches!(parse_feed(""), Err(AtomError::NotAFeed(_))), "nothing");
    assert!(matches!(parse_feed("just text"), Err(AtomError::NotAFeed(_))));
    let cut = &SAMPLE[..SAMPLE.len() / 2];
    assert!(matches!(parse_feed(cut), Err(AtomError::Truncated | AtomError::Malformed(_))), "{:?}", parse_feed(cut));
    assert!(matches!(parse_feed("<feed><entry></feed>"), Err(AtomError::Malformed(_))), "tags that do not match");
    assert!(matches!(parse_feed("<feed></feed><feed></feed>"), Err(AtomError::NotAFeed(_))), "two roots");
}

#[test]
fn a_feed_is_bounded_in_entries_and_text() {
    let entry = |i: usize| format!("<entry><yt:videoId>Vid{i:08}</yt:videoId><title>{}</title></entry>", "é".repeat(5000));
    let xml = format!("<feed>{}</feed>", (0..MAX_ENTRIES + 20).map(entry).collect::<String>());
    let read = feed(&xml);
    assert_eq!(read.entries.len(), MAX_ENTRIES);
    assert!(read.entries.iter().all(|e| e.title.len() <= MAX_TEXT && e.title.chars().all(|c| c == 'é')));
}

/// A small deterministic generator (no seed to keep: a failure prints its input's length).
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn hostile_feeds_never_panic_and_expand_nothing() {
    // Every prefix of a real feed.
    for end in (0..=SAMPLE.len()).filter(|end| SAMPLE.is_char_boundary(*end)) {
        let _ = parse_feed(&SAMPLE[..end]);
    }
    // The feed with bytes flipped, decoded lossily as the look decodes an answer.
    let mut state = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for _ in 0..1 + xorshift(&mut state) % 8 {
            let at = (xorshift(&mut state) % bytes.len() as u64) as usize;
            bytes[at] = (xorshift(&mut state) & 0xff) as u8;
        }
        let _ = parse_feed(&String::from_utf8_lossy(&bytes));
    }
    // Random bytes, biased towards markup.
    for _ in 0..2000 {
        let len = (xorshift(&mut state) % 300) as usize;
        let alphabet = b"<>/=\"'&;#x!?[]-:feedntryidtl yt:videoId CDATA \xff\xfe\x00";
        let bytes: Vec<u8> = (0..len).map(|_| alphabet[(xorshift(&mut state) % alphabet.len() as u64) as usize]).collect();
        let _ = parse_feed(&String::from_utf8_lossy(&bytes));
    }
    // Deep nesting, a flood of references, unknown and numeric references out of range.
    let deep = format!("<feed><entry>{}{}</entry></feed>", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert_eq!(feed(&deep).entries, []);
    let refs = format!(
        "<feed><entry><yt:videoId>CCCCCCCCCCC</yt:videoId><title>{}&unknown;&#x110000;&#0;</title></entry></feed>",
        "&amp;".repeat(10_000)
    );
    let title = &feed(&refs).entries[0].title;
    assert!(title.len() <= MAX_TEXT && title.starts_with("&&&"), "{}", title.len());
    // An entity defined in a DOCTYPE ("billion laughs") is never expanded.
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
        <feed><entry><yt:videoId>DDDDDDDDDDD</yt:videoId><title>&lol2;</title></entry></feed>"#;
    if let Ok(read) = parse_feed(laughs) {
        assert!(read.entries.iter().all(|e| e.title.len() < 20), "{read:?}");
    }
}

// The rule.

fn live(id: &str) -> Observation {
    Observation::Live(LiveNow {
        video_id: id.into(),
        title: "Live".into(),
        description: String::new(),
        channel_id: CHANNEL.into(),
        author: String::new(),
        hls_manifest_url: None,
        thumbnail_url: None,
        started_at: None,
        refusal: None,
    })
}

fn ended(id: &str) -> Observation {
    Observation::Ended(EndedLive { video_id: id.into(), title: "Live".into(), ended_at: None })
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|id| (*id).to_string()).collect()
}

/// A memory after two agreeing page looks at `at` that found `observation` with `known` listed.
fn settled(observation: &Observation, known: &[&str], at: Instant) -> Memory {
    let mut memory = Memory::new(&YoutubeChannel::Id(CHANNEL.into()));
    let listed = ids(known);
    memory.after_page(at, observation.clone(), None, Some(&listed));
    memory.after_page(at, observation.clone(), None, Some(&listed));
    memory
}

const WALL: OffsetDateTime = time::macros::datetime!(2026-12-01 10:00 UTC);

#[test]
fn the_first_look_is_the_page_and_a_handle_waits_for_the_id_it_gives() {
    let timing = FeedTiming::default();
    let now = Instant::now();
    let by_id = Memory::new(&YoutubeChannel::Id(CHANNEL.into()));
    assert!(by_id.feed_wanted(), "an id: the feed from the first poll");
    assert_eq!(plan(&by_id, FeedRead::Listed(&ids(&["AAAAAAAAAAA"])), now, WALL, &timing), Some(Why::First));
    let mut by_handle = Memory::new(&YoutubeChannel::Handle("FanoutTestChannel".into()));
    assert!(!by_handle.feed_wanted(), "a handle: no feed before the page named the id");
    assert_eq!(plan(&by_handle, FeedRead::Skipped, now, WALL, &timing), Some(Why::First));
    by_handle.after_page(now, Observation::NotLive(None), Some(CHANNEL.into()), None);
    assert!(by_handle.feed_wanted(), "the id is cached");
    assert_eq!(by_handle.channel_id.as_deref(), Some(CHANNEL));
    let mut from_live = Memory::new(&YoutubeChannel::Handle("FanoutTestChannel".into()));
    from_live.after_page(now, live("LiveVideo01"), Some("not an id".into()), None);
    assert_eq!(from_live.channel_id.as_deref(), Some(CHANNEL), "a live's own channel id when the page names no other");
}

#[test]
fn when_the_feed_lists_nothing_new_the_page_waits_for_the_backstop() {
    let timing = FeedTiming::default();
    let at = Instant::now();
    let memory = settled(&Observation::NotLive(None), &["AAAAAAAAAAA", "BBBBBBBBBBB"], at);
    let same = ids(&["AAAAAAAAAAA", "BBBBBBBBBBB"]);
    assert_eq!(plan(&memory, FeedRead::Listed(&same), at + Duration::from_secs(15), WALL, &timing), None);
    assert_eq!(plan(&memory, FeedRead::Listed(&same[..1]), at + Duration::from_secs(299), WALL, &timing), None, "one fewer");
    assert_eq!(plan(&memory, FeedRead::Listed(&same), at + Duration::from_secs(300), WALL, &timing), Some(Why::Backstop));
    let newer = ids(&["NNNNNNNNNNN", "AAAAAAAAAAA", "BBBBBBBBBBB"]);
    assert_eq!(plan(&memory, FeedRead::Listed(&newer), at + Duration::from_secs(15), WALL, &timing), Some(Why::NewVideo));
    assert_eq!(plan(&memory, FeedRead::Failed, at + Duration::from_secs(15), WALL, &timing), Some(Why::FeedFailed));
    assert_eq!(plan(&memory, FeedRead::Skipped, at + Duration::from_secs(15), WALL, &timing), Some(Why::NoFeed));
}

#[test]
fn a_live_is_looked_at_every_poll_and_a_change_is_confirmed_by_a_second_page_look() {
    let timing = FeedTiming::default();
    let at = Instant::now();
    let mut memory = settled(&Observation::NotLive(None), &["AAAAAAAAAAA"], at);
    memory.after_page(at, live("LiveVideo01"), None, Some(&ids(&["LiveVideo01", "AAAAAAAAAAA"])));
    assert!(!memory.feed_wanted(), "no feed while live");
    for poll in 1..5 {
        memory.after_page(at, live("LiveVideo01"), None, None);
        assert_eq!(plan(&memory, FeedRead::Skipped, at + Duration::from_secs(15 * poll), WALL, &timing), Some(Why::LiveOn));
    }
    memory.after_page(at, ended("LiveVideo01"), None, None);
    assert!(memory.feed_wanted());
    let listed = ids(&["LiveVideo01", "AAAAAAAAAAA"]);
    assert_eq!(plan(&memory, FeedRead::Listed(&listed), at, WALL, &timing), Some(Why::Unconfirmed), "an end is looked at twice");
    memory.after_page(at, ended("LiveVideo01"), None, Some(&listed));
    assert_eq!(plan(&memory, FeedRead::Listed(&listed), at, WALL, &timing), None, "confirmed: the feed again");
    let problem = Observation::Unreadable(SourceProblemNote { problem: SourceProblem::BotWall, detail: String::new() });
    let mut walled = settled(&problem, &["AAAAAAAAAAA"], at);
    assert_eq!(plan(&walled, FeedRead::Listed(&ids(&["AAAAAAAAAAA"])), at, WALL, &timing), Some(Why::Unreadable));
    walled.after_page(at, Observation::NotLive(None), None, None);
    assert_eq!(plan(&walled, FeedRead::Listed(&ids(&["AAAAAAAAAAA"])), at, WALL, &timing), Some(Why::Unconfirmed));
}

#[test]
fn around_a_scheduled_start_the_page_is_looked_at_every_poll() {
    let timing = FeedTiming::default();
    let at = Instant::now();
    let scheduled = |start: OffsetDateTime| {
        Observation::NotLive(Some(ScheduledLive { video_id: "Up_c0m1ng11".into(), title: "Soon".into(), scheduled_start: Some(start) }))
    };
    let listed = ids(&["Up_c0m1ng11"]);
    let due = |start: OffsetDateTime, wall: OffsetDateTime| {
        plan(&settled(&scheduled(start), &["Up_c0m1ng11"], at), FeedRead::Listed(&listed), at, wall, &timing)
    };
    let minutes = time::Duration::minutes;
    assert_eq!(due(WALL + minutes(6), WALL), None, "6 minutes ahead");
    assert_eq!(due(WALL + minutes(5), WALL), Some(Why::NearStart));
    assert_eq!(due(WALL, WALL), Some(Why::NearStart));
    assert_eq!(due(WALL - minutes(30), WALL), Some(Why::NearStart), "a late start");
    assert_eq!(due(WALL - minutes(31), WALL), None, "given up on: the backstop's cadence");
    // Starts at the ends of time: no overflow.
    assert_eq!(due(OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT), WALL), None);
    assert_eq!(due(OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT), WALL), None);
    let wide = FeedTiming { before_start: Duration::MAX, after_start: Duration::MAX, ..timing };
    let memory = settled(&scheduled(WALL), &["Up_c0m1ng11"], at);
    assert_eq!(plan(&memory, FeedRead::Listed(&listed), at, WALL, &wide), Some(Why::NearStart));
}

/// The rule walked through a day's story, as the look applies it: the page is fetched only
/// when the rule says so, and each fetch is counted.
#[test]
fn over_a_story_the_page_is_fetched_only_for_news_and_a_live_is_seen_and_ended_as_with_the_page() {
    let timing = FeedTiming::default();
    let start = Instant::now();
    let mut memory = Memory::new(&YoutubeChannel::Id(CHANNEL.into()));
    let mut pages = 0;
    // (seconds into the story, what the feed lists, what the page would show)
    let mut story: Vec<(u64, Vec<String>, Observation)> = Vec::new();
    for poll in 0..40 {
        story.push((poll * 15, ids(&["AAAAAAAAAAA"]), Observation::NotLive(None)));
    }
    for poll in 40..60 {
        story.push((poll * 15, ids(&["LiveVideo01", "AAAAAAAAAAA"]), live("LiveVideo01")));
    }
    for poll in 60..70 {
        story.push((poll * 15, ids(&["LiveVideo01", "AAAAAAAAAAA"]), ended("LiveVideo01")));
    }
    let mut seen: Vec<(u64, Observation, bool)> = Vec::new();
    for (secs, listed, page) in story {
        let now = start + Duration::from_secs(secs);
        let read = if memory.feed_wanted() { FeedRead::Listed(&listed) } else { FeedRead::Skipped };
        let observation = match plan(&memory, read, now, WALL, &timing) {
            Some(_) => {
                pages += 1;
                let feed = memory.feed_wanted().then_some(listed.as_slice());
                memory.after_page(now, page.clone(), None, feed);
                page
            }
            None => memory.last.as_ref().map(|last| last.observation.clone()).unwrap_or_else(|| panic!("looked before")),
        };
        let confirmed = seen.last().is_some_and(|(_, last, _)| *last == observation);
        seen.push((secs, observation, confirmed));
    }
    let first_live = seen.iter().find(|(_, o, _)| matches!(o, Observation::Live(_))).map(|(s, _, _)| *s);
    assert_eq!(first_live, Some(600), "seen at the first poll the live is on");
    let end = seen.iter().find(|(_, o, confirmed)| matches!(o, Observation::Ended(_)) && *confirmed).map(|(s, _, _)| *s);
    assert_eq!(end, Some(915), "its end confirmed at the second poll, as with the page alone");
    // 2 to start (a look and its confirmation), 1 backstop in the 10 idle minutes, 20 while
    // live (the first for the new id), 2 for the end; none for the 8 polls after it.
    assert_eq!(pages, 2 + 1 + 20 + 2, "page looks over the story");
}
