//! The `dlm` command line: one binary on top of the dlm-sweep libraries.
//!
//! Each subcommand lives in its own module under `cmd/` and owns its
//! arguments; this file only parses the command line, sets up logging and
//! dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Simulate dissipative learning machines, sweep their parameters and fit
/// the conjectured forgetting bound F <= F0 * exp(-sigma / sigma0).
#[derive(Debug, Parser)]
#[command(
    name = "dlm",
    version,
    after_help = "Logging: RUST_LOG sets the log filter (default: info), and \
                  DLM_LOG_FORMAT=json writes logs as JSON lines to standard error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version of dlm and of the simulation model; results of
    /// different model versions are never mixed in one cache.
    Version,

    /// Fit the forgetting bound to runs in a CSV file.
    Fit(cmd::fit::FitArgs),

    /// Simulate one run from a configuration file and print its summary.
    Run(cmd::run::RunArgs),

    /// Run a coordinator: the gRPC services for sweeps and workers over a
    /// PostgreSQL or SQLite database.
    Serve(cmd::serve::ServeArgs),

    /// Lease runs from a coordinator and simulate them.
    Worker(cmd::worker::WorkerArgs),

    /// Run a sweep file on this machine: store it in SQLite, simulate every
    /// run with an in-process coordinator and worker, then print the
    /// results and the fit of the bound and write runs.csv and fit.svg.
    Sweep(cmd::sweep::SweepArgs),
}

/// Runs the command and prints a failure as one line: the error and its
/// causes joined by colons, never a backtrace, even when `RUST_BACKTRACE` is set.
fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local sweep shows a progress bar, which per-run service logs would
    // scroll away, so it logs only warnings and errors unless RUST_LOG is set.
    let default_filter = match cli.command {
        Command::Sweep(_) => "warn",
        _ => "info",
    };
    cmd::init_logging(default_filter);

    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Version => {
            println!("dlm {}", env!("CARGO_PKG_VERSION"));
            println!("model {}", dlm_sim::MODEL_VERSION);
            Ok(())
        }
        Command::Fit(args) => cmd::fit::run(&args),
        Command::Run(args) => cmd::run::execute(args),
        Command::Serve(args) => cmd::serve::execute(args),
        Command::Worker(args) => cmd::worker::execute(args),
        Command::Sweep(args) => cmd::sweep::execute(args),
    }
}
