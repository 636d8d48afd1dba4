//! The operator's cookies file (Netscape format, as browser extensions and yt-dlp write it),
//! read for the page fetch: the unexpired cookies of youtube.com, as one `Cookie` header. The
//! file is only read; its contents never reach a log line.

use time::OffsetDateTime;

/// The largest cookies file read.
pub const MAX_FILE: u64 = 1024 * 1024;

/// The `Cookie` header value for youtube.com from the file's `text` at `now`, with the consent
/// cookies added unless the file has its own. Lines that are not cookies are skipped.
pub fn youtube_cookie_header(text: &str, now: OffsetDateTime) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        // `#HttpOnly_` marks an HTTP-only cookie; any other `#` starts a comment.
        let line = line.strip_prefix("#HttpOnly_").unwrap_or(line);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [domain, _subdomains, _path, _secure, expires, name, value] = fields[..] else { continue };
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        if !(domain == "youtube.com" || domain.ends_with(".youtube.com")) {
            continue;
        }
        let expires: i64 = expires.trim().parse().unwrap_or(0);
        if expires != 0 && expires < now.unix_timestamp() {
            continue;
        }
        let valid = |text: &str| !text.is_empty() && !text.contains([';', '\r', '\n', '\0']);
        if !valid(name) || value.contains([';', '\r', '\n', '\0']) {
            continue;
        }
        match pairs.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value.to_string(),
            None => pairs.push((name.to_string(), value.to_string())),
        }
    }
    for (name, value) in [("SOCS", "CAI"), ("CONSENT", "YES+cb")] {
        if !pairs.iter().any(|(n, _)| n == name) {
            pairs.push((name.into(), value.into()));
        }
    }
    pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtubes_unexpired_cookies_make_one_header_with_consent() {
        let now = time::macros::datetime!(2026-12-01 12:00 UTC);
        let file = "# Netscape HTTP Cookie File\n\
                    .youtube.com\tTRUE\t/\tTRUE\t1893456000\tSID\tabc\n\
                    #HttpOnly_.youtube.com\tTRUE\t/\tTRUE\t1893456000\t__Secure-3PSID\tdef\n\
                    .youtube.com\tTRUE\t/\tTRUE\t1000\tOLD\tgone\n\
                    .google.com\tTRUE\t/\tTRUE\t0\tNID\tother-site\n\
                    www.youtube.com\tFALSE\t/\tFALSE\t0\tPREF\thl=en\n\
                    broken line\n\
                    .youtube.com\tTRUE\t/\tTRUE\t0\tSOCS\tCAISNQ\n";
        assert_eq!(youtube_cookie_header(file, now), "SID=abc; __Secure-3PSID=def; PREF=hl=en; SOCS=CAISNQ; CONSENT=YES+cb");
        assert_eq!(youtube_cookie_header("", now), "SOCS=CAI; CONSENT=YES+cb", "no file: consent only");
        assert_eq!(
            youtube_cookie_header(".youtube.com\tTRUE\t/\tTRUE\t0\tX\ta;b\n", now),
            "SOCS=CAI; CONSENT=YES+cb",
            "no header injection"
        );
    }
}
