//! Cross-part tests of the `fanout` binary: real processes, real store files, loopback HTTP.
//! One test binary (modules below) so the workspace links it once.

mod admin;
mod bench;
mod check;
mod controls;
mod detect;
mod engine;
mod hardening;
mod hardening_live;
mod nimble;
mod notify;
mod push;
mod relay;
mod serve;
mod signup;
mod slate;
mod source;
mod tokens;
mod updates;
mod volunteer_mail;

use std::path::Path;
use std::process::Output;

use fanout_testworld::{FanoutOptions, FanoutServer, fanout_command};

/// The `fanout` binary cargo built for these tests.
const FANOUT: &str = env!("CARGO_BIN_EXE_fanout");

/// Options for the binary under test.
fn options() -> FanoutOptions {
    FanoutOptions::default().binary(FANOUT)
}

/// Starts `fanout serve` in `dir` with `options`, failing the test with its log if it cannot.
async fn serve(dir: &Path, options: FanoutOptions) -> FanoutServer {
    FanoutServer::start(dir, options).await.unwrap_or_else(|e| panic!("fanout serve did not start: {e}"))
}

/// Runs `fanout <args>` to completion with `data_dir` and `env`.
async fn run(args: &[&str], data_dir: &Path, env: &[(&str, &str)]) -> Output {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut command = fanout_command(Some(Path::new(FANOUT)), args, data_dir, &env);
    command.stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output()).await;
    output.unwrap_or_else(|_| panic!("fanout {args:?} did not finish in 60 s")).unwrap_or_else(|e| panic!("run fanout: {e}"))
}

/// Runs `fanout serve` once in `dir` and stops it; returns the data directory it left behind.
async fn data_dir_after_one_run(dir: &Path) -> std::path::PathBuf {
    let fanout = serve(dir, options()).await;
    let data_dir = fanout.data_dir().to_path_buf();
    fanout.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    data_dir
}

/// Waits until `check` holds, or fails the test after `seconds`.
async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("not within {seconds} s: {what}");
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
