//! yt-dlp as Fanout runs it: the program with the operator's levers turned into arguments — the
//! JavaScript runtime it solves YouTube's challenges with, the proxy (as the child may see it:
//! never with a password, see [`super::proxy`]), a private copy of the cookies file (yt-dlp
//! writes its cookie jar back; the operator's file stays untouched), extra arguments — and
//! what it answers: a stream URL, a problem in its own words, its version, an update.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use app::model::{SourceProblem, SourceProblemNote};
use time::{Date, OffsetDateTime};
use url::Url;

use crate::config::JsRuntime;

/// The format yt-dlp picks for a live: the best HLS variant (audio and video together), else
/// the best it has.
const FORMAT: &str = "best[protocol^=m3u8]/best";
/// How long a resolve may take (yt-dlp starts Python and may run a JavaScript solver).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(90);
/// How long `--version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an update may take.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(300);

/// yt-dlp and its levers.
#[derive(Debug, Clone, Default)]
pub struct YtDlp {
    /// The program.
    pub program: String,
    /// Extra arguments (validated: none of the ones Fanout sets).
    pub extra_args: Vec<String>,
    /// The JavaScript runtime.
    pub js_runtime: Option<JsRuntime>,
    /// The operator's cookies file.
    pub cookies: Option<PathBuf>,
    /// The proxy as a child is given it (no credentials in it).
    pub proxy: Option<Url>,
}

/// Why yt-dlp gave no stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YtDlpError {
    /// The live is over.
    #[error("the live has ended")]
    Ended,
    /// YouTube (or yt-dlp) refused, for a reason it named.
    #[error("{}", .0.message())]
    Refused(SourceProblemNote),
}

/// A private copy of the cookies file, deleted with the value.
#[derive(Debug)]
pub struct CookiesCopy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl CookiesCopy {
    /// Copies `original` into a fresh directory only this user can read.
    pub fn of(original: &Path) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("fanout-cookies-").tempdir()?;
        let path = dir.path().join("cookies.txt");
        std::fs::copy(original, &path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self { _dir: dir, path })
    }

    /// The copy's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl YtDlp {
    /// What every run gets: no user configuration (only what Fanout passes counts), the
    /// runtime, the proxy, the cookies copy, then the operator's extra arguments.
    fn common_args(&self, cookies: Option<&Path>) -> Vec<String> {
        let mut args: Vec<String> = vec!["--ignore-config".into(), "--no-playlist".into(), "--no-progress".into()];
        if let Some(runtime) = &self.js_runtime {
            args.extend(["--js-runtimes".into(), runtime.yt_dlp_value()]);
        }
        if let Some(proxy) = &self.proxy {
            args.extend(["--proxy".into(), proxy.as_str().trim_end_matches('/').to_string()]);
        }
        if let Some(cookies) = cookies {
            args.extend(["--cookies".into(), cookies.display().to_string()]);
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The arguments that print the stream URL of the live at `watch`.
    pub fn resolve_args(&self, watch: &str, cookies: Option<&Path>) -> Vec<String> {
        let mut args = self.common_args(cookies);
        args.extend(["-g".into(), "-f".into(), FORMAT.into(), watch.to_string()]);
        args
    }

    /// The arguments that write the live at `watch` to standard output.
    pub fn pipe_args(&self, watch: &str, cookies: Option<&Path>) -> Vec<String> {
        let mut args = self.common_args(cookies);
        args.extend(["--quiet".into(), "--no-part".into(), "-f".into(), FORMAT.into(), "-o".into(), "-".into(), watch.to_string()]);
        args
    }

    /// A private copy of the cookies, when there are cookies (a failed copy is said, not fatal).
    pub fn cookies_copy(&self) -> Option<CookiesCopy> {
        let original = self.cookies.as_ref()?;
        match CookiesCopy::of(original) {
            Ok(copy) => Some(copy),
            Err(error) => {
                tracing::warn!(%error, "cannot copy the cookies file; yt-dlp runs without cookies");
                None
            }
        }
    }

    /// Resolves the live at `watch` to its stream URL.
    pub async fn resolve(&self, watch: &str) -> Result<Url, YtDlpError> {
        let cookies = self.cookies_copy();
        let mut command = crate::child::command(&self.program, &[]);
        command.args(self.resolve_args(watch, cookies.as_ref().map(CookiesCopy::path))).stdin(Stdio::null());
        let output =
            crate::child::output(command, RESOLVE_TIMEOUT).await.map_err(|detail| refused(SourceProblem::ResolverMissing, detail))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success()
            && let Some(url) = stdout.lines().map(str::trim).find_map(|line| Url::parse(line).ok())
        {
            return Ok(url);
        }
        Err(classify(&stderr, output.status))
    }

    /// `yt-dlp --version`: its version (a date, `2026.10.26`).
    pub async fn version(&self) -> Result<String, String> {
        let mut command = crate::child::command(&self.program, &[]);
        command.arg("--version").stdin(Stdio::null());
        let output = crate::child::output(command, VERSION_TIMEOUT).await?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if output.status.success() && !version.is_empty() {
            Ok(version)
        } else {
            Err(format!("yt-dlp --version failed ({})", output.status))
        }
    }

    /// Updates yt-dlp: its own updater first; for a copy installed with pip (which refuses to
    /// update itself), pip, with the interpreter yt-dlp runs on. Answers what was done.
    pub async fn update(&self) -> Result<String, String> {
        let mut command = crate::child::command(&self.program, &[]);
        command.args(["--update-to", "stable"]).stdin(Stdio::null());
        let output = crate::child::output(command, UPDATE_TIMEOUT).await?;
        let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.success() {
            return Ok(last_line(&said));
        }
        if !said.to_lowercase().contains("pip") {
            return Err(format!("yt-dlp could not update itself: {}", last_line(&said)));
        }
        let python = interpreter(&self.program).ok_or("yt-dlp was installed with pip, but its interpreter cannot be found")?;
        let mut pip = crate::child::command(&python, &[]);
        pip.args(pip_update_args(&self.program)).stdin(Stdio::null());
        let output = crate::child::output(pip, UPDATE_TIMEOUT).await?;
        let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.success() {
            Ok(format!("updated with pip: {}", last_line(&said)))
        } else {
            Err(format!("pip failed: {}", last_line(&said)))
        }
    }
}

/// pip's arguments to update yt-dlp with what YouTube needs (its `default` extras: yt-dlp-ejs),
/// into the user's site when yt-dlp lives there.
pub fn pip_update_args(program: &str) -> Vec<String> {
    let mut args: Vec<String> = ["-m", "pip", "install", "--upgrade", "--quiet", "--disable-pip-version-check"].map(String::from).to_vec();
    let resolved = which(program).unwrap_or_else(|| PathBuf::from(program));
    if resolved.to_string_lossy().contains("/.local/") {
        args.push("--user".into());
    }
    args.push("yt-dlp[default]".into());
    args
}

/// The interpreter named on the first line of the yt-dlp script (`#!/usr/bin/python3`, or
/// `#!/usr/bin/env python3`).
pub fn interpreter(program: &str) -> Option<String> {
    let path = which(program)?;
    let mut first = String::new();
    std::io::BufReader::new(std::fs::File::open(path).ok()?).take(512).read_line(&mut first).ok()?;
    shebang_interpreter(&first)
}

/// The program a `#!` line runs.
pub fn shebang_interpreter(line: &str) -> Option<String> {
    let mut words = line.strip_prefix("#!")?.split_whitespace();
    let first = words.next()?;
    if first.ends_with("/env") { words.find(|w| !w.starts_with('-')).map(String::from) } else { Some(first.to_string()) }
}

fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// The date of a yt-dlp version (`2026.10.26`, `2026.10.26.1`, nightly `2026.10.26.123456`).
pub fn version_date(version: &str) -> Option<Date> {
    let mut parts = version.trim().split('.');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// How old a yt-dlp version is at `now`, when its version says.
pub fn version_age(version: &str, now: OffsetDateTime) -> Option<Duration> {
    let days = (now.date() - version_date(version)?).whole_days();
    u64::try_from(days).ok().map(|d| Duration::from_secs(d * 86_400))
}

fn refused(problem: SourceProblem, detail: impl Into<String>) -> YtDlpError {
    YtDlpError::Refused(SourceProblemNote { problem, detail: detail.into() })
}

/// What a failed run's error output says.
fn classify(stderr: &str, status: std::process::ExitStatus) -> YtDlpError {
    classify_output(stderr, &format!("yt-dlp exited with {status}"))
}

/// What yt-dlp's error output says; `silent` when it said nothing.
pub fn classify_output(stderr: &str, silent: &str) -> YtDlpError {
    let lower = stderr.to_lowercase();
    if lower.contains("this live event has ended") || lower.contains("live stream recording is not available") {
        return YtDlpError::Ended;
    }
    let detail = stderr.lines().rev().find(|l| l.contains("ERROR")).or_else(|| stderr.lines().last()).unwrap_or("").trim();
    let detail = if detail.is_empty() { silent.to_string() } else { crate::ingest::command::redact_urls(detail) };
    refused(SourceProblem::from_words(stderr).unwrap_or(SourceProblem::ResolverFailed), detail)
}

fn last_line(text: &str) -> String {
    crate::ingest::command::redact_urls(text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_levers_become_arguments_and_no_password_does() {
        let yt_dlp = YtDlp {
            program: "yt-dlp".into(),
            extra_args: vec!["--extractor-args".into(), "youtube:player_client=tv".into()],
            js_runtime: Some(JsRuntime { name: "deno".into(), path: Some("/opt/deno/bin/deno".into()) }),
            cookies: Some("/etc/fanout/cookies.txt".into()),
            proxy: Some(Url::parse("http://127.0.0.1:4321").unwrap_or_else(|e| panic!("{e}"))),
        };
        let args = yt_dlp.resolve_args("https://www.youtube.com/watch?v=abcdefghijk", Some(Path::new("/tmp/copy/cookies.txt"))).join(" ");
        assert_eq!(
            args,
            "--ignore-config --no-playlist --no-progress --js-runtimes deno:/opt/deno/bin/deno --proxy http://127.0.0.1:4321 \
             --cookies /tmp/copy/cookies.txt --extractor-args youtube:player_client=tv -g -f best[protocol^=m3u8]/best \
             https://www.youtube.com/watch?v=abcdefghijk"
        );
        assert!(!args.contains("/etc/fanout/cookies.txt"), "yt-dlp gets the copy, never the operator's file");
        let pipe = yt_dlp.pipe_args("https://www.youtube.com/watch?v=abcdefghijk", None).join(" ");
        assert!(pipe.ends_with("-o - https://www.youtube.com/watch?v=abcdefghijk") && !pipe.contains("--cookies"), "{pipe}");
    }

    #[test]
    fn the_cookies_copy_is_private_and_gone_afterwards() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let original = dir.path().join("cookies.txt");
        std::fs::write(&original, "# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tx\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let copy = CookiesCopy::of(&original).unwrap_or_else(|e| panic!("{e}"));
        let path = copy.path().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
        assert_eq!(std::fs::read(&path).ok(), std::fs::read(&original).ok());
        drop(copy);
        assert!(!path.exists(), "the copy goes with its value");
    }

    #[test]
    fn versions_are_dates_and_ages_follow() {
        let now = time::macros::datetime!(2026-12-01 12:00 UTC);
        assert_eq!(version_age("2026.10.26", now), Some(Duration::from_secs(36 * 86_400)));
        assert_eq!(version_age("2026.11.30.232251", now), Some(Duration::from_secs(86_400)));
        assert_eq!(version_age("not a version", now), None);
        assert_eq!(version_age("2027.01.01", now), None, "a version from the future has no age");
    }

    #[test]
    fn the_interpreter_comes_from_the_scripts_first_line() {
        assert_eq!(shebang_interpreter("#!/usr/bin/python3\n").as_deref(), Some("/usr/bin/python3"));
        assert_eq!(shebang_interpreter("#!/usr/bin/env -S python3 -u\n").as_deref(), Some("python3"));
        assert_eq!(shebang_interpreter("ELF…"), None);
        assert!(pip_update_args("/root/.local/bin/yt-dlp").contains(&"--user".to_string()));
        assert!(!pip_update_args("/opt/fanout/venv/bin/yt-dlp").contains(&"--user".to_string()));
    }

    #[test]
    fn a_failed_run_says_what_stopped_it_without_urls() {
        use std::os::unix::process::ExitStatusExt;
        let failed = std::process::ExitStatus::from_raw(256);
        let bot = classify("ERROR: [youtube] abcdefghijk: Sign in to confirm you’re not a bot. See https://github.com/x?token=1", failed);
        let YtDlpError::Refused(note) = bot else { panic!("a refusal") };
        assert_eq!(note.problem, SourceProblem::BotWall);
        assert!(!note.detail.contains("token=1"), "{}", note.detail);
        assert_eq!(classify("ERROR: [youtube] x: This live event has ended.", failed), YtDlpError::Ended);
        let YtDlpError::Refused(other) = classify("", failed) else { panic!("a refusal") };
        assert_eq!((other.problem, other.detail.contains("exit")), (SourceProblem::ResolverFailed, true));
    }
}
