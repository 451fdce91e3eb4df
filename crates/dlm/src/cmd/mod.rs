//! Subcommands of `dlm`, one module each, plus the logging setup they share.

pub mod fit;
mod fit_flags;
pub mod run;
pub mod serve;
mod signals;
pub mod sweep;
pub mod worker;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs a `tracing` subscriber that writes to stderr, filtered by
/// `RUST_LOG` (default `default_filter`, such as `info`), in JSON when
/// `DLM_LOG_FORMAT=json`. Colours are used only when stderr is a terminal,
/// so redirected logs stay plain.
pub fn init_logging(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("DLM_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
