//! A real outbound HTTP proxy, as an operator on a VPS would put between Fanout and YouTube:
//! Debian's tinyproxy with Basic authentication, on a loopback port, logging every request so a
//! test can tell what went through it.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::WorldError;
use crate::ports::{free_port, wait_for_port};
use crate::process::Process;

/// A running tinyproxy that lets through only `user:password`.
#[derive(Debug)]
pub struct HttpProxy {
    port: u16,
    user: String,
    password: String,
    log: PathBuf,
    _process: Process,
}

impl HttpProxy {
    /// Starts tinyproxy in `dir`, requiring `user` and `password`.
    pub async fn start(dir: &Path, user: &str, password: &str) -> Result<Self, WorldError> {
        let dir = dir.join("tinyproxy");
        std::fs::create_dir_all(&dir).map_err(|source| WorldError::Io { what: format!("create {}", dir.display()), source })?;
        let port = free_port()?;
        let log = dir.join("requests.log");
        let config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nLogLevel Info\nLogFile \"{}\"\nBasicAuth {user} {password}\n",
            log.display()
        );
        let config_path = dir.join("tinyproxy.conf");
        std::fs::write(&config_path, config)
            .map_err(|source| WorldError::Io { what: format!("write {}", config_path.display()), source })?;
        let mut command = Command::new("tinyproxy");
        command.arg("-d").arg("-c").arg(&config_path);
        let process = Process::spawn("tinyproxy", command, &dir.join("tinyproxy.out"))?;
        wait_for_port(port, &process, "tinyproxy").await?;
        Ok(Self { port, user: user.into(), password: password.into(), log, _process: process })
    }

    /// `http://user:password@127.0.0.1:port`, for `FANOUT_YT_PROXY`.
    pub fn url_with_credentials(&self) -> String {
        format!("http://{}:{}@127.0.0.1:{}", self.user, self.password, self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request lines it was sent (`GET http://… HTTP/1.1`), let through or not.
    pub fn requests(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once("]: Request ("))
            .filter_map(|(_, rest)| rest.split_once("): "))
            .map(|(_, r)| r.to_string())
            .collect()
    }
}
