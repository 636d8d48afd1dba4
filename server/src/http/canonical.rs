//! Canonical request paths. Every routing decision in Fanout — the admin gate, the rate limits,
//! the Leptos router behind the fallback — reads the path, and they must all read the same one.
//! A path with dot segments (`/./admin`, `/x/../admin`), empty segments (`//admin`),
//! backslashes, or percent-encoded characters that need no encoding (`/%2e/admin`,
//! `/%61dmin`) or that change its shape (`%2f`, `%5c`) can be read one way by the gate and
//! another by a router that normalises it. Such paths are refused here, before anything else
//! looks at them: no legitimate client sends them (browsers normalise dot segments and never
//! encode unreserved characters).

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Why a path is not canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// A `.` or `..` segment (possibly percent-encoded).
    #[error("the path has a dot segment")]
    DotSegment,
    /// Two slashes in a row.
    #[error("the path has an empty segment")]
    EmptySegment,
    /// A backslash, or an encoded slash or backslash.
    #[error("the path has an encoded separator or a backslash")]
    Separator,
    /// A percent-encoded character that needs no encoding (a letter, digit, `-`, `.`, `_`, `~`).
    #[error("the path encodes a character that needs no encoding")]
    NeedlessEncoding,
    /// A `%` not followed by two hex digits, or a control character.
    #[error("the path is malformed")]
    Malformed,
}

/// Checks that `path` (as sent, before any decoding) is canonical.
pub fn check(path: &str) -> Result<(), PathProblem> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') && path != "*" {
        return Err(PathProblem::Malformed);
    }
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => return Err(PathProblem::Separator),
            b'%' => {
                let decoded =
                    bytes.get(i + 1..i + 3).and_then(|hex| std::str::from_utf8(hex).ok()).and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match decoded {
                    None => return Err(PathProblem::Malformed),
                    Some(b'/' | b'\\') => return Err(PathProblem::Separator),
                    Some(c) if c.is_ascii_control() => return Err(PathProblem::Malformed),
                    Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') => {
                        return Err(PathProblem::NeedlessEncoding);
                    }
                    Some(_) => i += 3,
                }
            }
            c if c.is_ascii_control() => return Err(PathProblem::Malformed),
            _ => i += 1,
        }
    }
    // Every segment after the leading slash; the last may be empty (a trailing slash).
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (n, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => return Err(PathProblem::DotSegment),
            "" if n + 1 < segments.len() => return Err(PathProblem::EmptySegment),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses (400) a request whose path is not canonical, before any route sees it.
pub async fn refuse_non_canonical(request: Request, next: Next) -> Response {
    match check(request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(problem) => {
            tracing::info!(%problem, "refused a request with a non-canonical path");
            (StatusCode::BAD_REQUEST, format!("Bad request: {problem}.")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "/",
            "/admin",
            "/admin/",
            "/admin/login",
            "/manage/0b6a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b.1764500000.abc_-DEF",
            "/pkg/fanout.wasm",
            "/api/admin_events",
            "/a%20b",
            "/%C3%A9t%C3%A9",
            "/favicon.svg",
            "/x.y/..z/z..",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn paths_a_router_could_read_differently_are_refused() {
        for (path, problem) in [
            ("/./admin", PathProblem::DotSegment),
            ("/x/../admin", PathProblem::DotSegment),
            ("/admin/.", PathProblem::DotSegment),
            ("/admin/..", PathProblem::DotSegment),
            ("//admin", PathProblem::EmptySegment),
            ("/admin//accounts", PathProblem::EmptySegment),
            ("/%2e/admin", PathProblem::NeedlessEncoding),
            ("/%2E%2E/admin", PathProblem::NeedlessEncoding),
            ("/.%2e/admin", PathProblem::NeedlessEncoding),
            ("/%61dmin", PathProblem::NeedlessEncoding),
            ("/admin%2flogin", PathProblem::Separator),
            ("/admin%5Clogin", PathProblem::Separator),
            ("/admin\\login", PathProblem::Separator),
            ("/admin%", PathProblem::Malformed),
            ("/admin%zz", PathProblem::Malformed),
            ("/admin%00", PathProblem::Malformed),
        ] {
            assert_eq!(check(path), Err(problem), "{path}");
        }
    }
}
