//! The `fanout` server under test: started on a free loopback port with its own data directory
//! and only the configuration the test gives it.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::Command;

use crate::process::Process;
use crate::{WorldError, fanout_binary, site_root};

/// How long `fanout serve` may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start Fanout.
#[derive(Debug, Clone, Default)]
pub struct FanoutOptions {
    /// Environment variables to set (only these and the world's own reach the process).
    pub env: Vec<(String, String)>,
    /// The data directory to use; a fresh one inside the world's directory when `None`.
    pub data_dir: Option<PathBuf>,
    /// The `fanout` binary; [`fanout_binary`] when `None`.
    pub binary: Option<PathBuf>,
}

impl FanoutOptions {
    /// Adds an environment variable.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_string(), value.into()));
        self
    }

    /// Uses this `fanout` binary (integration tests pass `env!("CARGO_BIN_EXE_fanout")`).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Uses this data directory.
    pub fn data_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(path.into());
        self
    }
}

/// A running `fanout serve`. Dropping it kills the process.
#[derive(Debug)]
pub struct FanoutServer {
    process: Process,
    url: String,
    data_dir: PathBuf,
}

/// A `fanout` command (`binary`, or [`fanout_binary`]) with the caller's environment cleared
/// of Fanout's own variables, so a developer's shell never leaks into a test.
pub fn fanout_command(binary: Option<&Path>, args: &[&str], data_dir: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(binary.map_or_else(fanout_binary, Path::to_path_buf));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("FANOUT_") || name.starts_with("RESTREAM_") {
            command.env_remove(name.as_ref());
        }
    }
    command
        .env("FANOUT_LISTEN", "127.0.0.1:0")
        .env("FANOUT_DATA_DIR", data_dir)
        .env("FANOUT_SITE_ROOT", site_root())
        .env("FANOUT_YT_DLP", crate::user_tool("yt-dlp"))
        .env("FANOUT_LOG", "info");
    command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

impl FanoutServer {
    /// Starts `fanout serve` inside `world_dir` and waits until it listens.
    pub async fn start(world_dir: &Path, options: FanoutOptions) -> Result<Self, WorldError> {
        let data_dir = options.data_dir.unwrap_or_else(|| world_dir.join("data"));
        let command = fanout_command(options.binary.as_deref(), &["serve"], &data_dir, &options.env);
        let log = world_dir.join("fanout.log");
        let (process, url) = Process::start("fanout serve", command, &log, START_TIMEOUT, |line| {
            line.strip_prefix("Fanout is listening on ").map(|url| url.trim_end_matches('/').to_string())
        })
        .await?;
        Ok(Self { process, url, data_dir })
    }

    /// The server's base URL, without a trailing slash (e.g. `http://127.0.0.1:40123`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The data directory it runs with.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stops it with SIGTERM and returns its exit status.
    pub async fn stop(mut self) -> Result<ExitStatus, WorldError> {
        self.process.terminate(Duration::from_secs(15)).await
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The underlying process (to signal it, e.g. SIGKILL).
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}
