//! `dlm-bench`: measures the sweep service's own cost, apart from
//! simulation, and the same work done by a plain SQL peer in the same run.
//!
//! The figures go to standard output as a Markdown table, ready for
//! `docs/benchmarks.md`. Progress goes to standard error.

use clap::{Parser, Subcommand};

use dlm_bench::sweep;

mod peer;
mod queue;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Queue(args) => runtime.block_on(queue::execute(args)),
    }
}
