//! The live source: ffmpeg's test pattern (`testsrc2`) and a tone (`sine`), encoded to H.264 and
//! AAC with a 2 s GOP, in real time — either pushed to an RTMP URL, or written as live HLS that
//! a small HTTP server serves on loopback (what YouTube's manifest is to Fanout).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::task::JoinHandle;

use crate::WorldError;
use crate::process::Process;

/// The encoding every source uses; without `audio`, the video alone (no tone, no AAC).
fn encoder_args(video_kbps: u32, audio: bool) -> Vec<String> {
    let rate = format!("{video_kbps}k");
    let buffer = format!("{}k", video_kbps * 2);
    let mut args: Vec<&str> = vec!["-hide_banner", "-nostats", "-loglevel", "warning", "-re"];
    args.extend(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"]);
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]);
    }
    args.extend(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"]);
    args.extend(["-g", "60", "-keyint_min", "60", "-sc_threshold", "0"]);
    args.extend(["-b:v", &rate, "-maxrate", &rate, "-bufsize", &buffer]);
    if audio {
        args.extend(["-c:a", "aac", "-b:a", "96k", "-ar", "44100"]);
    }
    args.into_iter().map(str::to_string).collect()
}

/// Where a source writes.
#[derive(Debug, Clone)]
enum Output {
    /// Pushes FLV to this URL.
    Rtmp(String),
    /// Writes HLS into this directory.
    Hls(PathBuf),
}

/// A running source.
#[derive(Debug)]
pub struct LiveSource {
    process: Option<Process>,
    output: Output,
    log: PathBuf,
    hls: Option<HlsServer>,
    audio: bool,
}

/// The HTTP server of an HLS source.
#[derive(Debug)]
struct HlsServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for HlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LiveSource {
    /// Pushes the live to `url` (e.g. a relay's ingest).
    pub async fn rtmp(world_dir: &Path, url: &str) -> Result<Self, WorldError> {
        let mut source =
            Self { process: None, output: Output::Rtmp(url.to_string()), log: world_dir.join("source.log"), hls: None, audio: true };
        source.start().await?;
        Ok(source)
    }

    /// Writes the live as HLS under `world_dir/hls` and serves it; see [`LiveSource::hls_url`].
    pub async fn hls(world_dir: &Path) -> Result<Self, WorldError> {
        Self::hls_with(world_dir, true).await
    }

    /// The same, with video only (a source without audio).
    pub async fn hls_video_only(world_dir: &Path) -> Result<Self, WorldError> {
        Self::hls_with(world_dir, false).await
    }

    async fn hls_with(world_dir: &Path, audio: bool) -> Result<Self, WorldError> {
        let dir = world_dir.join("hls");
        std::fs::create_dir_all(&dir).map_err(|source| WorldError::Io { what: "create the HLS directory".into(), source })?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| WorldError::Io { what: "bind the HLS server".into(), source })?;
        let address = listener.local_addr().map_err(|source| WorldError::Io { what: "read its address".into(), source })?;
        let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&dir));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let hls = Some(HlsServer { address, task });
        let mut source = Self { process: None, output: Output::Hls(dir), log: world_dir.join("source.log"), hls, audio };
        source.start().await?;
        source.wait_for_segments(2).await?;
        Ok(source)
    }

    /// The live playlist's URL (HLS sources only).
    pub fn hls_url(&self) -> Option<String> {
        self.hls.as_ref().map(|h| format!("http://{}/live.m3u8", h.address))
    }

    async fn wait_for_segments(&self, count: usize) -> Result<(), WorldError> {
        let Some(url) = self.hls_url() else { return Ok(()) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let playlist = async { reqwest::get(&url).await.ok()?.text().await.ok() }.await.unwrap_or_default();
            if playlist.matches("#EXTINF").count() >= count {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(WorldError::NotReady {
            program: "the HLS source".into(),
            seconds: 30,
            log: std::fs::read_to_string(&self.log).unwrap_or_default(),
        })
    }

    fn command_line(&self) -> Vec<String> {
        let mut args = encoder_args(800, self.audio);
        match &self.output {
            Output::Rtmp(url) => args.extend(["-f".to_string(), "flv".to_string(), url.clone()]),
            Output::Hls(dir) => {
                // Numbering continues across restarts, as a real live's media sequence does.
                let first = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 2).unwrap_or(0);
                args.extend(
                    ["-f", "hls", "-hls_time", "2", "-hls_list_size", "6", "-hls_flags", "delete_segments+independent_segments"]
                        .iter()
                        .map(|s| s.to_string()),
                );
                args.extend(["-start_number".to_string(), first.to_string()]);
                args.extend(["-hls_segment_filename".to_string(), dir.join("seg%d.ts").display().to_string()]);
                args.push(dir.join("live.m3u8").display().to_string());
            }
        }
        args
    }

    /// (Re)starts ffmpeg.
    pub async fn start(&mut self) -> Result<(), WorldError> {
        let mut command = Command::new("ffmpeg");
        command.args(self.command_line());
        self.process = Some(Process::spawn("ffmpeg source", command, &self.log)?);
        Ok(())
    }

    /// Stops ffmpeg (SIGKILL, by pid): the live's input is gone until [`LiveSource::start`].
    pub async fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.signal(nix::sys::signal::Signal::SIGKILL);
            let _ = process.wait(Duration::from_secs(10)).await;
        }
    }

    /// What ffmpeg logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The codecs of the streams at `url`, as ffprobe reads them (e.g. `["h264", "aac"]`).
pub async fn probe_codecs(url: &str) -> Result<Vec<String>, WorldError> {
    probe(url, "stream=codec_name").await
}

/// The height of the video at `url`, as ffprobe reads it.
pub async fn probe_height(url: &str) -> Result<Option<u32>, WorldError> {
    Ok(probe(url, "stream=height").await?.iter().find_map(|h| h.parse().ok()))
}

/// One ffprobe entry of every stream at `url`, sorted.
async fn probe(url: &str, entries: &str) -> Result<Vec<String>, WorldError> {
    let mut command = Command::new("ffprobe");
    command.args(["-v", "error", "-rw_timeout", "10000000", "-show_entries", entries, "-of", "csv=p=0", url]).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .map_err(|_| WorldError::NotReady { program: format!("ffprobe {url}"), seconds: 30, log: String::new() })?
        .map_err(|source| WorldError::Spawn { program: "ffprobe".into(), source })?;
    let mut codecs: Vec<String> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    codecs.sort();
    Ok(codecs)
}
