//! `dlm worker`: lease runs from a coordinator and simulate them until
//! SIGTERM or SIGINT, then drain.

use std::time::Duration;

use anyhow::{Context, bail};
use dlm_worker::{Worker, WorkerOptions};

use super::signals::shutdown_signal;

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Coordinator URL.
    #[arg(long, env = "DLM_COORDINATOR", default_value = "http://127.0.0.1:50051")]
    coordinator: String,

    /// Simulations run at once [default: the number of CPU cores].
    #[arg(long, env = "DLM_CONCURRENCY")]
    concurrency: Option<usize>,

    /// Bearer token the coordinator expects from workers.
    #[arg(long, env = "DLM_WORKER_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// Most runs claimed per lease request [default: the concurrency].
    #[arg(long, env = "DLM_LEASE_BATCH")]
    lease_batch: Option<u32>,

    /// Seconds to let running simulations finish after SIGTERM or SIGINT
    /// before their leases are released to other workers.
    #[arg(long, env = "DLM_DRAIN_TIMEOUT", default_value_t = 30.0)]
    drain_timeout: f64,

    /// Seconds to wait before asking again when no run is queued.
    #[arg(long, env = "DLM_IDLE_POLL", default_value_t = 1.0)]
    idle_poll: f64,

    /// Maximum wait in seconds between retries while the coordinator is
    /// unreachable.
    #[arg(long, env = "DLM_MAX_BACKOFF", default_value_t = 30.0)]
    max_backoff: f64,

    /// Name of this worker in leases and logs [default: HOSTNAME-PID].
    #[arg(long, env = "DLM_WORKER_ID")]
    worker_id: Option<String>,
}

/// Runs the worker until a shutdown signal arrives and draining ends.
pub fn execute(args: WorkerArgs) -> anyhow::Result<()> {
    let options = worker_options(args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime
        .block_on(Worker::run(options, shutdown_signal()))
        .context("the worker stopped")
}

fn worker_options(args: WorkerArgs) -> anyhow::Result<WorkerOptions> {
    let concurrency = match args.concurrency {
        Some(0) => bail!("invalid --concurrency 0: run at least one simulation at a time"),
        Some(concurrency) => concurrency,
        None => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
    };
    let lease_batch = match args.lease_batch {
        Some(0) => bail!("invalid --lease-batch 0: claim at least one run per request"),
        Some(batch) => batch,
        None => u32::try_from(concurrency).unwrap_or(u32::MAX),
    };

    Ok(WorkerOptions {
        coordinator: args.coordinator,
        worker_id: args.worker_id.unwrap_or_else(default_worker_id),
        concurrency,
        token: args.token.filter(|token| !token.trim().is_empty()),
        lease_batch,
        drain_timeout: seconds("--drain-timeout", args.drain_timeout)?,
        idle_poll: seconds("--idle-poll", args.idle_poll)?,
        max_backoff: seconds("--max-backoff", args.max_backoff)?,
    })
}

fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("invalid {flag} {value}: expected a number of seconds >= 0"))
}

fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|host| host.trim().to_string())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    format!("{host}-{}", std::process::id())
}
