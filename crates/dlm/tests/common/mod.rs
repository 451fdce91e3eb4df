//! Helpers the end-to-end tests share: starting `dlm serve` and
//! `dlm worker` processes over loopback, submitting sweeps and waiting for
//! runs to change state.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dlm_proto::v1 as proto;
use dlm_proto::v1::sweeps_client::SweepsClient;
use dlm_store::{RunState, Store};

pub mod faults;
pub mod postgres;
pub mod proxy;
pub mod synthetic;

pub const TINY_SWEEP: &str = include_str!("../../../../examples/sweep-tiny.toml");

/// Upper bound on a sweep's wall time, so a broken build fails instead of
/// hanging; the tiny sweep normally takes a few seconds.
pub const SWEEP_TIMEOUT: Duration = Duration::from_secs(600);

/// Child processes killed when the test ends, however it ends.
pub struct Processes(pub Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn dlm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dlm"));
    command
        .env("RUST_LOG", "warn")
        .env_remove("DLM_WORKER_TOKEN")
        // `dlm serve` also serves HTTP, by default on port 8080; a free port
        // lets coordinators of parallel tests coexist.
        .env("DLM_HTTP_ADDR", "127.0.0.1:0");
    command
}

/// Starts `dlm serve` on a free port and returns it with its gRPC URL.
pub fn start_coordinator(database_url: &str, lease_seconds: &str) -> (Child, String) {
    let mut command = serve_command(database_url, "127.0.0.1:0");
    command.args(["--lease-seconds", lease_seconds]);
    spawn_coordinator(command)
}

/// Returns a `dlm serve` command with gRPC on `grpc_address`, which callers
/// may extend before spawning.
pub fn serve_command(database_url: &str, grpc_address: &str) -> Command {
    let mut command = dlm();
    command.args([
        "serve",
        "--database-url",
        database_url,
        "--grpc",
        grpc_address,
    ]);
    command
}

/// Returns a free loopback address, its port closed again so that a
/// coordinator can take it.
pub fn free_loopback_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Spawns a prepared `dlm serve` command and reads the address it prints.
pub fn spawn_coordinator(command: Command) -> (Child, String) {
    let served = spawn_served(command);
    (served.child, served.grpc_url)
}

/// A running `dlm serve` and the URLs of its gRPC and HTTP servers.
pub struct Served {
    pub child: Child,
    pub grpc_url: String,
    pub http_url: String,
}

/// Spawns a prepared `dlm serve` command and reads the two addresses it
/// prints.
pub fn spawn_served(mut command: Command) -> Served {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start dlm serve");

    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout);
    let mut read_address = |prefix: &str| {
        let mut line = String::new();
        lines
            .read_line(&mut line)
            .expect("cannot read dlm serve's output");
        let address = line
            .trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?} from dlm serve, got {line:?}"))
            .to_string();
        format!("http://{address}")
    };
    let grpc_url = read_address("gRPC listening on ");
    let http_url = read_address("HTTP listening on ");
    Served {
        child,
        grpc_url,
        http_url,
    }
}

/// Returns a `dlm worker` command for one simulation at a time, which
/// callers may extend before spawning.
pub fn worker_command(coordinator_url: &str, worker_id: &str) -> Command {
    let mut command = dlm();
    command
        .args([
            "worker",
            "--coordinator",
            coordinator_url,
            "--worker-id",
            worker_id,
        ])
        .args([
            "--concurrency",
            "1",
            "--idle-poll",
            "0.2",
            "--max-backoff",
            "1",
        ]);
    command
}

pub fn start_worker(coordinator_url: &str, worker_id: &str) -> Child {
    worker_command(coordinator_url, worker_id)
        .spawn()
        .expect("cannot start dlm worker")
}

pub async fn submit_sweep(coordinator_url: &str, document: &str) -> proto::SubmitResponse {
    let mut sweeps = SweepsClient::connect(coordinator_url.to_string())
        .await
        .unwrap();
    sweeps
        .submit(proto::SubmitRequest {
            document: document.to_string(),
            format: proto::SweepFormat::Toml.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Polls until the sweep is no longer running and returns its last status.
pub async fn wait_for_sweep(coordinator_url: &str, sweep_id: i64) -> proto::SweepStatus {
    let mut sweeps = SweepsClient::connect(coordinator_url.to_string())
        .await
        .unwrap();
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

/// Polls until one of `run_ids` is leased by `worker_id` and returns it.
pub async fn wait_for_lease(store: &Store, run_ids: &[i64], worker_id: &str) -> i64 {
    let started = Instant::now();
    loop {
        for &run_id in run_ids {
            let run = store.run(run_id).await.unwrap();
            if run.state == RunState::Leased && run.worker_id.as_deref() == Some(worker_id) {
                return run_id;
            }
        }
        assert!(
            started.elapsed() < SWEEP_TIMEOUT,
            "worker {worker_id} never leased a run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends SIGTERM to a child process.
pub fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("cannot run kill");
    assert!(status.success(), "kill -TERM {} failed", child.id());
}

/// Waits for a child to exit, failing the test if it is still running after
/// `bound`, which only guards against a hang.
pub async fn wait_for_exit(child: &mut Child, bound: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("cannot wait for the child") {
            return status;
        }
        assert!(
            started.elapsed() < bound,
            "process {} still running after {bound:?}",
            child.id()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
