//! The fault harness: real `dlm serve` and `dlm worker` processes over
//! loopback and a fresh PostgreSQL database, with faults injected while a
//! sweep runs. Each scenario checks that every run ends exactly once.
//!
//! `DLM_FAULTS_SCALE=long` runs the same scenarios larger, and
//! `DLM_FAULTS_REPORT=FILE` appends each scenario's figures to FILE; see
//! docs/reliability.md.

mod common;

use std::time::{Duration, Instant};

use dlm_proto::v1 as proto;
use dlm_proto::v1::sweeps_client::SweepsClient;
use dlm_proto::v1::workers_client::WorkersClient;
use dlm_store::testing::TestDatabase;

use common::faults::{
    Figures, Scale, audit_sweep, cheap_sweep, connect, done_count, leases_of, record, slow_sweep,
    wait_for_done, wait_for_lease_of,
};
use common::postgres::PostgresCluster;
use common::proxy::Proxy;
use common::synthetic::{SyntheticWorker, run_synthetic_worker};
use common::{
    Processes, free_loopback_address, serve_command, spawn_coordinator, spawn_served,
    start_coordinator, start_worker, submit_sweep, wait_for_sweep,
};

/// Sends SIGKILL, so the process can neither report nor release its leases.
fn kill(child: &mut std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_churn_loses_no_run() {
    let scale = Scale::from_env();
    let runs = scale.pick(40, 500);
    let kill_every = Duration::from_secs_f64(scale.pick(1.5, 2.0));
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    // Many attempts, so the run orphaned first cannot fail when later kills
    // hit it again.
    let mut command = serve_command(database.url(), "127.0.0.1:0");
    command.args(["--lease-seconds", "2", "--max-attempts", "20"]);
    let (coordinator, url) = spawn_coordinator(command);
    let mut processes = Processes(vec![coordinator]);

    // A worker killed right after its lease, before its first heartbeat,
    // which comes about a third of a lease later. Its run takes about a
    // second, so it cannot finish before the kill either.
    let orphan_sweep = submit_sweep(&url, &slow_sweep("orphan", 1, 20_000)).await;
    let mut early = start_worker(&url, "killed-after-lease");
    let (orphan, expires_at) = wait_for_lease_of(&mut db, "killed-after-lease").await;
    kill(&mut early);
    let killed_at = Instant::now();
    let after_kill = leases_of(&mut db, "killed-after-lease").await;
    assert_eq!(
        after_kill,
        vec![(orphan, expires_at)],
        "run {orphan} was heartbeaten or finished"
    );
    // The long form's runs take a fraction of a second each, so the sweep
    // lasts long enough for many kills.
    let sweep = match scale {
        Scale::Short => cheap_sweep("worker churn", runs),
        Scale::Long => slow_sweep("worker churn", runs, 1000),
    };
    let submitted = submit_sweep(&url, &sweep).await;

    // Four workers, one of them killed and replaced every `kill_every`.
    let mut workers: Vec<_> = (0..4)
        .map(|index| start_worker(&url, &format!("churn-{index}")))
        .collect();
    let mut kills = 0;
    let mut orphan_recovery = None;
    loop {
        tokio::time::sleep(kill_every).await;
        let orphan_run = sqlx::query_scalar::<_, String>("SELECT state FROM runs WHERE id = $1")
            .bind(orphan)
            .fetch_one(&mut db)
            .await
            .unwrap();
        if orphan_run == "done" && orphan_recovery.is_none() {
            orphan_recovery = Some(killed_at.elapsed());
        }
        if done_count(&mut db, submitted.sweep_id).await == runs as i64 && orphan_recovery.is_some()
        {
            break;
        }
        let slot = kills % workers.len();
        kill(&mut workers[slot]);
        kills += 1;
        workers[slot] = start_worker(&url, &format!("churn-{}", kills + 3));
    }
    processes.0.extend(workers);
    wait_for_sweep(&url, submitted.sweep_id).await;
    wait_for_sweep(&url, orphan_sweep.sweep_id).await;

    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "worker churn",
        scale,
        faults: format!("{} SIGKILLs of 4 workers, 1 kill after lease", kills + 1),
        audit,
        recovery: orphan_recovery.expect("the orphaned run was never done"),
    });
    assert_eq!(audit.expected, runs as i64);
    assert_eq!(audit.stored, audit.expected, "{audit:?}");
    assert_eq!(audit.failed, 0, "{audit:?}");
    assert_eq!(audit.done_without_result, 0, "{audit:?}");
    assert!(kills >= 1, "the sweep ended before any worker was killed");
    let attempt: i32 = sqlx::query_scalar("SELECT attempt FROM runs WHERE id = $1")
        .bind(orphan)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(
        attempt >= 2,
        "run {orphan} was not leased again after its worker died"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_crash_loses_no_run() {
    let scale = Scale::from_env();
    let runs = scale.pick(30, 300);
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    let address = free_loopback_address();
    let start_on_port = || {
        let mut command = serve_command(database.url(), &address);
        command.args(["--lease-seconds", "5"]);
        spawn_coordinator(command)
    };
    let (coordinator, url) = start_on_port();
    let mut processes = Processes(vec![coordinator]);
    processes.0.push(start_worker(&url, "worker-a"));
    processes.0.push(start_worker(&url, "worker-b"));
    let submitted = submit_sweep(&url, &cheap_sweep("coordinator crash", runs)).await;

    let crashes = scale.pick(1, 3);
    let mut recovery = Duration::ZERO;
    for crash in 1..=crashes {
        wait_for_done(
            &mut db,
            submitted.sweep_id,
            runs as i64 * crash / (crashes + 1),
        )
        .await;
        kill(&mut processes.0[0]);
        let done_at_crash = done_count(&mut db, submitted.sweep_id).await;
        let (coordinator, _) = start_on_port();
        let restarted = Instant::now();
        processes.0[0] = coordinator;
        wait_for_done(
            &mut db,
            submitted.sweep_id,
            (done_at_crash + 1).min(runs as i64),
        )
        .await;
        recovery = recovery.max(restarted.elapsed());
    }
    let status = wait_for_sweep(&url, submitted.sweep_id).await;
    assert_eq!(status.counts.unwrap().done, runs);

    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "coordinator crash",
        scale,
        faults: format!("{crashes} SIGKILLs of dlm serve, restarted on the same port"),
        audit,
        recovery,
    });
    assert_eq!(audit.expected, runs as i64);
    assert_eq!(audit.stored, audit.expected, "{audit:?}");
    assert_eq!(audit.failed, 0, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_longer_than_lease_is_leased_once() {
    let scale = Scale::from_env();
    let runs = scale.pick(1, 4);
    let lease_seconds = 2.0;
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    let (coordinator, url) = start_coordinator(database.url(), "2");
    let mut processes = Processes(vec![coordinator]);
    // The check below that the lease was extended past two lease durations
    // fails, rather than passes vacuously, on a machine fast enough to
    // finish a slow run within one lease.
    let submitted = submit_sweep(&url, &slow_sweep("long runs", runs, 200_000)).await;
    processes.0.push(start_worker(&url, "long-runner"));
    let (run, first_expiry) = wait_for_lease_of(&mut db, "long-runner").await;
    // A second worker that would take the run if its lease ever expired.
    processes.0.push(start_worker(&url, "bystander"));

    let mut last_expiry = first_expiry;
    while done_count(&mut db, submitted.sweep_id).await < runs as i64 {
        for (leased, expiry) in leases_of(&mut db, "long-runner").await {
            if leased == run {
                last_expiry = last_expiry.max(expiry);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_sweep(&url, submitted.sweep_id).await;

    assert!(
        last_expiry >= first_expiry + 2.0 * lease_seconds,
        "run {run} did not outlive two leases: first expiry {first_expiry}, last {last_expiry}"
    );
    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "run longer than its lease",
        scale,
        faults: format!(
            "runs of {:.0}+ leases of 2 s",
            (last_expiry - first_expiry) / lease_seconds + 1.0
        ),
        audit,
        recovery: Duration::ZERO,
    });
    assert_eq!(audit.stored, runs as i64, "{audit:?}");
    assert_eq!(audit.retried, 0, "a run was leased twice: {audit:?}");
    assert_eq!(audit.duplicates, 0, "{audit:?}");
}

/// Entry point of the synthetic worker processes that the poison-run
/// scenario starts by running this test binary again with this test's name.
/// Outside such a child process it has nothing to do and returns.
#[test]
#[ignore = "started as a child process by poison_run_fails_without_blocking"]
fn synthetic_worker_process() {
    let Ok(coordinator_url) = std::env::var("DLM_FAULTS_COORDINATOR") else {
        return;
    };
    let worker = SyntheticWorker {
        coordinator_url,
        worker_id: std::env::var("DLM_FAULTS_WORKER_ID").expect("DLM_FAULTS_WORKER_ID"),
        poison_run: std::env::var("DLM_FAULTS_POISON_RUN")
            .ok()
            .map(|id| id.parse().unwrap()),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The parent kills this process when its scenario ends.
    let (_keep_running, stop) = tokio::sync::watch::channel(false);
    runtime.block_on(run_synthetic_worker(worker, stop));
}

fn start_synthetic_worker(url: &str, worker_id: &str, poison_run: i64) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "synthetic_worker_process",
            "--exact",
            "--ignored",
            "--quiet",
        ])
        .env("DLM_FAULTS_COORDINATOR", url)
        .env("DLM_FAULTS_WORKER_ID", worker_id)
        .env("DLM_FAULTS_POISON_RUN", poison_run.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cannot start a synthetic worker process")
}

/// No honest run configuration makes `dlm worker` die, so the workers
/// here are synthetic worker processes that abort when they lease the
/// poison run and complete every other run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_run_fails_without_blocking() {
    let scale = Scale::from_env();
    let runs = scale.pick(20, 500);
    let max_attempts = 3;
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    let mut command = serve_command(database.url(), "127.0.0.1:0");
    command.args([
        "--lease-seconds",
        "1",
        "--max-attempts",
        &max_attempts.to_string(),
    ]);
    let (coordinator, url) = spawn_coordinator(command);
    let mut processes = Processes(vec![coordinator]);
    let submitted = submit_sweep(&url, &cheap_sweep("poison run", runs)).await;
    let run_ids: Vec<i64> =
        sqlx::query_scalar("SELECT run_id FROM sweep_runs WHERE sweep_id = $1 ORDER BY run_id")
            .bind(submitted.sweep_id)
            .fetch_all(&mut db)
            .await
            .unwrap();
    let poison = run_ids[run_ids.len() / 2];

    for index in 0..2 {
        processes.0.push(start_synthetic_worker(
            &url,
            &format!("synthetic-{index}"),
            poison,
        ));
    }
    let mut sweeps = SweepsClient::connect(url.clone()).await.unwrap();
    let mut deaths = 0;
    let mut first_death = None;
    let started = Instant::now();
    loop {
        let status = sweeps
            .get(proto::GetSweepRequest {
                sweep_id: submitted.sweep_id,
            })
            .await
            .unwrap()
            .into_inner();
        if status.state() != proto::SweepState::Running {
            break;
        }
        for slot in 1..processes.0.len() {
            if processes.0[slot].try_wait().unwrap().is_some() {
                deaths += 1;
                first_death.get_or_insert_with(Instant::now);
                processes.0[slot] =
                    start_synthetic_worker(&url, &format!("synthetic-{}", deaths + 1), poison);
            }
        }
        assert!(
            started.elapsed() < common::SWEEP_TIMEOUT,
            "the sweep never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "poison run",
        scale,
        faults: format!("1 run aborts its worker; {deaths} worker deaths"),
        audit,
        recovery: first_death.expect("no worker died").elapsed(),
    });
    let (state, failed_attempts): (String, i32) =
        sqlx::query_as("SELECT state, failed_attempts FROM runs WHERE id = $1")
            .bind(poison)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(state, "failed");
    assert_eq!(failed_attempts, max_attempts);
    assert_eq!(
        deaths, max_attempts,
        "every attempt of the poison run killed one worker"
    );
    assert_eq!(audit.failed, 1, "{audit:?}");
    assert_eq!(audit.stored, runs as i64 - 1, "{audit:?}");
    assert_eq!(audit.lost(), 0, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_workers_share_one_coordinator() {
    let scale = Scale::from_env();
    let runs = scale.pick(320, 3200);
    let workers = 64;
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    let (coordinator, url) = start_coordinator(database.url(), "30");
    let _processes = Processes(vec![coordinator]);
    let submitted = submit_sweep(&url, &cheap_sweep("many workers", runs)).await;

    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..workers)
        .map(|index| {
            let worker = SyntheticWorker {
                coordinator_url: url.clone(),
                worker_id: format!("synthetic-{index}"),
                poison_run: None,
            };
            tokio::spawn(run_synthetic_worker(worker, stop.clone()))
        })
        .collect();

    // While the workers run: the coordinator returns every status request,
    // and its connections to the test database never exceed its pool.
    let pool_size = i64::from(dlm_store::ConnectOptions::default().max_connections);
    let mut sweeps = SweepsClient::connect(url.clone()).await.unwrap();
    let mut max_connections = 0;
    let mut answered = 0;
    let started = Instant::now();
    loop {
        let connections: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        max_connections = max_connections.max(connections);
        let status = sweeps
            .get(proto::GetSweepRequest {
                sweep_id: submitted.sweep_id,
            })
            .await
            .expect("the coordinator failed a status request")
            .into_inner();
        answered += 1;
        if status.state() != proto::SweepState::Running {
            break;
        }
        assert!(
            started.elapsed() < common::SWEEP_TIMEOUT,
            "the sweep never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_sender.send(true).unwrap();
    let mut leases = Vec::new();
    for task in tasks {
        leases.extend(task.await.unwrap());
    }

    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "64 synthetic workers",
        scale,
        faults: format!(
            "none; peak {max_connections} of {pool_size} pool connections, {answered} status requests answered"
        ),
        audit,
        recovery: Duration::ZERO,
    });
    assert!(
        max_connections <= pool_size,
        "{max_connections} connections, pool of {pool_size}"
    );
    assert_eq!(audit.stored, runs as i64, "{audit:?}");
    leases.sort_by(|a, b| (a.run_id, a.attempt).cmp(&(b.run_id, b.attempt)));
    for pair in leases.windows(2) {
        if pair[0].run_id != pair[1].run_id {
            continue;
        }
        assert!(
            pair[1].received_at >= pair[0].expires_at,
            "run {} leased again while its lease was valid: {pair:?}",
            pair[0].run_id
        );
    }
    // Leases of 30 s outlive an instant completion, so each run is leased once.
    assert_eq!(audit.retried, 0, "{audit:?}");
    assert_eq!(leases.len() as i64, runs as i64);
}

/// Returns the socket address of a `http://HOST:PORT` URL.
fn socket_address(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

/// The cut-off worker is a gRPC client from the library rather than
/// `dlm worker`, because after the cut `dlm worker` may learn from a
/// heartbeat that its lease is gone and drop the result unsent. The
/// client sends its late result every time. A real `dlm worker` also runs
/// behind the proxy and must finish its share after the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_cut_worker_result_not_stored_twice() {
    let scale = Scale::from_env();
    let runs = scale.pick(100, 500);
    let lease_seconds = 2.0;
    let database = TestDatabase::postgres().await;
    let mut db = connect(database.url()).await;
    let (coordinator, url) = start_coordinator(database.url(), "2");
    let mut processes = Processes(vec![coordinator]);
    let proxy = Proxy::start(socket_address(&url)).await;
    let submitted = submit_sweep(&url, &cheap_sweep("network cut", runs)).await;

    let mut cut_off = WorkersClient::connect(proxy.url()).await.unwrap();
    let leased = cut_off
        .lease(proto::LeaseRequest {
            worker_id: "cut-off".to_string(),
            max_runs: 1,
            model_version: dlm_sim::MODEL_VERSION.to_string(),
        })
        .await
        .unwrap()
        .into_inner()
        .runs;
    let run = leased.first().expect("a leased run").clone();
    processes.0.push(start_worker(&proxy.url(), "behind-proxy"));
    wait_for_lease_of(&mut db, "behind-proxy").await;

    proxy.cut();
    let cut_at = Instant::now();
    let mut direct = start_worker(&url, "direct");
    // The cut lasts until another worker has done the run, which takes at
    // least one lease duration, plus one more lease. The direct worker stops
    // then, so the runs left need the worker behind the proxy.
    loop {
        let state: String = sqlx::query_scalar("SELECT state FROM runs WHERE id = $1")
            .bind(run.run_id)
            .fetch_one(&mut db)
            .await
            .unwrap();
        if state == "done" {
            break;
        }
        assert!(
            cut_at.elapsed() < common::SWEEP_TIMEOUT,
            "run {} was never re-leased",
            run.run_id
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovery = cut_at.elapsed();
    kill(&mut direct);
    let left = runs as i64 - done_count(&mut db, submitted.sweep_id).await;
    tokio::time::sleep(Duration::from_secs_f64(lease_seconds)).await;
    let cut_for = cut_at.elapsed();
    proxy.restore();

    // The late result of the first attempt, retried until the connection
    // through the proxy is back.
    let late = proto::CompleteRequest {
        worker_id: "cut-off".to_string(),
        lease: Some(proto::LeaseRef {
            run_id: run.run_id,
            attempt: run.attempt,
        }),
        result: Some(dlm_bench::sweep::synthetic_result()),
    };
    let started = Instant::now();
    let acknowledged = loop {
        match cut_off.complete(late.clone()).await {
            Ok(response) => break response.into_inner(),
            Err(status) => assert!(
                started.elapsed() < common::SWEEP_TIMEOUT,
                "late result never sent: {status}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    assert!(
        !acknowledged.stored,
        "the late result replaced the stored one"
    );
    let (attempt, duplicates, result_attempt, result_worker): (i32, i32, i32, String) =
        sqlx::query_as(
            "SELECT r.attempt, r.duplicate_completions, res.attempt, res.worker_id \
         FROM runs r JOIN results res ON res.run_id = r.id WHERE r.id = $1",
        )
        .bind(run.run_id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(attempt >= 2, "run {} was not re-leased", run.run_id);
    assert_eq!(duplicates, 1, "the late result was not counted");
    assert_eq!(result_attempt, attempt);
    assert_ne!(result_worker, "cut-off");
    assert_eq!(status.counts.unwrap().done, runs);
    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "network cut",
        scale,
        faults: format!(
            "proxy cut for {:.1} s (leases of 2 s), 1 late result",
            cut_for.as_secs_f64()
        ),
        audit,
        recovery,
    });
    assert_eq!(audit.stored, audit.expected, "{audit:?}");
    assert_eq!(audit.lost(), 0, "{audit:?}");
    let behind_proxy: i64 =
        sqlx::query_scalar("SELECT count(*) FROM results WHERE worker_id = 'behind-proxy'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    if left > 0 {
        assert!(
            behind_proxy >= 1,
            "{left} runs were left, none done behind the proxy"
        );
    }
}

/// Returns the number of the sweep's results stored since the PostgreSQL
/// server last started.
async fn results_since_server_start(database: &mut sqlx::PgConnection, sweep_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM results res JOIN sweep_runs s ON s.run_id = res.run_id \
         WHERE s.sweep_id = $1 AND res.completed_at >= pg_postmaster_start_time()",
    )
    .bind(sweep_id)
    .fetch_one(database)
    .await
    .unwrap()
}

/// Asserts that `/readyz` returns 503 with a problem body, as it must while
/// the database is down.
async fn check_not_ready(http: &reqwest::Client, http_url: &str) {
    let response = http
        .get(format!("{http_url}/readyz"))
        .send()
        .await
        .expect("/readyz did not answer while the database was down");
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: serde_json::Value = response
        .json()
        .await
        .expect("/readyz sent a body that is not JSON");
    assert_eq!(status, 503, "/readyz while the database was down: {body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["status"], 503, "{body}");
}

/// Polls `/readyz` until it returns 200.
async fn wait_until_ready(http: &reqwest::Client, http_url: &str) {
    let started = Instant::now();
    loop {
        let response = http.get(format!("{http_url}/readyz")).send().await;
        if response.is_ok_and(|response| response.status() == 200) {
            return;
        }
        assert!(
            started.elapsed() < common::SWEEP_TIMEOUT,
            "/readyz never answered 200 after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// PostgreSQL stops mid-sweep for three lease durations and starts again.
/// The shared server must stay up for the other tests, so this scenario
/// runs its own cluster. Nothing is restarted but PostgreSQL: the same
/// `dlm serve` and `dlm worker` processes must carry the sweep to its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_loses_no_run() {
    let scale = Scale::from_env();
    let runs = scale.pick(40, 300);
    let outages = scale.pick(1, 3);
    let lease_seconds = 2;
    let outage_length = Duration::from_secs(3 * lease_seconds);
    let mut cluster = PostgresCluster::start();
    let database_url = cluster.url();
    let mut command = serve_command(&database_url, "127.0.0.1:0");
    command.args(["--lease-seconds", &lease_seconds.to_string()]);
    let served = spawn_served(command);
    let url = served.grpc_url.clone();
    let http_url = served.http_url.clone();
    let mut processes = Processes(vec![served.child]);
    processes.0.push(start_worker(&url, "outage-a"));
    processes.0.push(start_worker(&url, "outage-b"));
    let submitted = submit_sweep(&url, &cheap_sweep("database outage", runs)).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut recovery = Duration::ZERO;
    let mut ready_after = Duration::ZERO;
    for outage in 1..=outages {
        // The connection closes before the server stops.
        {
            let mut db = connect(&database_url).await;
            wait_for_done(
                &mut db,
                submitted.sweep_id,
                runs as i64 * outage / (outages + 1),
            )
            .await;
        }
        cluster.stop();
        let stopped_at = Instant::now();

        let mut not_ready_answers = 0;
        while stopped_at.elapsed() < outage_length {
            check_not_ready(&http, &http_url).await;
            not_ready_answers += 1;
            let healthz = http
                .get(format!("{http_url}/healthz"))
                .send()
                .await
                .expect("/healthz did not answer while the database was down");
            assert_eq!(healthz.status(), 200, "/healthz while the database was down");
            for child in &mut processes.0 {
                let exited = child.try_wait().unwrap();
                assert!(exited.is_none(), "process {} exited: {exited:?}", child.id());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(not_ready_answers >= 1, "/readyz was never asked");

        cluster.start_again();
        let restarted = Instant::now();
        wait_until_ready(&http, &http_url).await;
        ready_after = ready_after.max(restarted.elapsed());
        let mut db = connect(&database_url).await;
        while results_since_server_start(&mut db, submitted.sweep_id).await == 0 {
            assert!(
                restarted.elapsed() < common::SWEEP_TIMEOUT,
                "no result was stored after PostgreSQL came back"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        recovery = recovery.max(restarted.elapsed());
    }
    let status = wait_for_sweep(&url, submitted.sweep_id).await;

    // Each Child is the process spawned at the start, so a process that
    // exited or was replaced would show here.
    for child in &mut processes.0 {
        let exited = child.try_wait().unwrap();
        assert!(exited.is_none(), "process {} exited: {exited:?}", child.id());
    }
    let mut db = connect(&database_url).await;
    let audit = audit_sweep(&mut db, submitted.sweep_id).await;
    record(&Figures {
        scenario: "database outage",
        scale,
        faults: format!(
            "PostgreSQL stopped {outages} × {:.0} s (leases of {lease_seconds} s); ready again after {:.1} s",
            outage_length.as_secs_f64(),
            ready_after.as_secs_f64()
        ),
        audit,
        recovery,
    });
    assert_eq!(status.counts.unwrap().done, runs);
    assert_eq!(audit.expected, runs as i64);
    assert_eq!(audit.stored, audit.expected, "{audit:?}");
    assert_eq!(audit.failed, 0, "{audit:?}");
    assert_eq!(audit.done_without_result, 0, "{audit:?}");
    assert_eq!(audit.lost(), 0, "{audit:?}");
    // Workers could not heartbeat while the database was down, so leases
    // that expired then are no failed attempts.
    let runs_with_failed_attempts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM runs r JOIN sweep_runs s ON s.run_id = r.id \
         WHERE s.sweep_id = $1 AND r.failed_attempts > 0",
    )
    .bind(submitted.sweep_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        runs_with_failed_attempts, 0,
        "the outage was counted as failed attempts"
    );
}
