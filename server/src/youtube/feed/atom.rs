//! Reading the channel's Atom feed as YouTube serves it at `/feeds/videos.xml?channel_id=UC…`:
//! the newest uploads (about fifteen, lives and scheduled lives among them), newest first, each
//! an `<entry>` with `<yt:videoId>`, `<title>` and `<published>`. Read with quick-xml as a
//! stream of events — no entity is expanded but XML's five and character references, nothing
//! recurses — keeping at most [`MAX_ENTRIES`] entries and [`MAX_TEXT`] bytes of each text.
//! Anything but a whole, well-formed `<feed>` is refused (the look then falls back to the page).
//! Nothing here panics on any input.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::youtube::page::is_video_id;

/// The most entries kept (YouTube lists about fifteen).
pub const MAX_ENTRIES: usize = 50;
/// The most bytes kept of an entry's text (a title is at most 100 characters on YouTube).
pub const MAX_TEXT: usize = 1024;

/// What the feed lists, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feed {
    /// Its entries, as listed.
    pub entries: Vec<FeedEntry>,
}

impl Feed {
    /// The ids of the videos listed.
    pub fn video_ids(&self) -> Vec<String> {
        self.entries.iter().map(|entry| entry.video_id.clone()).collect()
    }
}

/// One video the feed lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Its id (11 characters).
    pub video_id: String,
    /// Its title.
    pub title: String,
    /// When it was published (for a live, YouTube's docs do not say which moment).
    pub published: Option<OffsetDateTime>,
}

/// Why a feed could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtomError {
    /// Not well-formed XML (cut short, tags that do not match…).
    #[error("it is not well-formed XML ({0})")]
    Malformed(String),
    /// Well-formed, but not an Atom feed (an HTML page, an error document).
    #[error("it is not an Atom feed (its root is <{0}>)")]
    NotAFeed(String),
    /// The document ended inside the feed.
    #[error("it ends before the feed is closed")]
    Truncated,
}

/// Which text of an entry is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    VideoId,
    Id,
    Title,
    Published,
}

impl Field {
    fn of(local_name: &str) -> Option<Self> {
        match local_name {
            "videoId" => Some(Self::VideoId),
            "id" => Some(Self::Id),
            "title" => Some(Self::Title),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// An entry while it is read.
#[derive(Debug, Default)]
struct Partial {
    video_id: String,
    id: String,
    title: String,
    published: String,
}

impl Partial {
    fn text(&mut self, field: Field) -> &mut String {
        match field {
            Field::VideoId => &mut self.video_id,
            Field::Id => &mut self.id,
            Field::Title => &mut self.title,
            Field::Published => &mut self.published,
        }
    }

    /// The entry, when it names a video (`<yt:videoId>`, else the `yt:video:` of its `<id>`).
    fn finish(self) -> Option<FeedEntry> {
        let video_id = match self.video_id.trim() {
            "" => self.id.trim().strip_prefix("yt:video:").unwrap_or_default().to_string(),
            id => id.to_string(),
        };
        is_video_id(&video_id).then(|| FeedEntry {
            video_id,
            title: self.title.trim().to_string(),
            published: OffsetDateTime::parse(self.published.trim(), &Rfc3339).ok(),
        })
    }
}

/// Appends `piece` to `text`, up to [`MAX_TEXT`] bytes (whole characters).
fn append(text: &mut String, piece: &str) {
    for c in piece.chars() {
        if text.len() + c.len_utf8() > MAX_TEXT {
            return;
        }
        text.push(c);
    }
}

/// The document's root, when it is the one feed.
fn root(name: &str, rooted: bool) -> Result<bool, AtomError> {
    if name != "feed" || rooted {
        return Err(AtomError::NotAFeed(name.chars().take(40).collect()));
    }
    Ok(true)
}

/// Reads a feed.
pub fn parse_feed(xml: &str) -> Result<Feed, AtomError> {
    let mut reader = Reader::from_str(xml);
    let mut entries = Vec::new();
    // How many elements are open; the feed is the one at depth 0, its entries at 1.
    let mut depth = 0usize;
    let mut rooted = false;
    let mut entry: Option<Partial> = None;
    let mut field: Option<Field> = None;
    loop {
        let event = reader.read_event().map_err(|e| AtomError::Malformed(e.to_string().chars().take(200).collect()))?;
        let piece = match event {
            Event::Eof => break,
            Event::Start(start) if depth == 0 => {
                rooted = root(start.local_name().into_inner(), rooted)?;
                depth = 1;
                continue;
            }
            Event::Empty(start) if depth == 0 => {
                rooted = root(start.local_name().into_inner(), rooted)?;
                continue;
            }
            Event::Start(start) => {
                let name = start.local_name().into_inner();
                match depth {
                    1 if name == "entry" => entry = Some(Partial::default()),
                    2 if entry.is_some() => field = Field::of(name),
                    _ => {}
                }
                depth += 1;
                continue;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                match depth {
                    2 => field = None,
                    1 => {
                        if let Some(done) = entry.take().and_then(Partial::finish)
                            && entries.len() < MAX_ENTRIES
                        {
                            entries.push(done);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Text(text) => text.xml10_content().into_owned(),
            Event::CData(data) => data.xml10_content().into_owned(),
            Event::GeneralRef(reference) => match reference.resolve_char_ref() {
                Ok(Some(c)) => c.to_string(),
                _ => quick_xml::escape::resolve_predefined_entity(&reference).map_or_else(|| format!("&{};", &*reference), str::to_string),
            },
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
        };
        if let (Some(entry), Some(field)) = (entry.as_mut(), field) {
            append(entry.text(field), &piece);
        }
    }
    match (rooted, depth) {
        (false, _) => Err(AtomError::NotAFeed("nothing".into())),
        (true, 0) => Ok(Feed { entries }),
        (true, _) => Err(AtomError::Truncated),
    }
}
