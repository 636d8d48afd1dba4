//! `fanout`: restreams a YouTube channel's lives to every volunteer's Restream.io account.
//! This file only parses the command line and hands over to the command's module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::{check, config, nimble_config, serve, standalone};

/// Restream a YouTube channel's lives to every volunteer's Restream.io account.
///
/// Every flag can also be given by the environment variable named in its help; a flag wins
/// over its variable. With no configuration at all, `fanout serve` runs on embedded defaults.
#[derive(Debug, Parser)]
#[command(name = "fanout", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    config: config::ConfigArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web app (sign-up and admin pages) and the live engine.
    Serve,
    /// Run the live engine alone (no pages; health, readiness and metrics), for a VPS that only streams.
    Engine,
    /// Validate the configuration, the store and the source's tools, print a report, exit
    /// non-zero on an error; `--youtube [WATCH_URL]` tries the source end to end.
    Check(check::CheckArgs),
    /// Run only the built-in relay: one RTMP publisher in, every URL of a file out (SIGHUP
    /// re-reads the file). The publisher's stream key comes from FANOUT_RELAY_INGEST_KEY.
    Relay(standalone::RelayArgs),
    /// Read a password from standard input (not echoed on a terminal) and print its argon2id
    /// hash, for FANOUT_ADMIN_USERS=name:<hash>.
    HashPassword,
    /// Render Nimble Streamer's nimble.conf and rules.conf for this host from the FANOUT_NIMBLE_*
    /// settings (refuses a missing or weak FANOUT_NIMBLE_TOKEN), for FANOUT_RELAY=nimble.
    NimbleConfig {
        /// The directory to write nimble.conf and rules.conf into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Print an environment file listing every setting, commented out, with its help and its
    /// default (the package's /etc/fanout/fanout.env).
    EnvTemplate,
}

fn face(command: &Command) -> serve::Face {
    match command {
        Command::Engine => serve::Face::EngineOnly,
        _ => serve::Face::Web,
    }
}

fn hash_password() -> ExitCode {
    use std::io::{BufRead, IsTerminal};
    let password = if std::io::stdin().is_terminal() {
        eprint!("Password (12 characters or more; not shown): ");
        rpassword::read_password()
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line.trim_end_matches(['\r', '\n']).to_string())
    };
    let hashed = match password {
        Ok(password) => server::access::users::hash_password(&password),
        Err(error) => {
            eprintln!("fanout hash-password: cannot read the password: {error}");
            return ExitCode::FAILURE;
        }
    };
    match hashed {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("fanout hash-password: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&cli.config, &args).await,
        Command::HashPassword => hash_password(),
        Command::EnvTemplate => {
            print!("{}", config::env_template());
            ExitCode::SUCCESS
        }
        Command::NimbleConfig { out } => nimble_config::run(&cli.config, &out),
        Command::Relay(args) => {
            server::telemetry::init(&cli.config.log, cli.config.log_format);
            match standalone::run(&args, std::env::var("FANOUT_RELAY_INGEST_KEY").ok()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("fanout relay: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve | Command::Engine => match serve::run(&cli.config, face(&cli.command)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("fanout: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}
