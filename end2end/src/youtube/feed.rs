//! The channel's public feed, `/feeds/videos.xml?channel_id=<CHANNEL_ID>`, in the Atom shape
//! www.youtube.com serves it. YouTube documents no such feed; this follows the public one as
//! served: the `yt`, `media` and Atom namespaces, the feed-level `<id>` and `<yt:channelId>`
//! without the id's `UC`, then at most 15 `<entry>`s, newest first, each with `yt:video:<id>`,
//! `<yt:videoId>`, `<yt:channelId>`, `<title>`, the watch link, `<published>` / `<updated>` and
//! a `media:group` (`views="0"` for a live not started yet). Where nothing public says — how soon
//! a live or a scheduled live is listed, which moment a live's `<published>` is — a video is
//! listed when the test shows it (or after the delay the test sets), published then. Any other
//! channel id is a 404, as YouTube answers for a channel it does not know.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::pages::CHANNEL_ID;
use super::{Channel, ChannelShows};

/// How many entries the feed lists, as YouTube's does.
const LISTED: usize = 15;

/// A video the feed lists (once visible).
#[derive(Debug, Clone)]
pub(super) struct Listed {
    video_id: String,
    title: String,
    published: OffsetDateTime,
    /// From when the feed lists it (`None`: never).
    visible_from: Option<Instant>,
    /// A scheduled live not started yet.
    upcoming: bool,
}

impl Listed {
    /// The upload the channel had before any test showed anything (the Data API stand-in's too).
    pub(super) fn older_upload() -> Self {
        Self {
            video_id: "OlderUpload".into(),
            title: "An older video".into(),
            published: time::macros::datetime!(2026-11-01 10:00 UTC),
            visible_from: Some(Instant::now()),
            upcoming: false,
        }
    }
}

/// Lists what the channel now shows: a video not listed before goes first, visible after
/// `delay`; one listed already keeps its place and takes its new title.
pub(super) fn note(listed: &mut Vec<Listed>, shows: &ChannelShows, delay: Option<Duration>) {
    let Some((video_id, title)) = shows.video() else { return };
    let upcoming = matches!(shows, ChannelShows::Scheduled { .. });
    if let Some(known) = listed.iter_mut().find(|l| l.video_id == video_id) {
        known.title = title.to_string();
        known.upcoming = upcoming;
        return;
    }
    let visible_from = delay.and_then(|delay| Instant::now().checked_add(delay));
    let entry = Listed { video_id: video_id.into(), title: title.into(), published: OffsetDateTime::now_utc(), visible_from, upcoming };
    listed.insert(0, entry);
}

#[derive(serde::Deserialize)]
pub(super) struct FeedQuery {
    channel_id: Option<String>,
}

pub(super) async fn videos(State(channel): State<Arc<Mutex<Channel>>>, Query(query): Query<FeedQuery>) -> Response {
    let (listed, refuse) = {
        let mut channel = channel.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        channel.feed_requests += 1;
        let now = Instant::now();
        let visible =
            channel.listed.iter().filter(|l| l.visible_from.is_some_and(|from| from <= now)).take(LISTED).cloned().collect::<Vec<_>>();
        (visible, channel.feed_refuse.or(channel.refuse))
    };
    if let Some(status) = refuse.and_then(|s| StatusCode::from_u16(s).ok()) {
        return status.into_response();
    }
    if query.channel_id.as_deref() != Some(CHANNEL_ID) {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    ([(axum::http::header::CONTENT_TYPE, "text/xml; charset=UTF-8")], render(&listed)).into_response()
}

/// XML's escaping of text and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A time as the feed writes it (`2026-12-01T10:00:00+00:00`).
fn stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
}

/// The feed's document.
pub(super) fn render(listed: &[Listed]) -> String {
    let short = CHANNEL_ID.strip_prefix("UC").unwrap_or(CHANNEL_ID);
    let author = format!("<author><name>Fanout Test Channel</name><uri>https://www.youtube.com/channel/{CHANNEL_ID}</uri></author>");
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" xmlns:media=\"http://search.yahoo.com/mrss/\" xmlns=\"http://www.w3.org/2005/Atom\">\n \
         <link rel=\"self\" href=\"http://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL_ID}\"/>\n \
         <id>yt:channel:{short}</id>\n <yt:channelId>{short}</yt:channelId>\n <title>Fanout Test Channel</title>\n \
         <link rel=\"alternate\" href=\"https://www.youtube.com/channel/{CHANNEL_ID}\"/>\n {author}\n \
         <published>2015-10-11T10:38:54+00:00</published>\n"
    );
    for entry in listed {
        let (id, title, published) = (&entry.video_id, escape(&entry.title), stamp(entry.published));
        let views = if entry.upcoming { 0 } else { 42 };
        xml.push_str(&format!(
            " <entry>\n  <id>yt:video:{id}</id>\n  <yt:videoId>{id}</yt:videoId>\n  <yt:channelId>{CHANNEL_ID}</yt:channelId>\n  \
             <title>{title}</title>\n  <link rel=\"alternate\" href=\"https://www.youtube.com/watch?v={id}\"/>\n  {author}\n  \
             <published>{published}</published>\n  <updated>{published}</updated>\n  <media:group>\n   \
             <media:title>{title}</media:title>\n   \
             <media:content url=\"https://www.youtube.com/v/{id}?version=3\" type=\"application/x-shockwave-flash\" width=\"640\" height=\"390\"/>\n   \
             <media:thumbnail url=\"https://i1.ytimg.com/vi/{id}/hqdefault.jpg\" width=\"480\" height=\"360\"/>\n   \
             <media:description>{title}</media:description>\n   \
             <media:community><media:starRating count=\"0\" average=\"0.00\" min=\"1\" max=\"5\"/><media:statistics views=\"{views}\"/></media:community>\n  \
             </media:group>\n </entry>\n"
        ));
    }
    xml.push_str("</feed>\n");
    xml
}
