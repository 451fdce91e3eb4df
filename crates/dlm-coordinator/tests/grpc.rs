//! The coordinator's gRPC services over loopback, against a fresh PostgreSQL
//! database per test. The test itself plays the worker, so no simulation
//! runs here.

use std::net::SocketAddr;
use std::time::Duration;

use dlm_coordinator::{Coordinator, CoordinatorConfig, Token};
use dlm_proto::v1 as proto;
use dlm_proto::v1::sweeps_client::SweepsClient;
use dlm_proto::v1::workers_client::WorkersClient;
use dlm_store::Store;
use dlm_store::testing::TestDatabase;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// A small valid base configuration: two split-digits tasks of 20 steps.
const SMALL_BASE: &str = r#"
[base.model]
hidden = [16]

[base.tasks]
num_tasks = 2
steps_per_task = 20
"#;

fn sweep_toml(name: &str, sections: &str) -> String {
    format!("name = \"{name}\"\n{sections}\n{SMALL_BASE}")
}

/// A coordinator serving on a free loopback port until dropped.
struct TestCoordinator {
    address: SocketAddr,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _database: TestDatabase,
}

impl TestCoordinator {
    async fn start(config: CoordinatorConfig) -> TestCoordinator {
        let database = TestDatabase::postgres().await;
        let store = database.store().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let coordinator = Coordinator::new(store.clone(), config);
        let server = tokio::spawn(async move {
            coordinator
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestCoordinator {
            address,
            store,
            stop: Some(stop),
            server: Some(server),
            _database: database,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    async fn sweeps(&self) -> SweepsClient<Channel> {
        SweepsClient::connect(self.url()).await.unwrap()
    }

    async fn workers(&self) -> WorkersClient<Channel> {
        WorkersClient::connect(self.url()).await.unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap();
        self.store.close().await;
    }
}

fn submit_request(document: String) -> proto::SubmitRequest {
    proto::SubmitRequest {
        document,
        format: proto::SweepFormat::Toml.into(),
    }
}

fn lease_request(max_runs: u32) -> proto::LeaseRequest {
    proto::LeaseRequest {
        worker_id: "test-worker".to_string(),
        max_runs,
        model_version: dlm_sim::MODEL_VERSION.to_string(),
    }
}

fn reference(run: &proto::LeasedRun) -> proto::LeaseRef {
    proto::LeaseRef {
        run_id: run.run_id,
        attempt: run.attempt,
    }
}

/// Builds a result as a worker would send it, with arbitrary values.
fn some_result() -> proto::RunResult {
    proto::RunResult {
        metrics: vec![
            proto::Metric {
                name: "F".to_string(),
                value: Some(0.25),
            },
            proto::Metric {
                name: "sigma_flux_mean".to_string(),
                value: None,
            },
        ],
        diverged: false,
        diverged_step: None,
        accuracy_json: "[[0.5,0.5],[1.0,0.5],[0.75,1.0]]".to_string(),
        series_json: "{}".to_string(),
        duration_seconds: 0.1,
    }
}

async fn complete_all(workers: &mut WorkersClient<Channel>) -> usize {
    let mut completed = 0;
    loop {
        let leased = workers.lease(lease_request(50)).await.unwrap().into_inner().runs;
        if leased.is_empty() {
            return completed;
        }
        for run in &leased {
            let response = workers
                .complete(proto::CompleteRequest {
                    worker_id: "test-worker".to_string(),
                    lease: Some(reference(run)),
                    result: Some(some_result()),
                })
                .await
                .unwrap()
                .into_inner();
            assert!(response.stored);
            completed += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_point_rejects_whole_sweep() {
    let coordinator = TestCoordinator::start(CoordinatorConfig::default()).await;
    let mut sweeps = coordinator.sweeps().await;

    // 1,000 grid points; gamma = 12 makes gamma * dt = 1.2 at the default
    // dt = 0.1, which the engine rejects.
    let mut gammas: Vec<String> = (0..1000).map(|index| format!("{}", index as f64 * 0.0009)).collect();
    gammas[700] = "12".to_string();
    let document = sweep_toml(
        "invalid",
        &format!("grid.\"dynamics.gamma\" = [{}]", gammas.join(", ")),
    );

    let status = sweeps.submit(submit_request(document)).await.unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("grid point 700"), "{}", status.message());
    assert!(status.message().contains("dynamics.gamma"), "{}", status.message());
    let listed = sweeps
        .list(proto::ListSweepsRequest { limit: 0 })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.sweeps.is_empty(), "nothing stored");
    let mut workers = coordinator.workers().await;
    let leased = workers.lease(lease_request(10)).await.unwrap().into_inner();
    assert!(leased.runs.is_empty(), "no run queued");
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_over_limit_reports_count() {
    let mut config = CoordinatorConfig::default();
    config.max_runs_per_sweep = 50;
    let coordinator = TestCoordinator::start(config).await;
    let mut sweeps = coordinator.sweeps().await;

    let temperatures: Vec<String> = (1..=25).map(|index| format!("{}", index as f64 * 0.001)).collect();
    // 20 temperatures x 3 seeds = 60 runs.
    let document = sweep_toml(
        "too big",
        &format!(
            "seeds = 3\ngrid.\"dynamics.temperature\" = [{}]",
            temperatures[..20].join(", ")
        ),
    );

    let status = sweeps.submit(submit_request(document)).await.unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("60 runs"), "{}", status.message());
    assert!(status.message().contains("limit of 50"), "{}", status.message());
    let listed = sweeps.list(proto::ListSweepsRequest { limit: 0 }).await.unwrap().into_inner();
    assert!(listed.sweeps.is_empty(), "a rejected sweep was stored");

    // 25 temperatures x 2 seeds = 50 runs: exactly the limit.
    let document = sweep_toml(
        "at the limit",
        &format!(
            "seeds = 2\ngrid.\"dynamics.temperature\" = [{}]",
            temperatures[..25].join(", ")
        ),
    );
    let accepted = sweeps.submit(submit_request(document)).await.unwrap().into_inner();
    assert_eq!(accepted.run_count, 50);
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_sweeps_reuse_results() {
    let coordinator = TestCoordinator::start(CoordinatorConfig::default()).await;
    let mut sweeps = coordinator.sweeps().await;
    let mut workers = coordinator.workers().await;

    let first = sweeps
        .submit(submit_request(sweep_toml(
            "first",
            "seeds = 2\ngrid.\"dynamics.temperature\" = [0.001, 0.002]",
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.run_count, 4);
    assert_eq!(first.reused_count, 0);
    assert_eq!(complete_all(&mut workers).await, 4);

    // Shares temperature 0.002 (two seeds) with the first sweep.
    let second = sweeps
        .submit(submit_request(sweep_toml(
            "second",
            "seeds = 2\ngrid.\"dynamics.temperature\" = [0.002, 0.003]",
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.run_count, 4);
    assert_eq!(second.reused_count, 2);
    assert_eq!(complete_all(&mut workers).await, 2, "only the new runs are queued");

    let status = sweeps
        .get(proto::GetSweepRequest {
            sweep_id: second.sweep_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.state(), proto::SweepState::Done);
    assert_eq!(status.counts.unwrap().done, 4);
    assert_eq!(status.reused_count, 2);
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_aborts_held_runs() {
    let coordinator = TestCoordinator::start(CoordinatorConfig::default()).await;
    let mut sweeps = coordinator.sweeps().await;
    let mut workers = coordinator.workers().await;
    let submitted = sweeps
        .submit(submit_request(sweep_toml(
            "cancelled",
            "seeds = 3\ngrid.\"dynamics.temperature\" = [0.001, 0.002]",
        )))
        .await
        .unwrap()
        .into_inner();
    let held = workers.lease(lease_request(2)).await.unwrap().into_inner().runs;
    assert_eq!(held.len(), 2);

    let status = sweeps
        .cancel(proto::CancelSweepRequest {
            sweep_id: submitted.sweep_id,
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(status.state(), proto::SweepState::Cancelled);
    assert_eq!(status.counts.unwrap().cancelled, 6);
    let heartbeat = workers
        .heartbeat(proto::HeartbeatRequest {
            worker_id: "test-worker".to_string(),
            leases: held.iter().map(reference).collect(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(heartbeat.abort.len(), 2, "both held runs are aborted");
    assert!(heartbeat.extended.is_empty());
    let leased = workers.lease(lease_request(10)).await.unwrap().into_inner();
    assert!(leased.runs.is_empty(), "no new leases after cancel");
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_until_done() {
    let coordinator = TestCoordinator::start(CoordinatorConfig::default()).await;
    let mut sweeps = coordinator.sweeps().await;
    let mut workers = coordinator.workers().await;
    let submitted = sweeps
        .submit(submit_request(sweep_toml("watched", "seeds = 3")))
        .await
        .unwrap()
        .into_inner();

    let mut stream = sweeps
        .watch(proto::WatchSweepRequest {
            sweep_id: submitted.sweep_id,
            poll_seconds: 0.05,
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.state(), proto::SweepState::Running);
    assert_eq!(first.counts.unwrap().queued, 3);

    assert_eq!(complete_all(&mut workers).await, 3);
    let mut last = first;
    while let Some(status) = stream.message().await.unwrap() {
        last = status;
    }
    assert_eq!(last.state(), proto::SweepState::Done);
    assert_eq!(last.progress, 1.0);
    assert_eq!(last.counts.unwrap().done, 3);

    let missing = sweeps
        .watch(proto::WatchSweepRequest {
            sweep_id: submitted.sweep_id + 100,
            poll_seconds: 0.0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_when_set() {
    let mut config = CoordinatorConfig::default();
    config.worker_token = Token::new("worker-secret");
    config.api_token = Token::new("api-secret");
    let coordinator = TestCoordinator::start(config).await;
    let mut workers = coordinator.workers().await;
    let mut sweeps = coordinator.sweeps().await;

    let with_token = |token: Option<&str>, request: proto::LeaseRequest| {
        let mut request = Request::new(request);
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        request
    };

    // (token sent, expected code) for the Workers service.
    let cases = [
        (None, Some(Code::Unauthenticated)),
        (Some("wrong"), Some(Code::Unauthenticated)),
        (Some("api-secret"), Some(Code::Unauthenticated)),
        (Some("worker-secret"), None),
    ];
    for (token, expected) in cases {
        let outcome = workers.lease(with_token(token, lease_request(1))).await;
        assert_eq!(outcome.err().map(|status| status.code()), expected, "token {token:?}");
    }

    let document = sweep_toml("authorised", "seeds = 1");
    let anonymous = sweeps.submit(submit_request(document.clone())).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let mut authorised = Request::new(submit_request(document));
    authorised
        .metadata_mut()
        .insert("authorization", "Bearer api-secret".parse().unwrap());
    let submitted = sweeps.submit(authorised).await.unwrap().into_inner();
    assert_eq!(submitted.run_count, 1);
    coordinator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_duplicate_completion_is_counted() {
    let mut config = CoordinatorConfig::with_lease_duration(Duration::from_millis(200));
    config.reap_interval = Duration::from_millis(50);
    let coordinator = TestCoordinator::start(config).await;
    let mut sweeps = coordinator.sweeps().await;
    let mut workers = coordinator.workers().await;
    sweeps
        .submit(submit_request(sweep_toml("late", "seeds = 1")))
        .await
        .unwrap();

    let first = workers.lease(lease_request(1)).await.unwrap().into_inner().runs;
    // The first lease expires without a heartbeat and the reaper requeues it.
    let second = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let runs = workers.lease(lease_request(1)).await.unwrap().into_inner().runs;
        if !runs.is_empty() {
            break runs;
        }
    };
    assert_eq!(second[0].run_id, first[0].run_id);
    assert_eq!(second[0].attempt, 2);

    for (run, expected_stored) in [(&first[0], true), (&second[0], false)] {
        let response = workers
            .complete(proto::CompleteRequest {
                worker_id: "test-worker".to_string(),
                lease: Some(reference(run)),
                result: Some(some_result()),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.stored, expected_stored, "attempt {}", run.attempt);
    }
    let record = coordinator.store.run(first[0].run_id).await.unwrap();
    assert_eq!(record.duplicate_completions, 1);
    assert_eq!(record.failed_attempts, 1);
    let stored = coordinator.store.result(first[0].run_id).await.unwrap().unwrap();
    assert_eq!(stored.attempt, 1);
    coordinator.stop().await;
}
