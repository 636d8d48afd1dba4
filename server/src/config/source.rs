//! The source's settings: how the live is pulled from YouTube — through yt-dlp by default,
//! which keeps up with YouTube's challenges — and the operator's levers for a YouTube that
//! resists a server: a cookies file, a proxy, extra yt-dlp arguments, the JavaScript runtime
//! yt-dlp solves challenges with, and how yt-dlp is kept fresh.

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::secrets::Secret;
use clap::Args;
use url::Url;

use super::{Findings, Level};
use crate::ingest::{PullMode, TranscodeProfile};

/// yt-dlp options Fanout sets itself (or that would break the pull): not accepted in
/// `FANOUT_YT_DLP_ARGS`, each with what to use instead.
const RESERVED: &[(&str, &str)] = &[
    ("-o", "Fanout chooses the output"),
    ("--output", "Fanout chooses the output"),
    ("--exec", "Fanout runs nothing after yt-dlp"),
    ("--config-location", "Fanout passes its own"),
    ("--config-locations", "Fanout passes its own"),
    ("-a", "one live at a time"),
    ("--batch-file", "one live at a time"),
    ("--cookies", "use FANOUT_YT_COOKIES"),
    ("--proxy", "use FANOUT_YT_PROXY"),
    ("--js-runtimes", "use FANOUT_JS_RUNTIME"),
    ("-U", "use FANOUT_YT_DLP_AUTO_UPDATE"),
    ("--update", "use FANOUT_YT_DLP_AUTO_UPDATE"),
    ("--update-to", "use FANOUT_YT_DLP_AUTO_UPDATE"),
];

/// The JavaScript runtimes yt-dlp can solve YouTube's challenges with, in its order of preference.
const RUNTIMES: &[&str] = &["deno", "node", "bun", "quickjs"];

/// The source's settings as given (flags win over the environment).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// How the live is pulled: `yt-dlp` (yt-dlp resolves the stream, ffmpeg pulls it — the
    /// default), `yt-dlp-pipe` (yt-dlp pulls it and pipes it into ffmpeg) or `hls` (only the
    /// manifest the `/live` page gives, without yt-dlp).
    #[arg(long, env = "FANOUT_PULL", value_enum, default_value_t = PullMode::YtDlp, global = true)]
    pub pull: PullMode,

    /// Try the manifest the `/live` page gives before asking yt-dlp (a fast path: YouTube gives
    /// it only to some sessions, and it may need a solved challenge).
    #[arg(long, env = "FANOUT_PAGE_MANIFEST", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub page_manifest: bool,

    /// `copy` (remux only, the default), or transcode to `720p` or `480p`.
    #[arg(long, env = "FANOUT_TRANSCODE", value_parser = transcode_profile, default_value = "copy", global = true)]
    pub transcode: TranscodeProfile,

    /// The ffmpeg program.
    #[arg(long, env = "FANOUT_FFMPEG", default_value = "ffmpeg", global = true)]
    pub ffmpeg: String,

    /// Add a silent audio track when the pulled source has none (platforms end broadcasts
    /// without audio): an audio-only encode, the video still copied.
    #[arg(long, env = "FANOUT_ADD_SILENT_AUDIO", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub add_silent_audio: bool,

    /// The yt-dlp program.
    #[arg(long, env = "FANOUT_YT_DLP", default_value = "yt-dlp", global = true)]
    pub yt_dlp: String,

    /// Extra yt-dlp arguments, split as a shell would: e.g. `--extractor-args
    /// "youtube:player_client=web_safari"`, or a PO-token provider's.
    #[arg(long, env = "FANOUT_YT_DLP_ARGS", allow_hyphen_values = true, global = true)]
    pub yt_dlp_args: Option<String>,

    /// A cookies file (Netscape format, as browser extensions export it) of a YouTube account,
    /// for a server YouTube asks to sign in. Read only; its contents are never logged.
    #[arg(long, env = "FANOUT_YT_COOKIES", global = true)]
    pub yt_cookies: Option<PathBuf>,

    /// An HTTP(S) proxy for everything sent to YouTube — the page, yt-dlp and ffmpeg alike
    /// (`http://user:password@host:port`). Prefer the environment variable.
    #[arg(long, env = "FANOUT_YT_PROXY", hide_env_values = true, global = true)]
    pub yt_proxy: Option<Secret>,

    /// The JavaScript runtime yt-dlp solves YouTube's challenges with: `deno`, `node`, `bun` or
    /// `quickjs`, with `:PATH` to its program. Default: `deno` from the PATH.
    #[arg(long, env = "FANOUT_JS_RUNTIME", global = true)]
    pub js_runtime: Option<String>,

    /// `fanout check` warns when yt-dlp is older than this many days (YouTube changes often).
    #[arg(long, env = "FANOUT_YT_DLP_MAX_AGE_DAYS", default_value_t = 60, global = true)]
    pub yt_dlp_max_age_days: u32,

    /// A YouTube Data API v3 key: the channel is watched through the API (about 1 quota unit a
    /// poll) instead of its `/live` page. Prefer the environment variable.
    #[arg(long, env = "FANOUT_YT_API_KEY", hide_env_values = true, global = true)]
    pub yt_api_key: Option<Secret>,

    /// The Data API's base (a stand-in's in tests).
    #[arg(long, env = "FANOUT_YT_API_URL", default_value = "https://www.googleapis.com/youtube/v3", global = true)]
    pub yt_api_url: String,

    /// Update yt-dlp between lives (at start and then daily, never during a live).
    #[arg(long, env = "FANOUT_YT_DLP_AUTO_UPDATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub yt_dlp_auto_update: bool,
}

/// Reads `copy`, `720p` or `480p`.
fn transcode_profile(text: &str) -> Result<TranscodeProfile, String> {
    text.parse().map_err(|_| format!("“{text}” is not a profile: copy, 720p or 480p"))
}

/// A JavaScript runtime for yt-dlp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsRuntime {
    /// Its name as yt-dlp knows it.
    pub name: String,
    /// Its program, when known.
    pub path: Option<PathBuf>,
}

impl JsRuntime {
    /// yt-dlp's `--js-runtimes` value.
    pub fn yt_dlp_value(&self) -> String {
        match &self.path {
            Some(path) => format!("{}:{}", self.name, path.display()),
            None => self.name.clone(),
        }
    }
}

/// The proxy to YouTube. Its URL may carry a password: `Debug` and [`YoutubeProxy::shown`]
/// leave it out.
#[derive(Clone)]
pub struct YoutubeProxy {
    url: Url,
}

impl std::fmt::Debug for YoutubeProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "YoutubeProxy({})", self.shown())
    }
}

impl YoutubeProxy {
    /// The proxy's URL, credentials included (for the HTTP client and the forwarder only).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether the URL carries a user name or password.
    pub fn has_credentials(&self) -> bool {
        !self.url.username().is_empty() || self.url.password().is_some()
    }

    /// The URL without credentials, as reports show it.
    pub fn shown(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.as_str().trim_end_matches('/').to_string()
    }
}

/// The validated source settings.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// How the live is pulled.
    pub pull: PullMode,
    /// Whether the page's manifest is tried before yt-dlp.
    pub page_manifest: bool,
    /// Copy or transcode.
    pub transcode: TranscodeProfile,
    /// The ffmpeg program.
    pub ffmpeg: String,
    /// Whether a silent audio track is added to a pulled source without audio.
    pub add_silent_audio: bool,
    /// The yt-dlp program.
    pub yt_dlp: String,
    /// Extra yt-dlp arguments.
    pub yt_dlp_args: Vec<String>,
    /// The cookies file.
    pub cookies: Option<PathBuf>,
    /// The proxy.
    pub proxy: Option<YoutubeProxy>,
    /// The JavaScript runtime for yt-dlp.
    pub js_runtime: Option<JsRuntime>,
    /// Older than this, yt-dlp is reported as stale.
    pub yt_dlp_max_age: Duration,
    /// Whether yt-dlp is updated between lives.
    pub yt_dlp_auto_update: bool,
    /// The Data API, when the channel is watched through it: its base and the key.
    pub data_api: Option<(Url, Secret)>,
}

/// Checks the source's settings (reads the cookies file's metadata and the PATH; nothing else).
pub(super) fn check_source(args: &SourceArgs, findings: &mut Findings) -> Option<SourceSettings> {
    findings.push(
        Level::Ok,
        "FANOUT_PULL",
        format!("{} (transcode: {}){}", args.pull, args.transcode, if args.page_manifest { "; the page's manifest first" } else { "" }),
    );
    let yt_dlp_args = check_yt_dlp_args(args.yt_dlp_args.as_deref(), findings);
    let cookies = check_cookies(args.yt_cookies.as_deref(), findings);
    let proxy = check_proxy(args.yt_proxy.as_ref(), findings);
    let js_runtime = check_js_runtime(args.js_runtime.as_deref(), args.pull, findings);
    let max_age = match args.yt_dlp_max_age_days {
        0 => {
            findings.push(Level::Error, "FANOUT_YT_DLP_MAX_AGE_DAYS", "must be at least 1");
            None
        }
        days => Some(Duration::from_secs(u64::from(days) * 86_400)),
    };
    let data_api = check_data_api(args, findings);
    if args.yt_dlp_auto_update {
        findings.push(Level::Ok, "FANOUT_YT_DLP_AUTO_UPDATE", "yt-dlp is updated at start and daily, between lives");
    }
    Some(SourceSettings {
        pull: args.pull,
        page_manifest: args.page_manifest,
        transcode: args.transcode,
        ffmpeg: args.ffmpeg.clone(),
        add_silent_audio: args.add_silent_audio,
        yt_dlp: args.yt_dlp.clone(),
        yt_dlp_args: yt_dlp_args?,
        cookies: cookies?,
        proxy: proxy?,
        js_runtime,
        yt_dlp_max_age: max_age?,
        yt_dlp_auto_update: args.yt_dlp_auto_update,
        data_api: data_api?,
    })
}

fn check_data_api(args: &SourceArgs, findings: &mut Findings) -> Option<Option<(Url, Secret)>> {
    let Some(key) = args.yt_api_key.clone().filter(|k| !k.expose().trim().is_empty()) else {
        findings.push(
            Level::Note,
            "FANOUT_YT_API_KEY",
            "not set: the channel's public feed is polled, its /live page when the feed calls for it (set a Data API key to poll the API instead)",
        );
        return Some(None);
    };
    let url = match Url::parse(&args.yt_api_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => {
            findings.push(Level::Error, "FANOUT_YT_API_URL", format!("“{}” is not an http(s) URL", args.yt_api_url));
            return None;
        }
    };
    if key.expose().len() < 20 || !key.expose().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        findings.push(Level::Error, "FANOUT_YT_API_KEY", "does not look like a Google API key (39 characters, letters, digits, - and _)");
        return None;
    }
    findings.push(
        Level::Ok,
        "FANOUT_YT_API_KEY",
        format!("set (not shown): the channel is watched through the Data API at {url}, about 1 quota unit a poll, 2 while a live is on or scheduled"),
    );
    Some(Some((url, key)))
}

/// Splits the extra arguments as a shell would, refusing the ones Fanout sets itself.
pub fn split_yt_dlp_args(text: &str) -> Result<Vec<String>, String> {
    let words = shlex::split(text).ok_or_else(|| "has an unclosed quote or a trailing backslash".to_string())?;
    for word in &words {
        let option = word.split('=').next().unwrap_or(word);
        if let Some((_, instead)) = RESERVED.iter().find(|(reserved, _)| *reserved == option) {
            return Err(format!("`{option}` is not accepted here: {instead}"));
        }
    }
    Ok(words)
}

fn check_yt_dlp_args(text: Option<&str>, findings: &mut Findings) -> Option<Vec<String>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Some(Vec::new()) };
    match split_yt_dlp_args(text) {
        Ok(words) => {
            findings.push(Level::Ok, "FANOUT_YT_DLP_ARGS", format!("{} extra argument(s): {}", words.len(), words.join(" ")));
            Some(words)
        }
        Err(problem) => {
            findings.push(Level::Error, "FANOUT_YT_DLP_ARGS", problem);
            None
        }
    }
}

fn check_cookies(path: Option<&Path>, findings: &mut Findings) -> Option<Option<PathBuf>> {
    let Some(path) = path else {
        findings.push(
            Level::Note,
            "FANOUT_YT_COOKIES",
            "not set: YouTube sees an anonymous visitor (set it if this server meets a bot wall)",
        );
        return Some(None);
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => metadata,
        Ok(_) => {
            findings.push(Level::Error, "FANOUT_YT_COOKIES", format!("{} is not a file", path.display()));
            return None;
        }
        Err(error) => {
            findings.push(Level::Error, "FANOUT_YT_COOKIES", format!("cannot read {}: {error}", path.display()));
            return None;
        }
    };
    if std::fs::File::open(path).is_err() {
        findings.push(Level::Error, "FANOUT_YT_COOKIES", format!("{} is not readable by Fanout's user", path.display()));
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o077 != 0 {
        findings.push(
            Level::Warn,
            "FANOUT_YT_COOKIES",
            format!("{} can be read by other users: it signs in to a YouTube account (chmod 600 it)", path.display()),
        );
    } else {
        findings.push(Level::Ok, "FANOUT_YT_COOKIES", format!("{} (its contents are never shown)", path.display()));
    }
    Some(Some(path.to_path_buf()))
}

fn check_proxy(proxy: Option<&Secret>, findings: &mut Findings) -> Option<Option<YoutubeProxy>> {
    let Some(text) = proxy.map(|p| p.expose().trim().to_string()).filter(|t| !t.is_empty()) else {
        findings.push(Level::Note, "FANOUT_YT_PROXY", "not set: YouTube traffic leaves from this server's own address");
        return Some(None);
    };
    let url = match Url::parse(&text) {
        Ok(url) => url,
        Err(_) => {
            // Not echoed: it may hold a password.
            findings.push(Level::Error, "FANOUT_YT_PROXY", "is not a URL (e.g. http://host:3128)");
            return None;
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        findings.push(
            Level::Error,
            "FANOUT_YT_PROXY",
            format!(
                "must be an http:// or https:// proxy (not {}://): ffmpeg, which fetches the live's segments, speaks only HTTP proxies",
                url.scheme()
            ),
        );
        return None;
    }
    let proxy = YoutubeProxy { url };
    let credentials = if proxy.has_credentials() { " (with credentials, not shown)" } else { "" };
    findings.push(Level::Ok, "FANOUT_YT_PROXY", format!("{}{credentials}: the page, yt-dlp and ffmpeg go through it", proxy.shown()));
    Some(Some(proxy))
}

/// The first `program` on the PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Reads `name[:path]`, or finds deno on the PATH.
pub fn parse_js_runtime(text: Option<&str>) -> Result<Option<JsRuntime>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(on_path("deno").map(|path| JsRuntime { name: "deno".into(), path: Some(path) }));
    };
    let (name, path) = match text.split_once(':') {
        Some((name, path)) => (name, Some(PathBuf::from(path))),
        None => (text, None),
    };
    if !RUNTIMES.contains(&name) {
        return Err(format!("`{name}` is not a runtime yt-dlp supports ({})", RUNTIMES.join(", ")));
    }
    let path = match path {
        Some(path) if is_executable(&path) || path.is_dir() => Some(path),
        Some(path) => return Err(format!("{} is not a program", path.display())),
        None => on_path(name),
    };
    Ok(Some(JsRuntime { name: name.to_string(), path }))
}

fn check_js_runtime(text: Option<&str>, pull: PullMode, findings: &mut Findings) -> Option<JsRuntime> {
    match parse_js_runtime(text) {
        Ok(Some(runtime)) => {
            let at = runtime.path.as_ref().map_or_else(|| "from the PATH".to_string(), |p| p.display().to_string());
            findings.push(Level::Ok, "FANOUT_JS_RUNTIME", format!("{} ({at})", runtime.name));
            Some(runtime)
        }
        Ok(None) if pull == PullMode::Hls => None,
        Ok(None) => {
            findings.push(
                Level::Warn,
                "FANOUT_JS_RUNTIME",
                "no JavaScript runtime found: yt-dlp cannot solve YouTube's challenges and most lives will not play (pip install deno, or set FANOUT_JS_RUNTIME)",
            );
            None
        }
        Err(problem) => {
            findings.push(Level::Warn, "FANOUT_JS_RUNTIME", format!("{problem}: yt-dlp runs with its own defaults"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_arguments_split_like_a_shell_and_fanouts_own_are_refused() {
        assert_eq!(
            split_yt_dlp_args(r#"--extractor-args "youtube:player_client=web_safari,tv" -v"#),
            Ok(vec!["--extractor-args".to_string(), "youtube:player_client=web_safari,tv".to_string(), "-v".to_string()])
        );
        for bad in ["-o -", "--proxy=http://x", "--cookies c.txt", "--exec rm", "-U"] {
            assert!(split_yt_dlp_args(bad).is_err(), "{bad}");
        }
        assert!(split_yt_dlp_args("--extractor-args 'unclosed").is_err());
    }

    #[test]
    fn a_proxy_is_shown_without_its_credentials_and_must_speak_http() {
        let mut findings = Findings::default();
        let proxy = check_proxy(Some(&Secret::new("http://ana:s3cret@proxy.example:3128".to_string())), &mut findings).flatten();
        let proxy = proxy.unwrap_or_else(|| panic!("valid"));
        assert!(proxy.has_credentials());
        assert_eq!(proxy.shown(), "http://proxy.example:3128");
        assert!(!format!("{findings}{proxy:?}").contains("s3cret"), "{findings}");
        let mut findings = Findings::default();
        assert!(check_proxy(Some(&Secret::new("socks5://proxy.example:1080".to_string())), &mut findings).is_none());
        assert!(findings.to_string().contains("HTTP proxies"), "{findings}");
        let mut findings = Findings::default();
        assert!(check_proxy(Some(&Secret::new("not a url with s3cret".to_string())), &mut findings).is_none());
        assert!(!findings.to_string().contains("s3cret"), "an unreadable value is not echoed: {findings}");
    }

    #[test]
    fn runtimes_are_named_with_an_optional_path() {
        assert_eq!(
            parse_js_runtime(Some("node:/usr/bin/node")).map(|r| r.map(|r| r.yt_dlp_value())),
            Ok(Some("node:/usr/bin/node".into()))
        );
        assert!(parse_js_runtime(Some("rhino")).is_err());
        assert!(parse_js_runtime(Some("deno:/nonexistent/deno")).is_err());
    }

    #[test]
    fn a_cookies_file_must_be_a_readable_file_and_private() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("cookies.txt");
        std::fs::write(&file, "# Netscape HTTP Cookie File\n").unwrap_or_else(|e| panic!("{e}"));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap_or_else(|e| panic!("{e}"));
        let mut findings = Findings::default();
        assert_eq!(check_cookies(Some(&file), &mut findings), Some(Some(file.clone())));
        assert_eq!(findings.count(Level::Warn), 1, "{findings}");
        let mut findings = Findings::default();
        assert_eq!(check_cookies(Some(dir.path()), &mut findings), None, "a directory is refused");
        assert_eq!(check_cookies(Some(&dir.path().join("none")), &mut findings), None);
    }
}
