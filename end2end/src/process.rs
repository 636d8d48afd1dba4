//! Child processes of the world: started with their output captured to a log file, waited on
//! for a readiness line with a deadline, and ended by their own pid.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::WorldError;

/// A running child process. Dropping it kills the process (SIGKILL, by pid).
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with stdout and stderr appended to `log`, and waits until a line of its
    /// standard output satisfies `ready` (returning what `ready` extracted), or `timeout` passes.
    pub async fn start<T>(
        name: &str,
        mut command: Command,
        log: &Path,
        timeout: Duration,
        ready: impl Fn(&str) -> Option<T>,
    ) -> Result<(Self, T), WorldError> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| WorldError::Io { what: format!("open {}", log.display()), source })?;
        command.stdout(Stdio::piped()).stderr(Stdio::from(log_file)).stdin(Stdio::null()).kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| WorldError::Spawn { program: name.to_string(), source })?;
        let stdout = child.stdout.take();
        let mut process = Self { name: name.to_string(), child, log: log.to_path_buf() };
        let Some(stdout) = stdout else {
            return Err(WorldError::Io { what: format!("{name}'s stdout"), source: std::io::ErrorKind::BrokenPipe.into() });
        };

        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(timeout, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(value) = ready(&line) {
                    return Some((value, line));
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some((value, line))) => {
                process.append_to_log(&line).await;
                // Keep copying the rest of stdout to the log so the pipe never fills.
                let log = process.log.clone();
                tokio::spawn(async move {
                    while let Ok(Some(line)) = lines.next_line().await {
                        append_line(&log, &line).await;
                    }
                });
                Ok((process, value))
            }
            Ok(None) => {
                let status = process.child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                Err(WorldError::Exited { program: name.to_string(), status, log: process.log_tail() })
            }
            Err(_) => Err(WorldError::NotReady { program: name.to_string(), seconds: timeout.as_secs(), log: process.log_tail() }),
        }
    }

    /// Starts `command` with stdout and stderr appended to `log`, without waiting for anything.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self, WorldError> {
        let open = |what: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|source| WorldError::Io { what: format!("open {} for {what}", log.display()), source })
        };
        command.stdout(Stdio::from(open("stdout")?)).stderr(Stdio::from(open("stderr")?)).stdin(Stdio::null()).kill_on_drop(true);
        let child = command.spawn().map_err(|source| WorldError::Spawn { program: name.to_string(), source })?;
        Ok(Self { name: name.to_string(), child, log: log.to_path_buf() })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The last lines the process wrote (standard error and output).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) -> Result<(), WorldError> {
        let pid = self.pid().ok_or_else(|| WorldError::Io {
            what: format!("signal {}", self.name),
            source: std::io::Error::other("the process has already been reaped"),
        })?;
        let pid = i32::try_from(pid)
            .map_err(|_| WorldError::Io { what: format!("signal {}", self.name), source: std::io::Error::other("pid out of range") })?;
        kill(Pid::from_raw(pid), signal)
            .map_err(|errno| WorldError::Io { what: format!("signal {} ({signal})", self.name), source: errno.into() })
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; SIGKILL after that.
    pub async fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, WorldError> {
        self.signal(Signal::SIGTERM)?;
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.map_err(|source| WorldError::Io { what: format!("wait for {}", self.name), source }),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(WorldError::NotReady { program: format!("{} (stopping)", self.name), seconds: timeout.as_secs(), log: self.log_tail() })
            }
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub async fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait()).await.ok().and_then(Result::ok)
    }

    async fn append_to_log(&self, line: &str) {
        append_line(&self.log, line).await;
    }
}

async fn append_line(log: &Path, line: &str) {
    if let Ok(mut file) = tokio::fs::OpenOptions::new().create(true).append(true).open(log).await {
        let _ = file.write_all(format!("{line}\n").as_bytes()).await;
    }
}
