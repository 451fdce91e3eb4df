//! `dlm-bench`: measures the sweep service's own cost, apart from
//! simulation, and the same work done by a plain SQL peer in the same run.
//!
//! The figures go to standard output as a Markdown table, ready for
//! `docs/benchmarks.md`. Progress goes to standard error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use dlm_bench::sweep;

mod peer;
mod queue;
mod scaling;
mod service;

/// Benchmarks of the dlm-sweep service. Each case runs against a fresh
/// PostgreSQL database created on the server named by DATABASE_URL
/// (default postgres://postgres@127.0.0.1:5432/postgres) and dropped after.
#[derive(Debug, Parser)]
#[command(name = "dlm-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Queue throughput and lease latency: synthetic workers lease runs
    /// over gRPC and complete them at once, against a pgbench loop of
    /// SKIP LOCKED claims and completions on the same schema.
    Queue(queue::QueueArgs),

    /// Submission and export through a real `dlm serve` process: a large
    /// grid posted over HTTP, then its CSV export, with the coordinator's
    /// peak memory during each.
    Service(service::ServiceArgs),

    /// Scaling on real simulations: a sweep file through `dlm sweep` with
    /// 1 and 2 workers on SQLite, and through `dlm serve` plus `dlm worker`
    /// on PostgreSQL, with the share of time spent outside simulation.
    Scaling(scaling::ScalingArgs),
}

/// Runs the benchmark and prints a failure as one line, without a backtrace.
fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        Command::Queue(args) => runtime.block_on(queue::execute(args)),
        Command::Service(args) => runtime.block_on(service::execute(args)),
        Command::Scaling(args) => runtime.block_on(scaling::execute(args)),
    }
}
