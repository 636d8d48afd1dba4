//! How Fanout fetches YouTube's pages: as a browser would (its agent, English, consent given),
//! with the operator's cookies when set (so a signed-in session sees what it sees), and through
//! the operator's proxy when set — the same proxy yt-dlp and ffmpeg use, so YouTube sees one
//! address for the page, the resolve and the segments. And how an answer is read: bounded
//! ([`bounded_body`]), whatever it claims its length is.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::config::YoutubeProxy;

/// A browser's user agent: YouTube serves its full page to browsers.
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Why the client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The cookies file could not be read.
    #[error("cannot read the cookies file {path}: {source}")]
    Cookies {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (or the proxy is not usable).
    #[error("cannot build the HTTP client for YouTube: {0}")]
    Http(#[from] reqwest::Error),
}

/// The client YouTube's pages are fetched with.
pub fn youtube_client(cookies: Option<&Path>, proxy: Option<&YoutubeProxy>) -> Result<reqwest::Client, ClientError> {
    let text = match cookies {
        Some(path) => {
            let mut text = String::new();
            let read = std::fs::File::open(path).and_then(|file| file.take(super::cookies::MAX_FILE).read_to_string(&mut text));
            read.map_err(|source| ClientError::Cookies { path: path.display().to_string(), source })?;
            text
        }
        None => String::new(),
    };
    let cookie = super::cookies::youtube_cookie_header(&text, time::OffsetDateTime::now_utc());
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("en-US,en;q=0.9"));
    let mut cookie = reqwest::header::HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("SOCS=CAI; CONSENT=YES+cb"));
    // Never printed by reqwest's own debug output.
    cookie.set_sensitive(true);
    headers.insert(reqwest::header::COOKIE, cookie);
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15));
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.url().as_str())?);
    }
    Ok(builder.build()?)
}

/// The client Google's APIs are asked with: the same deadlines and proxy as the pages, but
/// none of YouTube's cookies (they are for youtube.com alone).
pub fn api_client(proxy: Option<&YoutubeProxy>) -> Result<reqwest::Client, ClientError> {
    let mut builder =
        reqwest::Client::builder().user_agent(USER_AGENT).connect_timeout(Duration::from_secs(5)).timeout(Duration::from_secs(15));
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.url().as_str())?);
    }
    Ok(builder.build()?)
}

/// Why an answer's body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The network failed while reading it.
    #[error("{0}")]
    Network(String),
    /// It is longer than was allowed.
    #[error("an answer over {0} KiB")]
    TooLarge(usize),
}

/// An answer's body, read chunk by chunk and refused past `max` bytes.
pub async fn bounded_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| BodyError::Network(e.without_url().to_string()))? {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(BodyError::TooLarge(max / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
