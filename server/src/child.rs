//! Child processes (ffmpeg, yt-dlp) as Fanout starts and stops them. A child gets a cleared
//! environment with only what it needs — never Fanout's own secrets (`FANOUT_SECRET_KEY`, the
//! Restream client secret, the MongoDB URI, the Nimble token) — runs in a process group of its
//! own, and is sent SIGKILL by the kernel if Fanout dies (`PR_SET_PDEATHSIG`). It is stopped as
//! a group, so what it started itself (yt-dlp's own ffmpeg) stops with it.

use std::ffi::OsStr;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// The variables a child inherits from Fanout's environment, when set: what finds programs and
/// their caches, and the locale. Anything else (and every secret) a child is given explicitly.
const INHERITED: [&str; 6] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// A command for `program` with a cleared environment (but [`INHERITED`] and `extra`), in its
/// own process group, killed if Fanout dies, and killed when the handle is dropped.
pub fn command(program: impl AsRef<OsStr>, extra: &[(&str, &str)]) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in INHERITED {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(extra.iter().copied());
    command.process_group(0).kill_on_drop(true);
    die_with_parent(&mut command);
    command
}

/// Asks the kernel to SIGKILL the child when Fanout (the parent thread's process) dies.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // calls are allowed: prctl(2) and getppid(2) are, and nothing here allocates or locks.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The parent may have died before the call: then exit at once rather than linger.
            if nix::unistd::getppid().as_raw().cast_unsigned() != parent {
                return Err(std::io::Error::other("the parent exited before the child started"));
            }
            Ok(())
        });
    }
}

/// Stops `child` and its whole process group: SIGTERM, then SIGKILL if it has not exited
/// within `grace`; waits for it (no zombie is left).
pub async fn stop_group(child: &mut Child, grace: Duration) {
    let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) else {
        // Already reaped.
        return;
    };
    let group = Pid::from_raw(pid);
    let _ = killpg(group, Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait().await;
    }
    // The leader is gone; anything it left behind in its group goes too.
    let _ = killpg(group, Signal::SIGKILL);
}

/// The most of a child's output [`output`] keeps (what Fanout reads from its tools is short;
/// a flood is cut).
const MAX_OUTPUT: usize = 64 * 1024;

/// Runs `command` to its end within `timeout`, its output bounded; a child past the deadline is
/// stopped with its group.
pub async fn output(mut command: Command, timeout: Duration) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let work = async { tokio::join!(read_bounded(stdout), read_bounded(stderr), child.wait()) };
    match tokio::time::timeout(timeout, work).await {
        Ok((stdout, stderr, Ok(status))) => Ok(std::process::Output { status, stdout, stderr }),
        Ok((_, _, Err(error))) => Err(format!("cannot wait for it: {error}")),
        Err(_) => {
            stop_group(&mut child, Duration::from_secs(2)).await;
            Err(format!("it did not answer within {} s", timeout.as_secs()))
        }
    }
}

/// What `pipe` says, up to [`MAX_OUTPUT`] bytes (the rest is left unread).
async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(pipe: Option<R>) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut buffer = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.take(MAX_OUTPUT as u64).read_to_end(&mut buffer).await;
    }
    buffer
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;

    use super::*;

    #[tokio::test]
    async fn a_child_sees_none_of_fanouts_environment_but_what_it_needs() {
        // cargo runs tests with variables of its own (CARGO_…): the child must not see them.
        assert!(std::env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with("CARGO")), "the test needs a variable to withhold");
        let mut probe = command("sh", &[("GIVEN", "yes")]);
        probe.args(["-c", "env"]).stdout(Stdio::piped());
        let output = probe.output().await.unwrap_or_else(|e| panic!("{e}"));
        let env = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(env.contains("GIVEN=yes") && env.contains("PATH="), "{env}");
        let names: Vec<&str> = env.lines().filter_map(|l| l.split_once('=').map(|(k, _)| k)).collect();
        let unexpected: Vec<&&str> =
            names.iter().filter(|n| !INHERITED.contains(n) && !["GIVEN", "PWD", "SHLVL", "_"].contains(n)).collect();
        assert!(unexpected.is_empty(), "inherited: {unexpected:?}");
    }

    #[tokio::test]
    async fn stopping_a_child_stops_what_it_started() {
        // The shell starts a grandchild that would outlive it, and prints its pid.
        let mut shell = command("sh", &[]);
        shell.args(["-c", "sleep 300 & echo $!; wait"]).stdout(Stdio::piped());
        let mut child = shell.spawn().unwrap_or_else(|e| panic!("{e}"));
        let mut stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
        let mut line = String::new();
        tokio::io::AsyncBufReadExt::read_line(&mut tokio::io::BufReader::new(&mut stdout), &mut line)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let grandchild: i32 = line.trim().parse().unwrap_or_else(|e| panic!("{e}: {line:?}"));
        stop_group(&mut child, Duration::from_secs(2)).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::path::Path::new(&format!("/proc/{grandchild}")).exists() {
            let zombie = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).is_ok_and(|s| s.contains(") Z "));
            if zombie {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the grandchild {grandchild} outlived the stop");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
