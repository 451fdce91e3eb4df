//! Scaling on real simulations: a sweep file run by `dlm sweep` with 1 and
//! 2 workers on SQLite, and by `dlm serve` plus one `dlm worker` on
//! PostgreSQL. Overhead is the share of worker time not spent simulating,
//! from the `duration_seconds` the workers stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dlm_store::testing::TestDatabase;

use crate::service::{Coordinator, dlm_binary};

#[derive(Debug, clap::Args)]
pub struct ScalingArgs {
    /// Sweep file to run. Its runs should take seconds each.
    #[arg(long, default_value = "examples/quickstart.toml")]
    sweep: PathBuf,
}

/// Figures of one setup.
struct Figures {
    wall_seconds: f64,
    simulation_seconds: f64,
}

pub async fn execute(args: ScalingArgs) -> anyhow::Result<()> {
    let document = std::fs::read_to_string(&args.sweep)
        .with_context(|| format!("cannot read {}", args.sweep.display()))?;

    let mut rows = Vec::new();
    for workers in [1usize, 2] {
        eprintln!("dlm sweep with {workers} workers");
        rows.push(("`dlm sweep`, SQLite", workers, embedded(&args.sweep, workers).await?));
    }
    eprintln!("dlm serve and dlm worker on PostgreSQL");
    rows.push(("`dlm serve` + `dlm worker`, PostgreSQL", 2, distributed(&document).await?));

    let single = rows[0].2.wall_seconds;
    println!("| setup | workers | wall (s) | simulation (s) | speed-up | overhead |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (setup, workers, figures) in rows {
        let overhead = 1.0 - figures.simulation_seconds / (figures.wall_seconds * workers as f64);
        println!(
            "| {setup} | {workers} | {:.2} | {:.2} | {:.2} | {:.1} % |",
            figures.wall_seconds,
            figures.simulation_seconds,
            single / figures.wall_seconds,
            overhead * 100.0
        );
    }
    Ok(())
}

/// Runs the sweep through `dlm sweep` on a new SQLite database.
async fn embedded(sweep: &Path, workers: usize) -> anyhow::Result<Figures> {
    let directory = tempfile::tempdir()?;
    let database = directory.path().join("dlm.sqlite");
    let started = Instant::now();
    let status = Command::new(dlm_binary()?)
        .arg("sweep")
        .arg(sweep)
        .arg(format!("--workers={workers}"))
        .arg(format!("--database=sqlite://{}", database.display()))
        .stdout(Stdio::null())
        .status()
        .context("cannot start dlm sweep")?;
    let wall_seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("dlm sweep failed with {status}");
    }
    let simulation_seconds =
        simulation_seconds(&format!("sqlite:{}", database.display())).await?;
    Ok(Figures {
        wall_seconds,
        simulation_seconds,
    })
}

/// Runs the sweep through `dlm serve` and one `dlm worker` with two
/// simulations at once, on a fresh PostgreSQL database.
async fn distributed(document: &str) -> anyhow::Result<Figures> {
    let database = TestDatabase::postgres().await;
    let coordinator = Coordinator::start(database.url())?;
    let mut worker = Command::new(dlm_binary()?)
        .args(["worker", "--concurrency=2", "--coordinator"])
        .arg(&coordinator.grpc_url)
        .env("RUST_LOG", "warn")
        .spawn()
        .context("cannot start dlm worker")?;

    let client = reqwest::Client::new();
    let started = Instant::now();
    let response: serde_json::Value = client
        .post(format!("{}/v1/sweeps", coordinator.http_url))
        .header("content-type", "application/toml")
        .body(document.to_string())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let sweep_id = response["sweep_id"].as_i64().context("no sweep id in the response")?;
    loop {
        let status: serde_json::Value = client
            .get(format!("{}/v1/sweeps/{sweep_id}", coordinator.http_url))
            .send()
            .await?
            .json()
            .await?;
        if status["state"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wall_seconds = started.elapsed().as_secs_f64();

    let _ = worker.kill();
    let _ = worker.wait();
    let simulation_seconds = simulation_seconds(database.url()).await?;
    Ok(Figures {
        wall_seconds,
        simulation_seconds,
    })
}

/// Returns the summed simulation time of every stored result.
async fn simulation_seconds(url: &str) -> anyhow::Result<f64> {
    const SUM: &str = "SELECT CAST(sum(duration_seconds) AS DOUBLE PRECISION) FROM results";
    let seconds = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let seconds = sqlx::query_scalar(SUM).fetch_one(&pool).await?;
        pool.close().await;
        seconds
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let seconds = sqlx::query_scalar(SUM).fetch_one(&pool).await?;
        pool.close().await;
        seconds
    };
    Ok(seconds)
}
