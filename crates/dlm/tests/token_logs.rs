//! Tokens stay out of the logs. `dlm serve` and two `dlm worker` processes,
//! one with a wrong worker token and one with the right one, log at debug
//! level for the dlm crates while a sweep runs. Neither token string may
//! appear in any of their output.

mod common;

use std::process::Child;
use std::time::Duration;

use dlm_proto::v1 as proto;
use dlm_store::testing::TestDatabase;

use common::faults::cheap_sweep;
use common::{
    Processes, serve_command, spawn_coordinator, submit_sweep, terminate, wait_for_exit,
    wait_for_sweep, worker_command,
};

const RIGHT_TOKEN: &str = "right-worker-token-7f3a";
const WRONG_TOKEN: &str = "wrong-worker-token-c21e";
const LOG_FILTER: &str = "info,dlm=debug,dlm_coordinator=debug,dlm_worker=debug,dlm_store=debug";

fn start_logged_worker(
    url: &str,
    worker_id: &str,
    token: &str,
    log: &tempfile::NamedTempFile,
) -> Child {
    worker_command(url, worker_id)
        .env("RUST_LOG", LOG_FILTER)
        .env("DLM_WORKER_TOKEN", token)
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("cannot start dlm worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_appear_in_logs() {
    let database = TestDatabase::postgres().await;
    let serve_log = tempfile::NamedTempFile::new().unwrap();
    let mut command = serve_command(database.url(), "127.0.0.1:0");
    command
        .env("RUST_LOG", LOG_FILTER)
        .env("DLM_WORKER_TOKEN", RIGHT_TOKEN)
        .stderr(serve_log.reopen().unwrap());
    let (coordinator, url) = spawn_coordinator(command);
    let mut processes = Processes(vec![coordinator]);

    // The worker with the wrong token is rejected and exits with an error.
    let wrong_log = tempfile::NamedTempFile::new().unwrap();
    let mut wrong = start_logged_worker(&url, "wrong-token", WRONG_TOKEN, &wrong_log);
    let exit = wait_for_exit(&mut wrong, common::SWEEP_TIMEOUT).await;
    assert!(
        !exit.success(),
        "a worker with a wrong token exited with {exit}"
    );

    let right_log = tempfile::NamedTempFile::new().unwrap();
    processes.0.push(start_logged_worker(
        &url,
        "right-token",
        RIGHT_TOKEN,
        &right_log,
    ));
    let submitted = submit_sweep(&url, &cheap_sweep("token logs", 5)).await;
    let status = wait_for_sweep(&url, submitted.sweep_id).await;
    assert_eq!(status.state(), proto::SweepState::Done);
    assert_eq!(status.counts.unwrap().done, 5);

    // SIGTERM stops both processes gracefully, which flushes their logs.
    for child in processes.0.iter_mut().rev() {
        terminate(child);
        let exit = wait_for_exit(child, Duration::from_secs(60)).await;
        assert!(
            exit.success(),
            "process {} exited with {exit} after SIGTERM",
            child.id()
        );
    }

    let logs = [
        (
            "dlm serve",
            std::fs::read_to_string(serve_log.path()).unwrap(),
        ),
        (
            "wrong-token worker",
            std::fs::read_to_string(wrong_log.path()).unwrap(),
        ),
        (
            "right-token worker",
            std::fs::read_to_string(right_log.path()).unwrap(),
        ),
    ];
    for (process, log) in &logs {
        assert!(!log.is_empty(), "{process} logged nothing");
        assert!(
            !log.contains(RIGHT_TOKEN),
            "{process} logged the right token:\n{log}"
        );
        assert!(
            !log.contains(WRONG_TOKEN),
            "{process} logged the wrong token:\n{log}"
        );
    }
    assert!(logs[0].1.contains("wrong bearer token"), "{}", logs[0].1);
    assert!(logs[2].1.contains("run completed"), "{}", logs[2].1);
}
