//! `fanout relay`: the built-in relay on its own, without detection, titles or a store. It
//! accepts one RTMP publisher on `--ingest` (the application `ingest`, the stream key from
//! `FANOUT_RELAY_INGEST_KEY`) and sends it to every `rtmp://` / `rtmps://` URL listed in
//! `--to-file`, one a line. SIGHUP re-reads the file: new lines join at the next keyframe, gone
//! lines leave, the others are untouched. For an operator who wants a plain fan-out, and for the
//! benchmark, which measures this very process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::secrets::Secret;
use clap::Args;

use crate::relay::{DestinationPolicy, DestinationState, Relay, RelayError, RtmpTarget};

/// The flags of `fanout relay`.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Where the publisher connects (it publishes to `rtmp://<address>/ingest/<key>`).
    #[arg(long = "ingest", id = "relay_ingest", env = "FANOUT_RELAY_INGEST", default_value = "127.0.0.1:1935")]
    pub ingest: SocketAddr,
    /// A file of destination URLs, one a line (`#` starts a comment). It holds stream keys: keep
    /// it readable by Fanout only.
    #[arg(long, id = "relay_to_file", env = "FANOUT_RELAY_TO_FILE")]
    pub to_file: PathBuf,
    /// How often a summary of the destinations is logged, in seconds (0: never).
    #[arg(long, id = "relay_report_secs", env = "FANOUT_RELAY_REPORT_SECS", default_value_t = 10)]
    pub report_secs: u64,
}

/// Why `fanout relay` could not run.
#[derive(Debug, thiserror::Error)]
pub enum StandaloneError {
    /// The ingest key is missing or too short to be a secret.
    #[error("FANOUT_RELAY_INGEST_KEY must be set to at least 16 characters (the publisher's stream key)")]
    Key,
    /// The destination file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the destination file is not a destination.
    #[error("{path} line {line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line number (from 1).
        line: usize,
        /// Why (never the URL: it holds a key).
        reason: String,
    },
    /// The relay could not start.
    #[error(transparent)]
    Relay(#[from] RelayError),
}

/// The destinations a file lists, by a stable id that does not reveal the key.
pub fn read_destinations(path: &Path) -> Result<BTreeMap<String, RtmpTarget>, StandaloneError> {
    let text = std::fs::read_to_string(path).map_err(|source| StandaloneError::Read { path: path.to_path_buf(), source })?;
    let mut destinations = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_text = line.trim();
        if line_text.is_empty() || line_text.starts_with('#') {
            continue;
        }
        let target = RtmpTarget::parse(line_text).map_err(|error| StandaloneError::Line {
            path: path.to_path_buf(),
            line: index + 1,
            reason: error.to_string(),
        })?;
        destinations.insert(destination_id(line_text), target);
    }
    Ok(destinations)
}

/// A short id for a destination URL: the same URL gives the same id, and the id tells nothing
/// of the key.
fn destination_id(url: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    url.hash(&mut hasher);
    format!("d{:016x}", hasher.finish())
}

/// Makes the relay's destinations those of `wanted`: adds the new, removes the gone.
fn reconcile(relay: &Relay, wanted: BTreeMap<String, RtmpTarget>) -> (usize, usize) {
    let current = relay.ids();
    let mut removed = 0;
    for id in &current {
        if !wanted.contains_key(id) && relay.remove(id) {
            removed += 1;
        }
    }
    let mut added = 0;
    for (id, target) in wanted {
        if !current.contains(&id) {
            relay.add(&id, target);
            added += 1;
        }
    }
    (added, removed)
}

/// Runs the relay until SIGTERM/SIGINT.
pub async fn run(args: &RelayArgs, key: Option<String>) -> Result<(), StandaloneError> {
    let key = key.filter(|k| k.len() >= 16).map(Secret::new).ok_or(StandaloneError::Key)?;
    let destinations = read_destinations(&args.to_file)?;
    let peers = if args.ingest.ip().is_loopback() { crate::relay::Peers::Loopback } else { crate::relay::Peers::Any };
    let relay = Relay::listening(args.ingest, key, peers, DestinationPolicy::default()).await?;
    let (added, _) = reconcile(&relay, destinations);
    tracing::info!(listen = %args.ingest, destinations = added, "relay running");
    let stop = crate::shutdown::on_signal();
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; the destination file is read once");
            None
        }
    };
    let report_every = Duration::from_secs(args.report_secs.max(1));
    let mut report = tokio::time::interval(report_every);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                match read_destinations(&args.to_file) {
                    Ok(wanted) => {
                        let (added, removed) = reconcile(&relay, wanted);
                        tracing::info!(added, removed, "destinations reloaded");
                    }
                    Err(error) => tracing::warn!("destinations not reloaded (the relay goes on as it was): {error}"),
                }
            }
            _ = report.tick(), if args.report_secs > 0 => log_summary(&relay),
        }
    }
    relay.shutdown();
    tracing::info!("relay stopped");
    Ok(())
}

fn log_summary(relay: &Relay) {
    let statuses = relay.statuses();
    let count = |state: DestinationState| statuses.values().filter(|s| s.state == state).count();
    let egress: u64 = statuses.values().map(|s| s.bitrate_bps).sum();
    tracing::info!(
        streaming = count(DestinationState::Streaming),
        retrying = count(DestinationState::Retrying),
        connecting = count(DestinationState::Connecting),
        egress_kbps = egress / 1000,
        input = relay.input().borrow().publishing,
        "relay status"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_file_is_read_with_comments_and_stable_ids() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("to");
        std::fs::write(&path, "# sinks\nrtmp://127.0.0.1:1/app/one\n\n  rtmps://live.example/app/two  \n")
            .unwrap_or_else(|e| panic!("{e}"));
        let first = read_destinations(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), 2);
        let again = read_destinations(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.keys().collect::<Vec<_>>(), again.keys().collect::<Vec<_>>());
        assert!(first.keys().all(|id| !id.contains("one") && !id.contains("two")), "ids hide the keys");
    }

    #[test]
    fn a_bad_line_is_named_by_number_without_its_text() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("to");
        std::fs::write(&path, "rtmp://127.0.0.1:1/app/one\nhttp://secret-key-here/x\n").unwrap_or_else(|e| panic!("{e}"));
        let error = read_destinations(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("line 2"), "{error}");
        assert!(!error.contains("secret-key-here"), "{error}");
    }

    #[tokio::test]
    async fn a_short_or_missing_key_is_refused() {
        let args = RelayArgs {
            ingest: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            to_file: PathBuf::from("/nonexistent"),
            report_secs: 0,
        };
        assert!(matches!(run(&args, None).await, Err(StandaloneError::Key)));
        assert!(matches!(run(&args, Some("short".into())).await, Err(StandaloneError::Key)));
    }
}
