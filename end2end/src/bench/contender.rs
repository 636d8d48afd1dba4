//! The contenders of the fan-out benchmark, each started fresh for a run, fed the same source
//! and sending to the same sinks: Fanout's relay (`fanout relay`, the real binary), nginx-rtmp
//! `push` (one nginx, one push directive per destination), the ffmpeg `tee` muxer (one
//! ffmpeg copying its input to every destination — what the seed effectively ran), and the
//! floor (`fanout-floor`, [`super::floor`]: the same batches written to the same sinks with no
//! RTMP logic — what the kernel's work alone costs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::WorldError;
use crate::ports::free_port;
use crate::process::Process;

/// Which contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Kind {
    /// Fanout's built-in relay.
    Fanout,
    /// nginx-rtmp `push`.
    Nginx,
    /// ffmpeg's `tee` muxer.
    Tee,
    /// The floor: pre-chunked batches written to every sink, nothing else.
    Floor,
}

impl Kind {
    /// Its name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Fanout => "Fanout relay",
            Kind::Nginx => "nginx-rtmp push",
            Kind::Tee => "ffmpeg tee",
            Kind::Floor => "floor (writes only)",
        }
    }

    /// Whether it connects to its destinations before the source starts (the others connect
    /// once they have input).
    pub fn connects_first(self) -> bool {
        matches!(self, Kind::Fanout | Kind::Floor)
    }

    /// Whether it plays the source itself (started by SIGUSR1) rather than receiving it.
    pub fn plays_itself(self) -> bool {
        self == Kind::Floor
    }
}

/// A running contender.
#[derive(Debug)]
pub struct Contender {
    /// Which one.
    pub kind: Kind,
    /// Where the source publishes.
    pub ingest: String,
    process: Process,
    to_file: Option<PathBuf>,
}

/// What starting a contender needs besides its destinations.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The `fanout` binary.
    pub fanout: &'a Path,
    /// The `fanout-floor` binary.
    pub floor: &'a Path,
    /// The source file (the floor plays it itself).
    pub source: &'a Path,
    /// Seconds of it the run plays.
    pub seconds: u64,
}

impl Contender {
    /// Starts `kind` sending to `destinations`, its files under `dir`.
    pub async fn start(kind: Kind, dir: &Path, destinations: &[String], setup: Setup<'_>) -> Result<Self, WorldError> {
        std::fs::create_dir_all(dir).map_err(|source| WorldError::Io { what: format!("create {}", dir.display()), source })?;
        let port = free_port()?;
        let log = dir.join("contender.log");
        match kind {
            Kind::Fanout => {
                let key = format!("{:032x}", rand::random::<u128>());
                let to_file = dir.join("destinations");
                write_destinations(&to_file, destinations)?;
                let mut command = Command::new(setup.fanout);
                command
                    .arg("relay")
                    .arg("--ingest")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--to-file")
                    .arg(&to_file)
                    .args(["--report-secs", "0"])
                    .env("FANOUT_RELAY_INGEST_KEY", &key)
                    .env("FANOUT_LOG", "warn");
                let process = Process::spawn("fanout relay", command, &log)?;
                crate::ports::wait_for_port(port, &process, "a bench contender").await?;
                Ok(Self { kind, ingest: format!("rtmp://127.0.0.1:{port}/ingest/{key}"), process, to_file: Some(to_file) })
            }
            Kind::Nginx => {
                let pushes: String = destinations.iter().map(|url| format!("            push {url};\n")).collect();
                let config = format!(
                    "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n\
                     daemon off;\nmaster_process on;\nworker_processes 1;\nworker_rlimit_nofile 16384;\n\
                     error_log {dir}/error.log info;\npid {dir}/nginx.pid;\n\
                     events {{ worker_connections 16384; }}\n\
                     rtmp {{\n    server {{\n        listen 127.0.0.1:{port};\n        chunk_size 4096;\n\
                     \x20       application src {{\n            live on;\n            record off;\n{pushes}        }}\n    }}\n}}\n",
                    dir = dir.display(),
                );
                let config_path = dir.join("nginx.conf");
                std::fs::write(&config_path, config).map_err(|source| WorldError::Io { what: "write nginx.conf".into(), source })?;
                let mut command = Command::new("nginx");
                command.arg("-p").arg(dir).arg("-c").arg(&config_path).arg("-e").arg(dir.join("error.log"));
                let process = Process::spawn("nginx push", command, &dir.join("error.log"))?;
                crate::ports::wait_for_port(port, &process, "a bench contender").await?;
                Ok(Self { kind, ingest: format!("rtmp://127.0.0.1:{port}/src/live"), process, to_file: None })
            }
            Kind::Tee => {
                let outputs: Vec<String> = destinations.iter().map(|url| format!("[f=flv:onfail=ignore]{url}")).collect();
                let ingest = format!("rtmp://127.0.0.1:{port}/src/live");
                let mut command = Command::new("ffmpeg");
                command.args(["-hide_banner", "-nostats", "-loglevel", "warning", "-listen", "1", "-i", &ingest]).args([
                    "-map",
                    "0",
                    "-c",
                    "copy",
                    "-f",
                    "tee",
                    &outputs.join("|"),
                ]);
                let process = Process::spawn("ffmpeg tee", command, &log)?;
                // ffmpeg accepts exactly one connection: no probing of its port; the replayer retries.
                Ok(Self { kind, ingest, process, to_file: None })
            }
            Kind::Floor => {
                let to_file = dir.join("destinations");
                write_destinations(&to_file, destinations)?;
                let mut command = Command::new(setup.floor);
                command.arg("--source").arg(setup.source).arg("--seconds").arg(setup.seconds.to_string()).arg("--to-file").arg(&to_file);
                let process = Process::spawn("fanout-floor", command, &log)?;
                Ok(Self { kind, ingest: String::new(), process, to_file: None })
            }
        }
    }

    /// The contender's main process id (its children are found from it).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Adds a destination while it runs (Fanout only: a line in its file and SIGHUP).
    pub fn join(&self, url: &str) -> Result<(), WorldError> {
        let Some(to_file) = &self.to_file else {
            return Err(WorldError::Io {
                what: "join a destination".into(),
                source: std::io::Error::other("only Fanout takes destinations mid-live"),
            });
        };
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(to_file)
            .map_err(|source| WorldError::Io { what: "open the destination file".into(), source })?;
        writeln!(file, "{url}").map_err(|source| WorldError::Io { what: "add a destination".into(), source })?;
        self.process.signal(nix::sys::signal::Signal::SIGHUP)
    }

    /// Tells a contender that plays the source itself to start playing it.
    pub fn go(&self) -> Result<(), WorldError> {
        self.process.signal(nix::sys::signal::Signal::SIGUSR1)
    }

    /// Stops it (SIGTERM, then SIGKILL) and returns its log's tail.
    pub async fn stop(mut self) -> String {
        let _ = self.process.terminate(Duration::from_secs(10)).await;
        self.process.log_tail()
    }
}

fn write_destinations(path: &Path, destinations: &[String]) -> Result<(), WorldError> {
    let mut text = destinations.join("\n");
    text.push('\n');
    std::fs::write(path, text).map_err(|source| WorldError::Io { what: format!("write {}", path.display()), source })
}
