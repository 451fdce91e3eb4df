//! Submission and export through a real `dlm serve` process: the time to
//! store a large grid posted over HTTP, the rate of the CSV export, and the
//! coordinator's peak resident memory during each, read from /proc.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use dlm_store::testing::TestDatabase;
use futures::StreamExt;
use tokio::task::JoinSet;

use crate::queue::drain_queue;
use crate::sweep::synthetic_document;

#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// Runs in the submitted grid, and rows in the exported CSV.
    #[arg(long, default_value_t = 100_000)]
    runs: u64,

    /// Synthetic workers that complete the runs between submission and
    /// export.
    #[arg(long, default_value_t = 16)]
    workers: usize,
}

/// A `dlm serve` child process, killed when dropped.
pub struct Coordinator {
    child: Child,
    pub grpc_url: String,
    pub http_url: String,
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Coordinator {
    /// Starts `dlm serve` on free loopback ports and reads them from its
    /// standard output.
    pub fn start(database_url: &str) -> anyhow::Result<Coordinator> {
        let mut child = Command::new(dlm_binary()?)
            .args(["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start dlm serve")?;

        let stdout = child.stdout.take().context("dlm serve has no standard output")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut address_after = |prefix: &str| -> anyhow::Result<String> {
            let line = lines
                .next()
                .context("dlm serve exited before printing its address")??;
            match line.strip_prefix(prefix) {
                Some(address) => Ok(format!("http://{address}")),
                None => bail!("expected a line starting with {prefix:?} from dlm serve, got {line:?}"),
            }
        };
        let grpc_url = address_after("gRPC listening on ")?;
        let http_url = address_after("HTTP listening on ")?;
        Ok(Coordinator {
            child,
            grpc_url,
            http_url,
        })
    }

    /// Returns the peak resident memory since start or since the last
    /// [`Coordinator::reset_peak_memory`], in MiB.
    fn peak_memory_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .context("no VmHWM line in /proc status")?;
        Ok(kib / 1024.0)
    }

    /// Resets the kernel's peak resident memory counter of the process.
    fn reset_peak_memory(&self) -> anyhow::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .context("cannot reset the peak memory counter in /proc")
    }
}

/// Returns the `dlm` binary built beside this one.
pub fn dlm_binary() -> anyhow::Result<PathBuf> {
    let current = std::env::current_exe()?;
    let path = current.with_file_name("dlm");
    if !path.exists() {
        bail!("{} not found; build it with cargo build --release --bin dlm", path.display());
    }
    Ok(path)
}

pub async fn execute(args: ServiceArgs) -> anyhow::Result<()> {
    if args.runs == 0 || args.workers == 0 {
        bail!("--runs and --workers must be at least 1");
    }
    let database = TestDatabase::postgres().await;
    let coordinator = Coordinator::start(database.url())?;
    let client = reqwest::Client::new();
    let idle_mib = coordinator.peak_memory_mib()?;

    eprintln!("submit: {} runs over HTTP", args.runs);
    let document = synthetic_document("submission-bench", args.runs);
    let started = Instant::now();
    let response = client
        .post(format!("{}/v1/sweeps", coordinator.http_url))
        .header("content-type", "application/toml")
        .body(document)
        .send()
        .await?;
    let submit_seconds = started.elapsed().as_secs_f64();
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    if status != reqwest::StatusCode::CREATED {
        bail!("submission failed with {status}: {body}");
    }
    let sweep_id = body["sweep_id"].as_i64().context("no sweep id in the submission response")?;
    let submit_peak_mib = coordinator.peak_memory_mib()?;

    eprintln!("complete: {} synthetic workers", args.workers);
    let mut workers = JoinSet::new();
    for index in 0..args.workers {
        workers.spawn(drain_queue(coordinator.grpc_url.clone(), format!("bench-{index}"), 16));
    }
    while let Some(joined) = workers.join_next().await {
        joined.context("a synthetic worker panicked")??;
    }

    eprintln!("export: CSV of sweep {sweep_id}");
    coordinator.reset_peak_memory()?;
    let export_base_mib = coordinator.peak_memory_mib()?;
    let started = Instant::now();
    let response = client
        .get(format!("{}/v1/sweeps/{sweep_id}/runs?format=csv", coordinator.http_url))
        .send()
        .await?
        .error_for_status()?;
    let mut lines = 0u64;
    let mut bytes = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&byte| byte == b'\n').count() as u64;
    }
    let export_seconds = started.elapsed().as_secs_f64();
    let export_peak_mib = coordinator.peak_memory_mib()?;
    let rows = lines.saturating_sub(1);
    if rows != args.runs {
        bail!("the CSV export has {rows} rows, expected {}", args.runs);
    }

    println!("| figure | runs | time (s) | rate | coordinator peak RSS (MiB) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| idle coordinator | - | - | - | {idle_mib:.0} |"
    );
    println!(
        "| submission over HTTP | {} | {submit_seconds:.2} | {:.0} runs/s | {submit_peak_mib:.0} |",
        args.runs,
        args.runs as f64 / submit_seconds
    );
    println!(
        "| CSV export | {rows} | {export_seconds:.2} | {:.0} rows/s, {:.1} MiB | {export_peak_mib:.0} (before: {export_base_mib:.0}) |",
        rows as f64 / export_seconds,
        bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
