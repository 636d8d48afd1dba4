//! Logging: `tracing` to standard error, filtered and formatted as configured — coloured only
//! when standard error is a terminal (a journal or a file gets plain text, no escape codes) —
//! and panics logged through it, not printed beside it.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. The filter was validated with the rest of the configuration.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(true).with_ansi(colour);
    // `try_init` fails only when a subscriber is already installed (tests), which is fine.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    log_panics();
}

/// Sends every panic to the log (in the configured format). One the relay's guard catches —
/// the RTMP library failing on a peer's bytes — is a warning: that connection is refused and
/// nothing else is touched. Any other is an error.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if crate::relay::guard::is_catching() {
            tracing::warn!(at, "the RTMP library panicked on a peer's input (caught; the connection is refused): {what}");
        } else {
            tracing::error!(at, "panicked: {what}");
        }
    }));
}
