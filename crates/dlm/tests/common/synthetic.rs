//! A synthetic worker: a gRPC client that leases one run at a time and
//! completes it at once with a made-up result, for scenarios about the
//! queue rather than the simulation. Given a poison run, it aborts its own
//! process when it leases that run, as a worker crashing on it would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dlm_proto::v1 as proto;
use dlm_proto::v1::workers_client::WorkersClient;
use tonic::transport::Channel;

/// One lease as the worker received it, with times as seconds since the
/// epoch.
#[derive(Debug, Clone, Copy)]
pub struct LeaseRecord {
    pub run_id: i64,
    pub attempt: i32,
    /// Local time when the lease response arrived.
    pub received_at: f64,
    /// Expiry the coordinator set.
    pub expires_at: f64,
}

pub struct SyntheticWorker {
    pub coordinator_url: String,
    pub worker_id: String,
    /// A run whose lease makes the worker abort its process.
    pub poison_run: Option<i64>,
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn connect(coordinator_url: &str) -> WorkersClient<Channel> {
    loop {
        match WorkersClient::connect(coordinator_url.to_string()).await {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Leases and completes runs until `stop` turns true, and returns every
/// lease received. Failed requests are retried, since the scenarios
/// inject faults.
pub async fn run_synthetic_worker(
    worker: SyntheticWorker,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<LeaseRecord> {
    let mut client = connect(&worker.coordinator_url).await;
    let mut leases = Vec::new();
    while !*stop.borrow() {
        let response = client
            .lease(proto::LeaseRequest {
                worker_id: worker.worker_id.clone(),
                max_runs: 1,
                model_version: dlm_sim::MODEL_VERSION.to_string(),
            })
            .await;
        let Ok(response) = response else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let received_at = now_seconds();
        let runs = response.into_inner().runs;
        if runs.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }

        for run in runs {
            if worker.poison_run == Some(run.run_id) {
                std::process::abort();
            }
            leases.push(LeaseRecord {
                run_id: run.run_id,
                attempt: run.attempt,
                received_at,
                expires_at: run.lease_expires_at,
            });
            let lease = proto::LeaseRef {
                run_id: run.run_id,
                attempt: run.attempt,
            };
            complete(&mut client, &worker.worker_id, lease).await;
        }
    }
    leases
}

/// Reports a synthetic result, retrying until a request succeeds.
async fn complete(client: &mut WorkersClient<Channel>, worker_id: &str, lease: proto::LeaseRef) {
    loop {
        let request = proto::CompleteRequest {
            worker_id: worker_id.to_string(),
            lease: Some(lease),
            result: Some(dlm_bench::sweep::synthetic_result()),
        };
        if client.complete(request).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
