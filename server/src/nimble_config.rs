//! `fanout nimble-config --out DIR`: renders Nimble Streamer's `nimble.conf` and `rules.conf`
//! for this host from Fanout's own configuration — the management API on loopback at
//! `FANOUT_NIMBLE_API`'s port with `FANOUT_NIMBLE_TOKEN`, the RTMP listener and ingest
//! application of `FANOUT_NIMBLE_INGEST` / `FANOUT_NIMBLE_APP` (and the publishing login, when
//! set) — from the templates in `nimble/conf/`. Refuses a missing, short, default or
//! placeholder token; writes the two files with mode 0600 (they hold the token) and prints
//! where they are and what to do next, never a secret.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{ConfigArgs, Level, nimble_settings};

/// Why the files were not written.
#[derive(Debug, thiserror::Error)]
pub enum NimbleConfigError {
    /// A Nimble setting is missing or wrong.
    #[error("the Nimble settings are not usable:\n{0}")]
    Settings(String),
    /// The settings do not describe a Nimble on this host.
    #[error("{0}")]
    NotThisHost(String),
    /// The templates refused a value (a weak token, a name that would break the files).
    #[error("{0}")]
    Refused(#[from] fanout_nimble::ConfigError),
    /// The output directory could not be made.
    #[error("cannot create {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Renders and writes the two files into `out`; returns what to tell the operator.
pub fn write(args: &ConfigArgs, out: &Path) -> Result<String, NimbleConfigError> {
    let settings = nimble_settings(args).map_err(|findings| {
        let problems: Vec<String> = findings.at_least(Level::Error).map(|f| format!("  {}: {}", f.subject, f.detail)).collect();
        NimbleConfigError::Settings(problems.join("\n"))
    })?;
    let values = settings.template_values().map_err(NimbleConfigError::NotThisHost)?;
    let rendered = fanout_nimble::render(&values)?;
    std::fs::create_dir_all(out).map_err(|source| NimbleConfigError::Directory { path: out.to_path_buf(), source })?;
    rendered.write_to(out)?;
    Ok(format!(
        "Wrote {nimble} and {rules} (mode 0600: they hold the management token).\n\
         Next: copy both to /etc/nimble/ (keep them private), restart Nimble (`sudo systemctl restart nimble`),\n\
         check that `ss -ltnp | grep nimble` shows the management port {port} on 127.0.0.1 only,\n\
         then run Fanout with FANOUT_BACKEND=nimble: its ingest publishes to {ingest}.",
        nimble = out.join("nimble.conf").display(),
        rules = out.join("rules.conf").display(),
        port = values.management_port,
        ingest = settings.ingest_shown(),
    ))
}

/// `fanout nimble-config`: writes the files, or says why not.
pub fn run(args: &ConfigArgs, out: &Path) -> ExitCode {
    match write(args, out) {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("fanout nimble-config: {error}");
            ExitCode::FAILURE
        }
    }
}
