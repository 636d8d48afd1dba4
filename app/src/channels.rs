//! Parsing of the channel references people type: the watched YouTube channel in the server's
//! configuration and (later) volunteers' channel URLs in the sign-up form. Pure and shared, so
//! the browser and the server give the same answer and the same message.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::weburl::WebUrl;

/// Why a text is not a YouTube channel reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Nothing was given.
    #[error("no YouTube channel was given")]
    Empty,
    /// The text is a URL of another site.
    #[error("`{0}` is not a YouTube address (expected youtube.com)")]
    NotYoutube(String),
    /// The text is neither a URL, an `@handle` nor a `UC…` channel id.
    #[error(
        "`{0}` is not a YouTube channel: use https://www.youtube.com/@handle, \
         https://www.youtube.com/channel/UC…, @handle or a UC… channel id"
    )]
    NotAChannel(String),
}

/// A YouTube channel, as one of the forms YouTube addresses channels by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum YoutubeChannel {
    /// `@handle` (stored without the `@`).
    Handle(String),
    /// `UC…` channel id (24 characters).
    Id(String),
    /// Legacy custom URL `/c/name`.
    Custom(String),
    /// Legacy user URL `/user/name`.
    User(String),
}

const YOUTUBE_HOSTS: &[&str] = &["youtube.com", "www.youtube.com", "m.youtube.com"];

fn is_channel_id(text: &str) -> bool {
    text.len() == 24 && text.starts_with("UC") && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_handle(text: &str) -> bool {
    (3..=30).contains(&text.chars().count()) && text.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_legacy_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= 100 && text.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl YoutubeChannel {
    /// Parses a channel URL (`https://www.youtube.com/@name`, `…/channel/UC…`, `…/c/name`,
    /// `…/user/name`, scheme optional), an `@handle`, or a bare `UC…` channel id.
    pub fn parse(input: &str) -> Result<Self, ChannelError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(ChannelError::Empty);
        }
        let not_a_channel = || ChannelError::NotAChannel(text.to_string());
        if let Some(handle) = text.strip_prefix('@') {
            return is_handle(handle).then(|| Self::Handle(handle.to_string())).ok_or_else(not_a_channel);
        }
        if is_channel_id(text) {
            return Ok(Self::Id(text.to_string()));
        }
        let with_scheme = if text.contains("://") { text.to_string() } else { format!("https://{text}") };
        let url = WebUrl::parse(&with_scheme).ok_or_else(not_a_channel)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(not_a_channel());
        }
        let host = url.host().to_ascii_lowercase();
        if !YOUTUBE_HOSTS.contains(&host.as_str()) {
            return Err(if host.contains('.') { ChannelError::NotYoutube(text.to_string()) } else { not_a_channel() });
        }
        let segments = url.segments();
        // A trailing tab of the channel page (`/videos`, `/live`, `/featured`…) still names the channel.
        match segments.as_slice() {
            [first, ..] if first.starts_with('@') && is_handle(&first[1..]) => Ok(Self::Handle(first[1..].to_string())),
            ["channel", id, ..] if is_channel_id(id) => Ok(Self::Id((*id).to_string())),
            ["c", name, ..] if is_legacy_name(name) => Ok(Self::Custom((*name).to_string())),
            ["user", name, ..] if is_legacy_name(name) => Ok(Self::User((*name).to_string())),
            _ => Err(not_a_channel()),
        }
    }

    /// The channel page's path on youtube.com, e.g. `/@name` or `/channel/UC…`.
    pub fn path(&self) -> String {
        match self {
            Self::Handle(handle) => format!("/@{handle}"),
            Self::Id(id) => format!("/channel/{id}"),
            Self::Custom(name) => format!("/c/{name}"),
            Self::User(name) => format!("/user/{name}"),
        }
    }

    /// The path of the channel's `/live` page (the current live, if any).
    pub fn live_path(&self) -> String {
        format!("{}/live", self.path())
    }
}

impl fmt::Display for YoutubeChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://www.youtube.com{}", self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_youtube_addresses_channels_by() {
        let id = "UCabcdefghijklmnopqrstuv";
        let cases = [
            ("https://www.youtube.com/@SriNithyananda", YoutubeChannel::Handle("SriNithyananda".into())),
            ("youtube.com/@sri.nithya-ananda_1", YoutubeChannel::Handle("sri.nithya-ananda_1".into())),
            ("  @SriNithyananda  ", YoutubeChannel::Handle("SriNithyananda".into())),
            ("https://m.youtube.com/@abc/live", YoutubeChannel::Handle("abc".into())),
            (&format!("https://www.youtube.com/channel/{id}"), YoutubeChannel::Id(id.into())),
            (&format!("http://youtube.com/channel/{id}/videos?view=0"), YoutubeChannel::Id(id.into())),
            (id, YoutubeChannel::Id(id.into())),
            ("https://www.youtube.com/c/Nithyananda", YoutubeChannel::Custom("Nithyananda".into())),
            ("https://www.youtube.com/user/lifebliss", YoutubeChannel::User("lifebliss".into())),
            ("HTTPS://WWW.YOUTUBE.COM/@Caps", YoutubeChannel::Handle("Caps".into())),
        ];
        for (input, expected) in cases {
            assert_eq!(YoutubeChannel::parse(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_channel_with_a_message_saying_why() {
        assert_eq!(YoutubeChannel::parse("   "), Err(ChannelError::Empty));
        assert!(matches!(YoutubeChannel::parse("https://twitch.tv/someone"), Err(ChannelError::NotYoutube(_))));
        for bad in [
            "@a",                                          // handle too short
            "@has space",                                  // not a handle
            "UCshort",                                     // not an id, not a URL
            "https://www.youtube.com/",                    // no channel
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ", // a video, not a channel
            "https://www.youtube.com/channel/UCshort",     // malformed id
            "ftp://youtube.com/@abc",                      // not web
            "javascript:alert(1)",
        ] {
            assert!(matches!(YoutubeChannel::parse(bad), Err(ChannelError::NotAChannel(_))), "{bad}");
        }
        let message = YoutubeChannel::parse("nonsense").map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(message.contains("@handle"), "{message}");
    }

    #[test]
    fn live_page_path_follows_the_channel_form() {
        assert_eq!(YoutubeChannel::Handle("abc".into()).live_path(), "/@abc/live");
        assert_eq!(YoutubeChannel::Id("UCabcdefghijklmnopqrstuv".into()).live_path(), "/channel/UCabcdefghijklmnopqrstuv/live");
        assert_eq!(YoutubeChannel::Handle("abc".into()).to_string(), "https://www.youtube.com/@abc");
    }
}
