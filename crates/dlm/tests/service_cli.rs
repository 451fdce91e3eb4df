//! End to end with the real binary: `dlm serve` processes and `dlm worker`
//! processes over loopback gRPC and a fresh PostgreSQL database, running the
//! tiny digits sweep from `examples/`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dlm_proto::v1 as proto;
use dlm_proto::v1::sweeps_client::SweepsClient;
use dlm_store::testing::TestDatabase;
use dlm_store::{RunState, Store};

const TINY_SWEEP: &str = include_str!("../../../examples/sweep-tiny.toml");

/// Upper bound on a sweep's wall time, so a broken build fails instead of
/// hanging; the tiny sweep normally takes a few seconds.
const SWEEP_TIMEOUT: Duration = Duration::from_secs(600);

/// Child processes killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn dlm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dlm"));
    command.env("RUST_LOG", "warn").env_remove("DLM_WORKER_TOKEN");
    command
}

/// Starts `dlm serve` on a free port and returns it with its gRPC URL.
fn start_coordinator(database_url: &str, lease_seconds: &str) -> (Child, String) {
    let mut child = dlm()
        .args(["serve", "--database-url", database_url, "--grpc", "127.0.0.1:0"])
        .args(["--lease-seconds", lease_seconds])
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start dlm serve");

    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("cannot read dlm serve's output");
    let address = line
        .trim()
        .strip_prefix("gRPC listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from dlm serve: {line:?}"))
        .to_string();
    (child, format!("http://{address}"))
}

fn start_worker(coordinator_url: &str, worker_id: &str) -> Child {
    dlm()
        .args(["worker", "--coordinator", coordinator_url, "--worker-id", worker_id])
        .args(["--concurrency", "1", "--idle-poll", "0.2", "--max-backoff", "1"])
        .spawn()
        .expect("cannot start dlm worker")
}

async fn submit_tiny_sweep(coordinator_url: &str) -> proto::SubmitResponse {
    let mut sweeps = SweepsClient::connect(coordinator_url.to_string()).await.unwrap();
    sweeps
        .submit(proto::SubmitRequest {
            document: TINY_SWEEP.to_string(),
            format: proto::SweepFormat::Toml.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Polls until the sweep is no longer running and returns its last status.
async fn wait_for_sweep(coordinator_url: &str, sweep_id: i64) -> proto::SweepStatus {
    let mut sweeps = SweepsClient::connect(coordinator_url.to_string()).await.unwrap();
    let started = Instant::now();
    loop {
        let status = sweeps
            .get(proto::GetSweepRequest { sweep_id })
            .await
            .unwrap()
            .into_inner();
        if status.state() != proto::SweepState::Running {
            return status;
        }
        assert!(
            started.elapsed() < SWEEP_TIMEOUT,
            "sweep {sweep_id} still running after {SWEEP_TIMEOUT:?}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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

    let submitted = submit_tiny_sweep(&url).await;
    let run_ids = store.sweep_run_ids(submitted.sweep_id).await.unwrap();

    // Kill the worker with SIGKILL while it holds a lease, so it can neither
    // report nor release.
    let started = Instant::now();
    'wait: loop {
        for &run_id in &run_ids {
            let run = store.run(run_id).await.unwrap();
            if run.state == RunState::Leased && run.worker_id.as_deref() == Some("doomed") {
                break 'wait;
            }
        }
        assert!(started.elapsed() < SWEEP_TIMEOUT, "the worker never leased a run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let mut orphaned = Vec::new();
    for &run_id in &run_ids {
        let run = store.run(run_id).await.unwrap();
        if run.state == RunState::Leased && run.worker_id.as_deref() == Some("doomed") {
            orphaned.push(run_id);
        }
    }

    processes.0.push(start_worker(&url, "survivor"));
    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    assert_eq!(status.state(), proto::SweepState::Done);
    assert_eq!(status.counts.unwrap().done, 10);
    assert_every_run_done_once(&store, submitted.sweep_id).await;
    for run_id in orphaned {
        let run = store.run(run_id).await.unwrap();
        assert_eq!(run.failed_attempts, 1, "run {run_id} was requeued after its lease expired");
        assert_eq!(run.attempt, 2, "run {run_id} was leased again");
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
