//! The source's part of `fanout check`: the versions of the tools the pull runs (yt-dlp — with a
//! warning when it is older than the operator allows —, its JavaScript runtime, ffmpeg), and with
//! `--youtube` the canary: the configured channel (or a watch URL the operator knows is live)
//! looked at, resolved and read for a few seconds right now, through the exact path the engine
//! uses — the same cookies, proxy, yt-dlp arguments and pull mode.

use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{Findings, Level, Settings, SourceSettings};
use crate::ingest::{ManifestSource, PullMode, ResolveError};
use crate::youtube::detect::{DetectorConfig, Observation, watch_page};
use crate::youtube::resolve::{LiveStream, Resolver};
use crate::youtube::ytdlp::{YtDlp, YtDlpError, version_age};

/// How long a tool may take to say its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);
/// How much media the canary reads.
const PROBE_SECONDS: u32 = 3;
/// How long reading it may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// yt-dlp's, its runtime's and ffmpeg's versions; yt-dlp's age against the allowed one.
pub(super) async fn check_tools(source: &SourceSettings, findings: &mut Findings) {
    if source.pull != PullMode::Hls || source.page_manifest {
        let yt_dlp = YtDlp { program: source.yt_dlp.clone(), ..YtDlp::default() };
        match yt_dlp.version().await {
            Ok(version) => match version_age(&version, OffsetDateTime::now_utc()) {
                Some(age) if age > source.yt_dlp_max_age => findings.push(
                    Level::Warn,
                    "yt-dlp",
                    format!(
                        "{version} is {} days old (FANOUT_YT_DLP_MAX_AGE_DAYS allows {}): YouTube changes weekly — update it with \
                         `{} --update-to stable` or `pip install --user -U \"yt-dlp[default]\"`, or set FANOUT_YT_DLP_AUTO_UPDATE=true",
                        age.as_secs() / 86_400,
                        source.yt_dlp_max_age.as_secs() / 86_400,
                        source.yt_dlp
                    ),
                ),
                Some(age) => findings.push(Level::Ok, "yt-dlp", format!("{version} ({} days old)", age.as_secs() / 86_400)),
                None => findings.push(Level::Ok, "yt-dlp", version),
            },
            Err(error) => findings.push(
                Level::Warn,
                "yt-dlp",
                format!(
                    "{}: {error} — the pull cannot resolve lives (pip install --user \"yt-dlp[default]\", or FANOUT_YT_DLP)",
                    source.yt_dlp
                ),
            ),
        }
        if let Some(runtime) = &source.js_runtime {
            let program = runtime.path.as_ref().map_or_else(|| runtime.name.clone(), |p| p.display().to_string());
            match first_line_of(&program, "--version").await {
                Ok(version) => findings.push(Level::Ok, "JavaScript runtime", version),
                Err(error) => findings.push(Level::Warn, "JavaScript runtime", format!("{program}: {error}")),
            }
        }
    }
    match first_line_of(&source.ffmpeg, "-version").await {
        Ok(version) => findings.push(Level::Ok, "ffmpeg", version),
        Err(error) => findings.push(Level::Error, "ffmpeg", format!("{}: {error} — nothing can be pulled (FANOUT_FFMPEG)", source.ffmpeg)),
    }
}

/// The first line `program flag` prints.
async fn first_line_of(program: &str, flag: &str) -> Result<String, String> {
    let mut command = crate::child::command(program, &[]);
    command.arg(flag).stdin(std::process::Stdio::null());
    let output = crate::child::output(command, VERSION_TIMEOUT).await?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
        Some(line) if output.status.success() => Ok(line.to_string()),
        _ => Err(format!("exited with {} and no version", output.status)),
    }
}

/// The canary: the channel's page, the live's stream resolved, a few seconds of it read — or a
/// watch URL given by the operator resolved and read the same way.
pub(super) async fn check_youtube(settings: &Settings, watch: Option<&str>, findings: &mut Findings) {
    const SUBJECT: &str = "YouTube";
    let Some(channel) = settings.youtube_channel.clone() else {
        return findings.push(Level::Error, SUBJECT, "no channel to look at (FANOUT_YOUTUBE_CHANNEL)");
    };
    let engine = &settings.engine;
    let detector = DetectorConfig { base: engine.youtube_url.clone(), channel, poll: engine.poll };
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let setup = match crate::engine::source_setup(&engine.source, &detector, &stop).await {
        Ok(setup) => setup,
        Err(error) => return findings.push(Level::Error, SUBJECT, error.to_string()),
    };
    let (video_id, manifest) = match watch {
        Some(url) => match video_of(url, &setup.youtube_base) {
            Ok(id) => (id, None),
            Err(problem) => return findings.push(Level::Error, "watch URL", problem),
        },
        None => match setup.looker().look(&setup.live_page).await {
            Ok(Observation::Live(live)) => {
                let refused =
                    live.refusal.as_ref().map(|r| format!("; the page refuses to play it here: {}", r.message())).unwrap_or_default();
                let level = if live.refusal.is_some() { Level::Warn } else { Level::Ok };
                findings.push(level, seen_on(&setup), format!("live now: “{}” ({}){refused}", live.title, live.video_id));
                (live.video_id.clone(), live.hls_manifest_url.as_deref().and_then(|u| Url::parse(u).ok()))
            }
            Ok(Observation::NotLive(scheduled)) => {
                let next = scheduled.map(|s| format!("; next: “{}”", s.title)).unwrap_or_default();
                return findings.push(
                    Level::Note,
                    seen_on(&setup),
                    format!("readable, not live now{next} — give a watch URL of a live to try the whole path (fanout check --youtube URL)"),
                );
            }
            Ok(Observation::Ended(ended)) => {
                return findings.push(Level::Note, seen_on(&setup), format!("readable; its last live (“{}”) has ended", ended.title));
            }
            Ok(Observation::Unreadable(problem)) => return findings.push(Level::Error, seen_on(&setup), problem.message()),
            Err(refusal) => return findings.push(Level::Error, seen_on(&setup), refusal.to_string()),
        },
    };
    let watch = watch_page(&setup.youtube_base, &video_id);
    let page_first = matches!(setup.resolver, Resolver::Page | Resolver::YtDlp { page_first: true, .. });
    let stream = LiveStream::new(&video_id, setup.live_page.clone(), watch, setup.youtube.clone(), setup.resolver.clone(), manifest);
    let how = match (&setup.resolver, page_first) {
        (Resolver::Page, _) => "the page's manifest",
        (Resolver::YtDlp { .. }, true) => "the page's manifest, then yt-dlp",
        (Resolver::YtDlp { .. }, false) => "yt-dlp",
    };
    let input = match (setup.ingest.mode, &setup.resolver) {
        (PullMode::YtDlpPipe, Resolver::YtDlp { yt_dlp, .. }) => {
            findings.push(Level::Ok, "resolve", "yt-dlp pipes the media itself (FANOUT_PULL=yt-dlp-pipe)");
            return probe_pipe(yt_dlp, &watch_page(&setup.youtube_base, &video_id), findings).await;
        }
        _ => match stream.manifest(true).await {
            Ok(url) => {
                let expires = crate::ingest::expires_at(&url)
                    .map(|at| format!(", expires in {:.1} h", (at - OffsetDateTime::now_utc()).as_seconds_f64() / 3600.0))
                    .unwrap_or_default();
                findings.push(Level::Ok, "resolve", format!("{how}: a stream on {}{expires}", url.host_str().unwrap_or("?")));
                url
            }
            Err(ResolveError::Refused(problem)) => return findings.push(Level::Error, "resolve", format!("{how}: {}", problem.message())),
            Err(ResolveError::Ended) => return findings.push(Level::Error, "resolve", format!("{how}: the live has ended")),
            Err(ResolveError::Failed(error)) => return findings.push(Level::Error, "resolve", format!("{how}: {error}")),
        },
    };
    probe_url(&setup.ingest.ffmpeg, &input, setup.ingest.proxy.as_ref(), findings).await;
}

/// The subject of the detection's line: where the channel was looked at.
fn seen_on(setup: &crate::engine::live::SourceSetup) -> &'static str {
    if setup.data_api.is_some() { "Data API" } else { "channel page" }
}

/// The video id a watch URL names (`/watch?v=`, `youtu.be/`, `/live/`), checked against the
/// configured YouTube (a URL elsewhere would not prove this server's path).
fn video_of(url: &str, base: &Url) -> Result<String, String> {
    let url = Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let id = url.query_pairs().find(|(k, _)| k == "v").map(|(_, v)| v.into_owned()).or_else(|| {
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next()) {
            (Some("live"), Some(id)) => Some(id.to_string()),
            (Some(id), None) if url.host_str() == Some("youtu.be") => Some(id.to_string()),
            _ => None,
        }
    });
    let id = id.filter(|id| !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let id = id.ok_or_else(|| format!("{url} names no video (a /watch?v=… URL)"))?;
    let same = url.host_str() == base.host_str() || (url.host_str() == Some("youtu.be") && base.host_str() == Some("www.youtube.com"));
    if !same {
        return Err(format!("{url} is not on {base} (FANOUT_YOUTUBE_URL)"));
    }
    Ok(id)
}

/// Reads a few seconds of `input` with ffmpeg, through the proxy the ingest uses.
async fn probe_url(ffmpeg: &str, input: &Url, proxy: Option<&Url>, findings: &mut Findings) {
    let mut command = crate::child::command(ffmpeg, &[]);
    command.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
    if let Some(proxy) = proxy {
        command.args(["-http_proxy", proxy.as_str().trim_end_matches('/')]);
    }
    command.args(["-live_start_index", "-1", "-rw_timeout", "15000000", "-i", input.as_str()]);
    command.args(["-t", &PROBE_SECONDS.to_string(), "-f", "null", "-"]).stdin(std::process::Stdio::null());
    match crate::child::output(command, PROBE_TIMEOUT).await {
        Ok(output) if output.status.success() => {
            findings.push(Level::Ok, "media", format!("ffmpeg read {PROBE_SECONDS} s of the live: the pull will work from this server"));
        }
        Ok(output) => {
            let said = String::from_utf8_lossy(&output.stderr);
            let line = said.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no error message");
            let detail = crate::ingest::command::redact_urls(line);
            let hint = if detail.contains("403") {
                " — YouTube refused the segments (an unsolved challenge, or another egress address than the resolve's)"
            } else {
                ""
            };
            findings.push(Level::Error, "media", format!("ffmpeg could not read the stream: {detail}{hint}"));
        }
        Err(error) => findings.push(Level::Error, "media", format!("ffmpeg: {error}")),
    }
}

/// Reads the first bytes yt-dlp pipes.
async fn probe_pipe(yt_dlp: &YtDlp, watch: &Url, findings: &mut Findings) {
    use tokio::io::AsyncReadExt;
    let cookies = yt_dlp.cookies_copy();
    let mut command = crate::child::command(&yt_dlp.program, &[]);
    command.args(yt_dlp.pipe_args(watch.as_str(), cookies.as_ref().map(|c| c.path())));
    command.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return findings.push(Level::Error, "media", format!("cannot run yt-dlp: {error}")),
    };
    let mut first = vec![0u8; 64 * 1024];
    let read = match child.stdout.as_mut() {
        Some(stdout) => tokio::time::timeout(PROBE_TIMEOUT, stdout.read_exact(&mut first)).await,
        None => return findings.push(Level::Error, "media", "yt-dlp's output cannot be read"),
    };
    let stderr = child.stderr.take();
    crate::child::stop_group(&mut child, Duration::from_secs(2)).await;
    match read {
        Ok(Ok(_)) => findings.push(Level::Ok, "media", "yt-dlp piped the live's media: the pull will work from this server"),
        Ok(Err(_)) | Err(_) => {
            let mut said = String::new();
            if let Some(mut stderr) = stderr {
                let mut bytes = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), (&mut stderr).take(64 * 1024).read_to_end(&mut bytes)).await;
                said = String::from_utf8_lossy(&bytes).into_owned();
            }
            let problem = match crate::youtube::ytdlp::classify_output(&said, "yt-dlp said nothing") {
                YtDlpError::Refused(note) => note.message(),
                YtDlpError::Ended => "the live has ended".into(),
            };
            findings.push(Level::Error, "media", format!("yt-dlp piped no media within {} s: {problem}", PROBE_TIMEOUT.as_secs()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_url_names_its_video_on_the_configured_youtube_only() {
        let base = Url::parse("https://www.youtube.com/").unwrap_or_else(|e| panic!("{e}"));
        let id = |url: &str| video_of(url, &base);
        assert_eq!(id("https://www.youtube.com/watch?v=jfKfPfyJRdk"), Ok("jfKfPfyJRdk".into()));
        assert_eq!(id("https://www.youtube.com/live/jfKfPfyJRdk?si=x"), Ok("jfKfPfyJRdk".into()));
        assert_eq!(id("https://youtu.be/jfKfPfyJRdk"), Ok("jfKfPfyJRdk".into()));
        assert!(id("https://www.youtube.com/@channel").is_err());
        assert!(id("https://www.youtube.com/watch?v=a%20b").is_err(), "only an id's characters");
        assert!(id("https://evil.example/watch?v=jfKfPfyJRdk").is_err(), "not the configured YouTube");
        assert!(id("not a url").is_err());
    }
}
