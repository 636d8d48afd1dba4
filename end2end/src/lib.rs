//! The test world: stands up, on loopback, what a test of Fanout needs — today the `fanout`
//! server itself on a free port with a throwaway data directory; as the features grow, the
//! YouTube and Restream.io stand-ins, an ffmpeg live source and nginx-rtmp sinks.
//!
//! Rust integration tests use it as a library; Playwright tests start the `testworld` binary,
//! which prints the world's addresses as one JSON line. Every process the world starts is ended
//! by its own pid when the world is dropped — never by name.

pub mod bench;
pub mod control;
pub mod fanout;
pub mod loopback;
pub mod nginx;
pub mod nimble;
pub mod ports;
pub mod process;
pub mod proxy;
pub mod restream;
pub mod smtp;
pub mod soak;
pub mod source;
pub mod stall;
pub mod tls_front;
pub mod usage;
pub mod volunteer;
pub mod webhook;
pub mod youtube;

use std::path::PathBuf;

pub use fanout::{FanoutOptions, FanoutServer, fanout_command};

/// What can go wrong while standing the world up.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A program did not become ready in time.
    #[error("{program} was not ready within {seconds} s; its log:\n{log}")]
    NotReady {
        /// The program.
        program: String,
        /// How long was waited.
        seconds: u64,
        /// The tail of what it wrote.
        log: String,
    },
    /// A program exited before it was ready.
    #[error("{program} exited ({status}) before it was ready; its log:\n{log}")]
    Exited {
        /// The program.
        program: String,
        /// How it exited.
        status: String,
        /// The tail of what it wrote.
        log: String,
    },
    /// A file-system operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The tools the setup installs into the user's site (`pip install --user`): yt-dlp and the
/// JavaScript runtime it uses. A program found there wins over the PATH, which in a plain
/// `cargo test` may not include it.
pub fn user_tool(name: &str) -> String {
    let local = std::env::var("HOME").map(|home| format!("{home}/.local/bin/{name}")).unwrap_or_default();
    if std::path::Path::new(&local).is_file() { local } else { name.to_string() }
}

/// The workspace's root directory (the parent of `end2end/`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Cargo's target directory for this build: `CARGO_TARGET_DIR` if set, else the directory
/// holding the running binary's profile directory (`…/target/debug/deps/x` → `…/target`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().find(|dir| dir.join("debug").is_dir() || dir.join("release").is_dir()).map(PathBuf::from))
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The built `fanout` binary: `FANOUT_BIN` if set, else `<target>/debug/fanout`.
pub fn fanout_binary() -> PathBuf {
    std::env::var_os("FANOUT_BIN").map(PathBuf::from).unwrap_or_else(|| target_dir().join("debug").join("fanout"))
}

/// The site built by `cargo leptos build`: `FANOUT_SITE_ROOT` if set, else `<workspace>/target/site`.
pub fn site_root() -> PathBuf {
    std::env::var_os("FANOUT_SITE_ROOT").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target").join("site"))
}
