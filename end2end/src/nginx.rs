//! Real RTMP sinks: nginx with the RTMP module (Debian's `libnginx-mod-rtmp`), run with a
//! configuration and prefix of its own in the world's directory, one process per sink so a sink
//! can be killed and started again alone. What arrives is read from nginx's `rtmp_stat` page
//! (bytes in per stream) and probed with ffprobe.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::WorldError;
use crate::ports::free_port;
use crate::process::Process;

/// Where Debian installs the RTMP module.
const RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// One stream an nginx sink is receiving, from its stat page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkStream {
    /// The stream name (the stream key published to).
    pub name: String,
    /// Bytes received on it.
    pub bytes_in: u64,
    /// Whether a publisher is on it now.
    pub publishing: bool,
}

/// What nginx's `on_publish` asked about: which streams may publish (a "down" destination may
/// not), and how many publishes each stream has seen — nginx's own count, not Fanout's.
#[derive(Debug, Default)]
struct Publishes {
    blocked: std::collections::HashSet<String>,
    seen: std::collections::HashMap<String, u32>,
}

/// Decides, for nginx's `on_publish`, which streams may publish, and counts the publishes.
#[derive(Debug)]
struct Gate {
    server: crate::loopback::LoopbackServer,
    publishes: std::sync::Arc<std::sync::Mutex<Publishes>>,
}

impl Gate {
    async fn start() -> Result<Self, WorldError> {
        use axum::extract::{Form, State};
        type Shared = std::sync::Arc<std::sync::Mutex<Publishes>>;
        async fn decide(
            State(publishes): State<Shared>,
            Form(form): Form<std::collections::HashMap<String, String>>,
        ) -> axum::http::StatusCode {
            let name = form.get("name").cloned().unwrap_or_default();
            let mut publishes = publishes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *publishes.seen.entry(name.clone()).or_default() += 1;
            if publishes.blocked.contains(&name) { axum::http::StatusCode::FORBIDDEN } else { axum::http::StatusCode::OK }
        }
        let publishes: Shared = Default::default();
        let app = axum::Router::new().route("/on_publish", axum::routing::post(decide)).with_state(publishes.clone());
        let server = crate::loopback::LoopbackServer::serve(app, "the nginx gate").await?;
        Ok(Self { server, publishes })
    }

    fn publishes(&self) -> std::sync::MutexGuard<'_, Publishes> {
        self.publishes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running nginx-rtmp sink.
#[derive(Debug)]
pub struct NginxSink {
    name: String,
    gate: Gate,
    dir: PathBuf,
    rtmp_port: u16,
    http_port: u16,
    process: Option<Process>,
}

impl NginxSink {
    /// Starts a sink named `name` (its files under `world_dir/nginx-<name>`).
    pub async fn start(world_dir: &Path, name: &str) -> Result<Self, WorldError> {
        let dir = world_dir.join(format!("nginx-{name}"));
        std::fs::create_dir_all(dir.join("logs")).map_err(|source| WorldError::Io { what: format!("create {}", dir.display()), source })?;
        let gate = Gate::start().await?;
        let mut sink = Self { name: name.to_string(), gate, dir, rtmp_port: free_port()?, http_port: free_port()?, process: None };
        sink.write_config()?;
        sink.launch().await?;
        Ok(sink)
    }

    fn write_config(&self) -> Result<(), WorldError> {
        let config = format!(
            r#"load_module {RTMP_MODULE};
{main}
rtmp {{
    server {{
        listen 127.0.0.1:{rtmp};
        chunk_size 4096;
        application live {{
            live on;
            record off;
            allow publish 127.0.0.1;
            on_publish http://127.0.0.1:{gate}/on_publish;
            allow play 127.0.0.1;
            deny publish all;
        }}
    }}
}}
http {{
    access_log off;
{temp}
    server {{
        listen 127.0.0.1:{http};
        location /stat {{ rtmp_stat all; }}
        location /control {{ rtmp_control all; }}
    }}
}}
"#,
            rtmp = self.rtmp_port,
            http = self.http_port,
            gate = self.gate.server.address().port(),
            temp = temp_paths(&self.dir),
            main = main_context(&self.dir, 4096),
        );
        std::fs::write(self.dir.join("nginx.conf"), config).map_err(|source| WorldError::Io { what: "write nginx.conf".into(), source })
    }

    async fn launch(&mut self) -> Result<(), WorldError> {
        let mut command = Command::new("nginx");
        command.arg("-p").arg(&self.dir).arg("-c").arg(self.dir.join("nginx.conf")).arg("-e").arg(self.dir.join("logs/error.log"));
        let log = self.dir.join("logs/stdout.log");
        let process = Process::spawn(&format!("nginx sink {}", self.name), command, &log)?;
        self.process = Some(process);
        // Ready when the stat page answers.
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.stats().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(WorldError::NotReady { program: format!("nginx sink {}", self.name), seconds: 15, log: self.error_log() })
    }

    /// `rtmp://127.0.0.1:<port>/live`: the ingest base a destination URL is built from.
    pub fn ingest_base(&self) -> String {
        format!("rtmp://127.0.0.1:{}/live", self.rtmp_port)
    }

    /// The URL to publish (or play) stream `key`.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.ingest_base())
    }

    /// Its `rtmp_stat` page (bytes in per stream), as XML.
    pub fn stat_url(&self) -> String {
        format!("http://127.0.0.1:{}/stat", self.http_port)
    }

    /// What nginx logged.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("logs/error.log")).unwrap_or_default()
    }

    /// The streams nginx is receiving now.
    pub async fn stats(&self) -> Result<Vec<SinkStream>, WorldError> {
        let url = self.stat_url();
        let body = async { reqwest::get(&url).await?.error_for_status()?.text().await }
            .await
            .map_err(|e| WorldError::Io { what: format!("read {url}"), source: std::io::Error::other(e.to_string()) })?;
        Ok(parse_stat(&body))
    }

    /// Bytes received on stream `key` (0 when not seen).
    pub async fn bytes_in(&self, key: &str) -> u64 {
        self.stats().await.ok().and_then(|s| s.into_iter().find(|s| s.name == key).map(|s| s.bytes_in)).unwrap_or(0)
    }

    /// Takes stream `key` down: its publisher is dropped and new publishes are refused, as if
    /// that destination's server were gone; the sink's other streams go on.
    pub async fn block(&self, key: &str) {
        self.gate.publishes().blocked.insert(key.to_string());
        let url = format!("http://127.0.0.1:{}/control/drop/publisher?app=live&name={key}", self.http_port);
        let _ = reqwest::get(&url).await;
    }

    /// Brings stream `key` back: publishes are accepted again.
    pub fn unblock(&self, key: &str) {
        self.gate.publishes().blocked.remove(key);
    }

    /// How many times a publisher has started publishing stream `key` on this sink (refused
    /// attempts included), as nginx's `on_publish` reported them.
    pub fn publishes(&self, key: &str) -> u32 {
        self.gate.publishes().seen.get(key).copied().unwrap_or(0)
    }

    /// Kills the sink (SIGKILL, by pid): every connection to it drops.
    pub async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.signal(nix::sys::signal::Signal::SIGKILL);
            let _ = process.wait(Duration::from_secs(10)).await;
        }
    }

    /// Starts it again on the same ports.
    pub async fn restart(&mut self) -> Result<(), WorldError> {
        self.kill().await;
        self.launch().await
    }
}

/// The main context of an nginx of the world's, run in the foreground as one process with its
/// files under `dir`, accepting `connections`.
pub(crate) fn main_context(dir: &Path, connections: u32) -> String {
    let dir = dir.display();
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {dir}/logs/error.log warn;\npid {dir}/nginx.pid;\n\
         events {{ worker_connections {connections}; }}"
    )
}

/// The `http` block's temporary paths, under `dir` (nginx's defaults are not writable here).
pub(crate) fn temp_paths(dir: &Path) -> String {
    let dir = dir.display();
    ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(|kind| format!("    {kind}_temp_path {dir}/{kind};")).join("\n")
}

/// Reads the streams of an `rtmp_stat` XML page (its shape is fixed; no XML crate needed).
pub fn parse_stat(xml: &str) -> Vec<SinkStream> {
    let tag = |block: &str, name: &str| {
        let open = format!("<{name}>");
        let start = block.find(&open)? + open.len();
        let end = block[start..].find(&format!("</{name}>"))? + start;
        Some(block[start..end].to_string())
    };
    xml.split("<stream>")
        .skip(1)
        .filter_map(|block| {
            let block = block.split("</stream>").next().unwrap_or_default();
            Some(SinkStream {
                name: tag(block, "name")?,
                bytes_in: tag(block, "bytes_in").and_then(|b| b.parse().ok()).unwrap_or(0),
                publishing: block.contains("<publishing/>"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_page_is_read_per_stream() {
        let xml = "<rtmp><server><application><name>live</name><live><stream><name>a</name><time>1</time>\
                   <bytes_in>1234</bytes_in><bytes_out>0</bytes_out><client><id>1</id><publishing/></client>\
                   <publishing/><active/></stream><stream><name>b</name><bytes_in>0</bytes_in></stream>\
                   <nclients>1</nclients></live></application></server></rtmp>";
        assert_eq!(
            parse_stat(xml),
            [
                SinkStream { name: "a".into(), bytes_in: 1234, publishing: true },
                SinkStream { name: "b".into(), bytes_in: 0, publishing: false },
            ]
        );
    }
}
