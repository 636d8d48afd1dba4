//! A TLS front for a loopback HTTP server of the test world: nginx (Debian's, its `ssl` module)
//! terminating TLS for `localhost` with a certificate from a CA of its own (made with the
//! `openssl` tool), and passing everything on, WebSocket upgrades included — so a client can be
//! measured against `wss://` while the stand-in behind it stays plain. The client trusts the CA
//! ([`TlsFront::ca_pem`]), nothing else changes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::WorldError;
use crate::ports::free_port;
use crate::process::Process;

/// A running TLS front.
#[derive(Debug)]
pub struct TlsFront {
    dir: PathBuf,
    port: u16,
    _process: Process,
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> WorldError + '_ {
    move |source| WorldError::Io { what: what.to_string(), source }
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Result<(), WorldError> {
    let output = std::process::Command::new("openssl").args(args).current_dir(dir).output().map_err(io("run openssl"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(WorldError::Io {
            what: format!("openssl {}", args.first().copied().unwrap_or_default()),
            source: std::io::Error::other(String::from_utf8_lossy(&output.stderr).into_owned()),
        })
    }
}

impl TlsFront {
    /// Starts a front in `world_dir/tls-front` for the server at `behind`.
    pub async fn start(world_dir: &Path, behind: SocketAddr) -> Result<Self, WorldError> {
        let dir = world_dir.join("tls-front");
        std::fs::create_dir_all(dir.join("logs")).map_err(io("create the front's directory"))?;
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &dir,
            &[&["req", "-x509"][..], &ec, &["-days", "1", "-subj", "/CN=Fanout test CA", "-keyout", "ca.key", "-out", "ca.pem"]].concat(),
        )?;
        openssl(&dir, &[&["req"][..], &ec, &["-subj", "/CN=localhost", "-keyout", "leaf.key", "-out", "leaf.csr"]].concat())?;
        std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\n").map_err(io("write leaf.ext"))?;
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "leaf.ext",
                "-out",
                "leaf.pem",
            ],
        )?;
        let port = free_port()?;
        let d = dir.display();
        let config = format!(
            r#"{main}
http {{
    access_log off;
{temp}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {d}/leaf.pem;
        ssl_certificate_key {d}/leaf.key;
        location / {{
            proxy_pass http://{behind};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 3600s;
        }}
    }}
}}
"#,
            temp = crate::nginx::temp_paths(&dir),
            main = crate::nginx::main_context(&dir, 8192),
        );
        std::fs::write(dir.join("nginx.conf"), config).map_err(io("write the front's nginx.conf"))?;
        let mut command = Command::new("nginx");
        command.arg("-p").arg(&dir).arg("-c").arg(dir.join("nginx.conf")).arg("-e").arg(dir.join("logs/error.log"));
        let process = Process::spawn("the TLS front (nginx)", command, &dir.join("logs/stdout.log"))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(Self { dir, port, _process: process });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default();
        Err(WorldError::NotReady { program: "the TLS front (nginx)".into(), seconds: 15, log })
    }

    /// `url` (a `ws://` or `http://` URL of the server behind) as the front serves it:
    /// `wss://` / `https://` on `localhost` and the front's port.
    pub fn front_url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
        let path = rest.find('/').map_or("/", |at| &rest[at..]);
        let scheme = if scheme == "ws" { "wss" } else { "https" };
        format!("{scheme}://localhost:{}{path}", self.port)
    }

    /// The CA's certificate (PEM), the one root a client must trust.
    pub fn ca_pem(&self) -> Result<Vec<u8>, WorldError> {
        std::fs::read(self.dir.join("ca.pem")).map_err(io("read ca.pem"))
    }
}
