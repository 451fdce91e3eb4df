//! End to end with the real binary: `dlm serve` processes and `dlm worker`
//! processes over loopback gRPC and a fresh PostgreSQL database, running the
//! tiny digits sweep from `examples/`.

mod common;

use std::time::{Duration, Instant};

use dlm_proto::v1 as proto;
use dlm_proto::v1::workers_client::WorkersClient;
use dlm_store::testing::TestDatabase;
use dlm_store::{RunState, Store};

use common::{
    Processes, SWEEP_TIMEOUT, TINY_SWEEP, dlm, free_loopback_address, spawn_coordinator,
    start_coordinator, start_worker, submit_sweep, terminate, wait_for_exit, wait_for_lease, wait_for_sweep,
    worker_command,
};

async fn submit_tiny_sweep(coordinator_url: &str) -> proto::SubmitResponse {
    submit_sweep(coordinator_url, TINY_SWEEP).await
}

/// Checks that every run of the sweep is done with exactly one stored
/// result, and returns the runs.
async fn assert_every_run_done_once(store: &Store, sweep_id: i64) -> Vec<dlm_store::RunRecord> {
    let mut runs = Vec::new();
    for run_id in store.sweep_run_ids(sweep_id).await.unwrap() {
        let run = store.run(run_id).await.unwrap();
        assert_eq!(run.state, RunState::Done, "run {run_id}: {run:?}");
        let result = store.result(run_id).await.unwrap();
        let result = result.unwrap_or_else(|| panic!("run {run_id} has no result"));
        assert_eq!(result.metrics.len(), dlm_sim::Summary::METRIC_NAMES.len());
        runs.push(run);
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_finish_tiny_sweep() {
    let database = TestDatabase::postgres().await;
    let (coordinator, url) = start_coordinator(database.url(), "10");
    let mut processes = Processes(vec![coordinator]);
    processes.0.push(start_worker(&url, "worker-a"));
    processes.0.push(start_worker(&url, "worker-b"));

    let submitted = submit_tiny_sweep(&url).await;
    assert_eq!(submitted.run_count, 10);
    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    assert_eq!(status.state(), proto::SweepState::Done);
    let counts = status.counts.unwrap();
    assert_eq!(counts.done, 10);
    assert_eq!(counts.failed, 0);
    let store = database.store().await;
    let runs = assert_every_run_done_once(&store, submitted.sweep_id).await;
    for run in &runs {
        assert_eq!(run.duplicate_completions, 0, "run {}", run.id);
        assert_eq!(run.attempt, 1, "run {} leased once", run.id);
    }

    // The same sweep again is served from the stored results.
    let again = submit_tiny_sweep(&url).await;
    assert_eq!(again.reused_count, 10);
    drop(processes);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_runs_are_retaken() {
    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    let (coordinator, url) = start_coordinator(database.url(), "2");
    let mut processes = Processes(vec![coordinator]);
    let mut doomed = start_worker(&url, "doomed");
    processes.0.push(start_worker(&url, "survivor"));

    let submitted = submit_tiny_sweep(&url).await;
    let run_ids = store.sweep_run_ids(submitted.sweep_id).await.unwrap();

    // Kill the worker with SIGKILL while it holds a lease, so it can neither
    // report nor release.
    wait_for_lease(&store, &run_ids, "doomed").await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let mut orphaned = Vec::new();
    for &run_id in &run_ids {
        let run = store.run(run_id).await.unwrap();
        if run.state == RunState::Leased && run.worker_id.as_deref() == Some("doomed") {
            orphaned.push(run_id);
        }
    }

    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    assert_eq!(status.state(), proto::SweepState::Done);
    assert_eq!(status.counts.unwrap().done, 10);
    assert_every_run_done_once(&store, submitted.sweep_id).await;
    for run_id in orphaned {
        let run = store.run(run_id).await.unwrap();
        // Under load the survivor's own 2 s lease may lapse too, so an
        // orphaned run can count more than one expired attempt.
        assert!(run.failed_attempts >= 1, "run {run_id} was requeued after its lease expired");
        assert!(run.attempt >= 2, "run {run_id} was leased again");
        let result = store.result(run_id).await.unwrap().unwrap();
        assert_eq!(result.worker_id, "survivor");
    }
    drop(processes);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coordinators_share_one_database() {
    let database = TestDatabase::postgres().await;
    let (first, first_url) = start_coordinator(database.url(), "30");
    let (second, second_url) = start_coordinator(database.url(), "30");
    let mut processes = Processes(vec![first, second]);
    for (url, worker_id) in [
        (&first_url, "worker-1"),
        (&first_url, "worker-2"),
        (&second_url, "worker-3"),
        (&second_url, "worker-4"),
    ] {
        processes.0.push(start_worker(url, worker_id));
    }

    let submitted = submit_tiny_sweep(&first_url).await;
    let status = wait_for_sweep(&second_url, submitted.sweep_id).await;

    assert_eq!(status.state(), proto::SweepState::Done);
    let store = database.store().await;
    let runs = assert_every_run_done_once(&store, submitted.sweep_id).await;
    assert_eq!(runs.len(), 10);
    for run in &runs {
        assert_eq!(run.attempt, 1, "run {} leased exactly once", run.id);
        assert_eq!(run.duplicate_completions, 0, "run {}", run.id);
    }
    drop(processes);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rejects_open_address_without_token() {
    let output = dlm()
        .args(["serve", "--database-url", "sqlite::memory:", "--grpc", "0.0.0.0:0"])
        .output()
        .expect("cannot run dlm serve");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a worker token"), "{stderr}");
    assert!(stderr.contains("DLM_WORKER_TOKEN"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_logs_peer_not_token() {
    let database = TestDatabase::postgres().await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut command = dlm();
    command
        .args(["serve", "--database-url", database.url(), "--grpc", "127.0.0.1:0"])
        .env("DLM_WORKER_TOKEN", "expected-worker-secret")
        .stderr(log.reopen().unwrap());
    let (coordinator, url) = spawn_coordinator(command);
    let mut processes = Processes(vec![coordinator]);

    let mut workers = WorkersClient::connect(url).await.unwrap();
    for token in [Some("presented-wrong-secret"), None] {
        let mut request = tonic::Request::new(proto::LeaseRequest {
            worker_id: "intruder".to_string(),
            max_runs: 1,
            model_version: dlm_sim::MODEL_VERSION.to_string(),
        });
        if let Some(token) = token {
            let header = format!("Bearer {token}").parse().unwrap();
            request.metadata_mut().insert("authorization", header);
        }
        let status = workers.lease(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "token {token:?}");
    }

    // SIGTERM stops the coordinator gracefully, which also flushes its log.
    let coordinator = &mut processes.0[0];
    terminate(coordinator);
    let exit = wait_for_exit(coordinator, Duration::from_secs(60)).await;
    assert!(exit.success(), "dlm serve exited with {exit} after SIGTERM");

    let logged = std::fs::read_to_string(log.path()).unwrap();
    let rejections: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("rejected unauthenticated request"))
        .collect();
    assert_eq!(rejections.len(), 2, "{logged}");
    assert!(rejections[0].contains("wrong bearer token"), "{logged}");
    assert!(rejections[1].contains("missing bearer token"), "{logged}");
    for line in &rejections {
        assert!(line.contains("peer=127.0.0.1:"), "{line}");
    }
    assert!(!logged.contains("presented-wrong-secret"), "{logged}");
    assert!(!logged.contains("expected-worker-secret"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_waits_for_late_coordinator() {
    let database = TestDatabase::postgres().await;
    let address = free_loopback_address();
    let log = tempfile::NamedTempFile::new().unwrap();
    let worker = worker_command(&format!("http://{address}"), "patient")
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("cannot start dlm worker");
    let mut processes = Processes(vec![worker]);

    let started = Instant::now();
    while !std::fs::read_to_string(log.path()).unwrap().contains("lease request failed; retrying") {
        assert!(started.elapsed() < SWEEP_TIMEOUT, "the worker never tried to lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let still_running = processes.0[0].try_wait().unwrap();
    assert!(still_running.is_none(), "the worker exited: {still_running:?}");

    let mut command = dlm();
    command.args(["serve", "--database-url", database.url(), "--grpc", &address]);
    let (coordinator, url) = spawn_coordinator(command);
    processes.0.push(coordinator);
    let submitted = submit_tiny_sweep(&url).await;
    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    assert_eq!(status.counts.unwrap().done, 10);
    let store = database.store().await;
    for run_id in store.sweep_run_ids(submitted.sweep_id).await.unwrap() {
        let result = store.result(run_id).await.unwrap().expect("a stored result");
        assert_eq!(result.worker_id, "patient");
    }
    store.close().await;
}
