//! Queue throughput of the coordinator: synthetic workers lease runs over
//! gRPC and complete them at once, so the figure is the service's cost per
//! run (gRPC, the lease and completion transactions, the result rows)
//! with no simulation in it.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dlm_coordinator::{Coordinator, CoordinatorConfig};
use dlm_proto::v1 as proto;
use dlm_proto::v1::workers_client::WorkersClient;
use dlm_store::testing::TestDatabase;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::peer::{self, PeerFigures};
use crate::sweep::{queue_runs, synthetic_result};

#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    /// Runs queued per case.
    #[arg(long, default_value_t = 20_000)]
    runs: u64,

    /// Concurrent synthetic workers, as a comma-separated list; one case
    /// per value.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64])]
    workers: Vec<usize>,

    /// Runs claimed per Lease call, as a comma-separated list; one case per
    /// value. The SQL peer always claims one run per transaction.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 16])]
    batch: Vec<u32>,

    /// Skip the pgbench peer.
    #[arg(long)]
    no_peer: bool,
}

/// Figures of one service case.
struct ServiceFigures {
    runs_per_second: f64,
    lease_p50: Duration,
    lease_p99: Duration,
    lease_calls: usize,
}

pub async fn execute(args: QueueArgs) -> anyhow::Result<()> {
    if args.runs == 0 || args.workers.contains(&0) || args.batch.contains(&0) {
        bail!("--runs, --workers and --batch must be at least 1");
    }

    let mut peers: Vec<(usize, PeerFigures)> = Vec::new();
    if !args.no_peer {
        for &workers in &args.workers {
            eprintln!("peer: {workers} pgbench clients over {} runs", args.runs);
            peers.push((workers, peer::measure(args.runs, workers).await?));
        }
    }

    println!("| workers | batch | service runs/s | lease p50 (ms) | lease p99 (ms) | Lease calls | peer runs/s | service / peer |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &workers in &args.workers {
        for &batch in &args.batch {
            eprintln!("service: {workers} workers, batch {batch}, {} runs", args.runs);
            let service = measure_service(args.runs, workers, batch).await?;
            let peer = peers.iter().find(|(count, _)| *count == workers).map(|(_, figures)| figures);
            let (peer_rate, ratio) = match peer {
                Some(peer) => (
                    format!("{:.0}", peer.runs_per_second),
                    format!("{:.2}", service.runs_per_second / peer.runs_per_second),
                ),
                None => ("-".to_string(), "-".to_string()),
            };
            println!(
                "| {workers} | {batch} | {:.0} | {:.2} | {:.2} | {} | {peer_rate} | {ratio} |",
                service.runs_per_second,
                millis(service.lease_p50),
                millis(service.lease_p99),
                service.lease_calls,
            );
        }
    }
    Ok(())
}

/// Queues `runs` runs, serves them from an in-process coordinator on
/// loopback and drains the queue with `workers` gRPC clients, each on its
/// own connection.
async fn measure_service(runs: u64, workers: usize, batch: u32) -> anyhow::Result<ServiceFigures> {
    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    let submitted = queue_runs(&store, runs).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let coordinator = Coordinator::new(store.clone(), CoordinatorConfig::default());
    let server = tokio::spawn(coordinator.serve(listener, async {
        let _ = stopped.await;
    }));

    let started = Instant::now();
    let mut clients = JoinSet::new();
    for index in 0..workers {
        clients.spawn(drain_queue(url.clone(), format!("bench-{index}"), batch));
    }
    let mut latencies = Vec::new();
    let mut completed = 0u64;
    while let Some(joined) = clients.join_next().await {
        let (count, mut calls) = joined.context("a synthetic worker panicked")??;
        completed += count;
        latencies.append(&mut calls);
    }
    let elapsed = started.elapsed();

    let _ = stop.send(());
    server.await.context("the coordinator task panicked")??;
    check_every_run_stored_once(database.url(), submitted.sweep_id, runs).await?;
    store.close().await;
    if completed != runs {
        bail!("workers completed {completed} runs of {runs}");
    }

    latencies.sort_unstable();
    Ok(ServiceFigures {
        runs_per_second: runs as f64 / elapsed.as_secs_f64(),
        lease_p50: percentile(&latencies, 0.50),
        lease_p99: percentile(&latencies, 0.99),
        lease_calls: latencies.len(),
    })
}

/// Leases and completes runs until the queue is empty; returns the runs
/// completed and the duration of every Lease call.
pub async fn drain_queue(
    url: String,
    worker_id: String,
    batch: u32,
) -> anyhow::Result<(u64, Vec<Duration>)> {
    let mut client = WorkersClient::connect(url).await?;
    let result = synthetic_result();
    let mut latencies = Vec::new();
    let mut completed = 0;
    loop {
        let requested = Instant::now();
        let leased = client
            .lease(proto::LeaseRequest {
                worker_id: worker_id.clone(),
                max_runs: batch,
                model_version: dlm_sim::MODEL_VERSION.to_string(),
            })
            .await?
            .into_inner()
            .runs;
        latencies.push(requested.elapsed());
        if leased.is_empty() {
            return Ok((completed, latencies));
        }

        for run in leased {
            let response = client
                .complete(proto::CompleteRequest {
                    worker_id: worker_id.clone(),
                    lease: Some(proto::LeaseRef {
                        run_id: run.run_id,
                        attempt: run.attempt,
                    }),
                    result: Some(result.clone()),
                })
                .await?
                .into_inner();
            if !response.stored {
                bail!("run {} was reported as a duplicate", run.run_id);
            }
            completed += 1;
        }
    }
}

/// Fails unless the sweep has exactly `runs` results and no run was
/// completed twice.
async fn check_every_run_stored_once(url: &str, sweep_id: i64, runs: u64) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    let (results, duplicates): (i64, i64) = sqlx::query_as(
        "SELECT count(results.run_id), coalesce(sum(runs.duplicate_completions), 0)::BIGINT \
         FROM sweep_runs JOIN runs ON runs.id = sweep_runs.run_id \
         LEFT JOIN results ON results.run_id = runs.id WHERE sweep_runs.sweep_id = $1",
    )
    .bind(sweep_id)
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    if results as u64 != runs || duplicates != 0 {
        bail!("expected {runs} results and no duplicates, found {results} results and {duplicates} duplicates");
    }
    Ok(())
}

/// Returns the value at quantile `q` of sorted `values` (nearest rank).
fn percentile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&values, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
