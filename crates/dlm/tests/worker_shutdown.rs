//! How a `dlm worker` process lets go of its runs, with real `dlm serve` and
//! `dlm worker` processes over loopback gRPC and a fresh PostgreSQL
//! database: SIGTERM drains (finish what ends within the drain timeout,
//! release the rest), and a cancelled sweep stops the simulation it runs.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use dlm_store::testing::TestDatabase;
use dlm_store::{RunState, Store};
use tempfile::NamedTempFile;

use common::{
    Processes, TINY_SWEEP, start_coordinator, submit_sweep, terminate, wait_for_exit,
    wait_for_lease, wait_for_sweep, worker_command,
};

/// Steps per task of a run that lasts far longer than any test: two tasks
/// of this many steps on a wide network take hours.
const ENDLESS_STEPS: u64 = 5_000_000;

/// Steps per task of a run that takes a few seconds: long enough to be
/// running when the test sends SIGTERM, short enough to finish draining.
const SECONDS_LONG_STEPS: u64 = 2_000;

/// Generous limit on how long a worker may take to exit after SIGTERM
/// beyond its drain timeout; it only turns a hang into a failure.
const EXIT_MARGIN: Duration = Duration::from_secs(120);

/// Spawns a worker command that logs at info level to a temporary file,
/// and returns the process with the file.
fn spawn_logged(mut command: Command) -> (Child, NamedTempFile) {
    let log = NamedTempFile::new().unwrap();
    let worker = command
        .env("RUST_LOG", "info")
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("cannot start dlm worker");
    (worker, log)
}

/// Writes a sweep of `seeds` runs of two split-digits tasks of
/// `steps_per_task` steps each.
fn sweep_document(name: &str, seeds: u32, steps_per_task: u64) -> String {
    format!(
        "name = \"{name}\"\nseeds = {seeds}\n\n\
         [base.model]\nhidden = [256, 256]\n\n\
         [base.tasks]\nnum_tasks = 2\nsteps_per_task = {steps_per_task}\n"
    )
}

async fn run_ids(store: &Store, sweep_id: i64) -> Vec<i64> {
    store.sweep_run_ids(sweep_id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_releases_run_longer_than_drain() {
    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    let (coordinator, url) = start_coordinator(database.url(), "10");
    let mut processes = Processes(vec![coordinator]);
    let mut command = worker_command(&url, "drainer");
    command.args(["--drain-timeout", "1"]);
    let (worker, log) = spawn_logged(command);
    processes.0.push(worker);

    let submitted = submit_sweep(&url, &sweep_document("endless", 1, ENDLESS_STEPS)).await;
    let leased_run = wait_for_lease(
        &store,
        &run_ids(&store, submitted.sweep_id).await,
        "drainer",
    )
    .await;
    let worker = &mut processes.0[1];
    terminate(worker);
    let exit = wait_for_exit(worker, Duration::from_secs(1) + EXIT_MARGIN).await;

    assert!(
        exit.success(),
        "dlm worker exited with {exit} after SIGTERM"
    );
    let run = store.run(leased_run).await.unwrap();
    assert_eq!(
        run.state,
        RunState::Queued,
        "the release returned the run to the queue"
    );
    assert_eq!(run.worker_id, None);
    assert_eq!(run.attempt, 1, "the lease was granted once");
    assert_eq!(run.failed_attempts, 0, "a release is not a failed attempt");
    assert_eq!(run.last_error, None);
    assert!(store.result(leased_run).await.unwrap().is_none());
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(logged.contains("leases released"), "{logged}");
    assert!(
        logged.contains("run stopped early"),
        "the simulation was stopped, not left running: {logged}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_short_run_finish() {
    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    let (coordinator, url) = start_coordinator(database.url(), "10");
    let mut processes = Processes(vec![coordinator]);
    let drain_timeout = Duration::from_secs(300);
    let mut command = worker_command(&url, "finisher");
    command.args(["--drain-timeout", &drain_timeout.as_secs().to_string()]);
    let (worker, log) = spawn_logged(command);
    processes.0.push(worker);

    let submitted = submit_sweep(&url, &sweep_document("short", 3, SECONDS_LONG_STEPS)).await;
    let ids = run_ids(&store, submitted.sweep_id).await;
    let leased_run = wait_for_lease(&store, &ids, "finisher").await;
    let worker = &mut processes.0[1];
    terminate(worker);
    let exit = wait_for_exit(worker, drain_timeout + EXIT_MARGIN).await;

    assert!(
        exit.success(),
        "dlm worker exited with {exit} after SIGTERM"
    );
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("draining: waiting for running simulations"),
        "the run was still running at SIGTERM: {logged}"
    );
    let run = store.run(leased_run).await.unwrap();
    assert_eq!(
        run.state,
        RunState::Done,
        "the held run finished while draining"
    );
    let result = store
        .result(leased_run)
        .await
        .unwrap()
        .expect("a stored result");
    assert_eq!(result.worker_id, "finisher");
    let mut never_leased = 0;
    for &run_id in &ids {
        let run = store.run(run_id).await.unwrap();
        assert_ne!(run.state, RunState::Leased, "run {run_id} left leased");
        if run.attempt == 0 {
            assert_eq!(run.state, RunState::Queued, "run {run_id}");
            never_leased += 1;
        }
    }
    assert!(
        never_leased >= 1,
        "the worker stopped leasing after SIGTERM"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_frees_worker_for_next_sweep() {
    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    // Short leases make the worker heartbeat, and so learn of the
    // cancellation, within about a second.
    let (coordinator, url) = start_coordinator(database.url(), "2");
    let mut processes = Processes(vec![coordinator]);
    let (worker, log) = spawn_logged(worker_command(&url, "single"));
    processes.0.push(worker);

    let endless = submit_sweep(&url, &sweep_document("endless", 1, ENDLESS_STEPS)).await;
    let leased_run =
        wait_for_lease(&store, &run_ids(&store, endless.sweep_id).await, "single").await;
    store.cancel_sweep(endless.sweep_id).await.unwrap();

    // The worker runs one simulation at a time, so it can take the next
    // sweep only once the cancelled simulation has stopped.
    let next = submit_sweep(&url, TINY_SWEEP).await;
    let status = wait_for_sweep(&url, next.sweep_id).await;

    assert_eq!(status.counts.unwrap().done, next.run_count);
    for run_id in run_ids(&store, next.sweep_id).await {
        let result = store
            .result(run_id)
            .await
            .unwrap()
            .expect("a stored result");
        assert_eq!(result.worker_id, "single");
    }
    let cancelled = store.run(leased_run).await.unwrap();
    assert_eq!(cancelled.state, RunState::Cancelled);
    assert!(
        store.result(leased_run).await.unwrap().is_none(),
        "no result for the stopped run"
    );
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("lease aborted by the coordinator"),
        "{logged}"
    );
    assert!(logged.contains("run stopped early"), "{logged}");
    store.close().await;
}
