//! The built site (`cargo leptos build`'s output under `FANOUT_SITE_ROOT`): which files the
//! pages load — content-hashed names, from the `hash.txt` the build scripts copy into the site,
//! or plain names from a build without hashing — and how every file of it is served: the
//! `.br`/`.gz` twins a release build precompressed, chosen by the request's `Accept-Encoding`
//! (with `Vary: Accept-Encoding`), hashed names cached for a year as immutable, the pages' files
//! under plain names revalidated on each use, other public files kept a day. Compression costs
//! nothing per request: nothing is compressed here.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The file, in the site's root, that names its hashed files (`js: <hash>`, `wasm: …`, `css: …`).
pub const HASH_FILE: &str = "hash.txt";
/// The name the build gives the pages' files, before any hash.
const OUTPUT_NAME: &str = "fanout";
/// Where the pages' files are, under the site's root.
pub const PKG_DIR: &str = "pkg";

/// How a file whose name carries its content's hash is cached: a year, never revalidated.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// How a file of the pages' own under a plain name (a build without hashing) is cached: kept,
/// but revalidated each time (a 304 when unchanged), so a new build is never missed.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
/// How the site's other public files (the icon, `robots.txt`) are cached: a day.
const PUBLIC: HeaderValue = HeaderValue::from_static("public, max-age=86400");

/// The files the pages load, as the site names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFiles {
    /// `pkg/fanout[.<hash>].js`, `.wasm`, `.css`, relative to the site's root.
    pub files: [String; 3],
    /// Whether the names carry hashes (the site has a `hash.txt`).
    pub hashed: bool,
}

impl SiteFiles {
    /// Reads which files the site at `root` names: from its `hash.txt` when it has one (a hash
    /// file it cannot read or that lacks a name counts as none), plain names otherwise.
    pub fn read(root: &Path) -> Self {
        let hashes = std::fs::read(root.join(HASH_FILE)).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let named = |kind: &str| {
            let hash = hashes.as_deref()?.lines().find_map(|line| {
                let (name, hash) = line.split_once(':')?;
                (name.trim() == kind).then(|| hash.trim().to_string())
            })?;
            (is_hash(&hash)).then(|| format!("{PKG_DIR}/{OUTPUT_NAME}.{hash}.{kind}"))
        };
        match (named("js"), named("wasm"), named("css")) {
            (Some(js), Some(wasm), Some(css)) => Self { files: [js, wasm, css], hashed: true },
            _ => Self { files: ["js", "wasm", "css"].map(|kind| format!("{PKG_DIR}/{OUTPUT_NAME}.{kind}")), hashed: false },
        }
    }

    /// The hash file Leptos reads to name the files in a page (an absolute path: Leptos joins it
    /// to the executable's directory, and an absolute path stays itself).
    pub fn hash_file(root: &Path) -> PathBuf {
        std::path::absolute(root.join(HASH_FILE)).unwrap_or_else(|_| root.join(HASH_FILE))
    }
}

/// Whether `text` is a hash as cargo-leptos writes it: 22 characters of unpadded base64url (an
/// MD5 digest).
fn is_hash(text: &str) -> bool {
    text.len() == 22 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the file at `path` (a request path) is named by its content's hash:
/// `…/<stem>.<hash>.<extension>`, as the build names the pages' files and the WASM's chunks.
fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplitn(3, '.');
    let (_extension, hash, stem) = (parts.next(), parts.next(), parts.next());
    stem.is_some_and(|stem| !stem.is_empty()) && hash.is_some_and(is_hash)
}

/// Serves the site's files from `root`: the precompressed twins when the client takes them;
/// paths that name no file go to `not_found` (the pages' 404).
pub fn files<F>(root: &Path, not_found: F) -> tower_http::services::ServeDir<F> {
    tower_http::services::ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(not_found)
}

/// Sets how a file the site served may be cached, and that it varies by `Accept-Encoding`;
/// anything else (the pages' 404) passes untouched.
pub async fn caching(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let policy = if is_hashed_name(path) {
        IMMUTABLE
    } else if path.strip_prefix('/').and_then(|p| p.strip_prefix(PKG_DIR)).is_some_and(|rest| rest.starts_with('/')) {
        REVALIDATE
    } else {
        PUBLIC
    };
    let mut response = next.run(request).await;
    let status = response.status();
    let served = status.is_success() || status == StatusCode::NOT_MODIFIED;
    let page = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if served && !page {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, policy);
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        for path in
            ["/pkg/fanout.AbCdEfGhIjKlMnOpQrSt-_.wasm", "/pkg/fanout.AbCdEfGhIjKlMnOpQrSt-_.js", "/pkg/chunk_3.0123456789abcdefghijkl.wasm"]
        {
            assert!(is_hashed_name(path), "{path}");
        }
        for path in [
            "/pkg/fanout.wasm",
            "/favicon.svg",
            "/pkg/fanout.short.wasm",
            "/pkg/.AbCdEfGhIjKlMnOpQrSt-_.js",
            "/",
            "/pkg/fanout.AbCdEfGhIjKlMnOpQrS!_.js",
        ] {
            assert!(!is_hashed_name(path), "{path}");
        }
    }

    #[test]
    fn the_site_names_its_files_from_its_hash_file_or_plainly() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let plain = SiteFiles::read(dir.path());
        assert_eq!((plain.files.clone(), plain.hashed), (["pkg/fanout.js", "pkg/fanout.wasm", "pkg/fanout.css"].map(String::from), false));

        std::fs::write(
            dir.path().join(HASH_FILE),
            "js: aaaaaaaaaaaaaaaaaaaaaa\nwasm: bbbbbbbbbbbbbbbbbbbbbb\ncss: cccccccccccccccccccccc\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let hashed = SiteFiles::read(dir.path());
        assert!(hashed.hashed);
        assert_eq!(hashed.files[1], "pkg/fanout.bbbbbbbbbbbbbbbbbbbbbb.wasm");

        // A hash file that lacks a name, or names something that is no hash, counts as none.
        for text in ["js: aaaaaaaaaaaaaaaaaaaaaa\nwasm: bbbbbbbbbbbbbbbbbbbbbb\n", "js: ../../etc\nwasm: b\ncss: c\n", "\u{0}\u{ff}"] {
            std::fs::write(dir.path().join(HASH_FILE), text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(SiteFiles::read(dir.path()), plain, "{text:?}");
        }
    }
}
