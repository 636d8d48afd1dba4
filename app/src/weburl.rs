//! The web addresses people type, parsed by the WHATWG URL Standard — by the `url` crate on the
//! server and by the browser's own `URL` in the browser, so the page's WASM carries no second
//! copy of IDNA and Unicode normalisation (about a sixth of the sign-up page's code). Both follow
//! the same standard, and the server, which decides, always parses with the `url` crate; the
//! browser's answer only guides the volunteer as they type.
//!
//! [`WebUrl`] keeps the parts the form's rules read: scheme, host, path and one query value.

/// A parsed absolute URL: the parts the form's rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    scheme: String,
    host: String,
    path: String,
    /// The query, without its `?`, still encoded.
    query: String,
}

impl WebUrl {
    /// Parses `text` as an absolute URL; `None` if it is not one. Where browsers part from the
    /// standard, both sides refuse alike: text with whitespace or control characters in it is
    /// not an address here (Chromium takes `https://exa mple.com` and escapes the space in the
    /// host), and a host must come out as plain ASCII letters, digits, `-` and `.` (or an IPv6
    /// literal).
    pub fn parse(text: &str) -> Option<Self> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let url = parse(text)?;
        let host_ok = url.host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            || (url.host.starts_with('[')
                && url.host.ends_with(']')
                && url.host.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, '[' | ']' | ':' | '.')));
        host_ok.then_some(url)
    }

    /// The scheme, lowercase, without the colon (`https`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host as serialised (lowercase ASCII, punycode for other scripts, for web schemes);
    /// empty if there is none.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path's non-empty segments, still percent-encoded.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|segment| !segment.is_empty()).collect()
    }

    /// The first value of the query parameter `name`, decoded as
    /// `application/x-www-form-urlencoded`.
    pub fn query_value(&self, name: &str) -> Option<String> {
        query_value(&self.query, name)
    }
}

#[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
fn parse(text: &str) -> Option<WebUrl> {
    let url = url::Url::parse(text).ok()?;
    Some(WebUrl {
        scheme: url.scheme().to_string(),
        host: url.host_str().unwrap_or_default().to_string(),
        path: url.path().to_string(),
        query: url.query().unwrap_or_default().to_string(),
    })
}

#[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

#[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
fn parse(text: &str) -> Option<WebUrl> {
    let url = web_sys::Url::new(text).ok()?;
    let protocol = url.protocol();
    let search = url.search();
    Some(WebUrl {
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_string(),
        host: url.hostname(),
        path: url.pathname(),
        query: search.strip_prefix('?').unwrap_or(&search).to_string(),
    })
}

#[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
fn query_value(query: &str, name: &str) -> Option<String> {
    web_sys::UrlSearchParams::new_with_str(query).ok()?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_the_rules_read() {
        let url = WebUrl::parse("HTTPS://WWW.YouTube.com/@Name/videos?x=1&id=42&id=7#top").unwrap_or_else(|| panic!("parses"));
        assert_eq!((url.scheme(), url.host(), url.segments()), ("https", "www.youtube.com", vec!["@Name", "videos"]));
        assert_eq!((url.query_value("id"), url.query_value("y")), (Some("42".to_string()), None));
        let url = WebUrl::parse("https://xn--bcher-kva.example/a%20b//c/").unwrap_or_else(|| panic!("parses"));
        assert_eq!((url.host(), url.segments()), ("xn--bcher-kva.example", vec!["a%20b", "c"]));
        assert_eq!(WebUrl::parse("https://bücher.example/").map(|url| url.host().to_string()).as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(WebUrl::parse("mailto:someone@example.com").map(|url| url.host().is_empty()), Some(true));
        assert_eq!(WebUrl::parse("http://[::1]:8080/a").map(|url| url.host().to_string()).as_deref(), Some("[::1]"));
        for not_a_url in ["", "youtube.com/@name", "https://exa mple.com/", "https://x.com/a b", "https://x.com/\u{7}", "https://[::1/"] {
            assert_eq!(WebUrl::parse(not_a_url), None, "{not_a_url:?}");
        }
    }
}
