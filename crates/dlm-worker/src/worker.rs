//! The worker loop: lease while there is free capacity, simulate on the
//! rayon pool, heartbeat the held leases, report results, and drain on
//! shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dlm_proto::v1 as proto;
use dlm_sim::StopSignal;
use tokio::sync::{mpsc, oneshot};
use tonic::{Code, Status};
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::client::{self, Client};
use crate::execute::{Execution, execute};

/// After the drain releases the leases it still holds, how long it waits for
/// their simulations to return. The engine checks its stop signal every few
/// steps, so they normally return at once.
const STOPPED_RUN_WAIT: Duration = Duration::from_secs(10);

/// How often the heartbeat loop checks whether a heartbeat is due.
const HEARTBEAT_TICK: Duration = Duration::from_millis(50);

/// Settings of a worker: its coordinator, identity and capacity.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Coordinator URL, such as `http://127.0.0.1:50051`.
    pub coordinator: String,
    /// Names the worker in leases and logs; unique per process.
    pub worker_id: String,
    /// Simulations run at once, one per pool thread.
    pub concurrency: usize,
    /// Bearer token for the coordinator's `Workers` service.
    pub token: Option<String>,
    /// Most runs claimed per `Lease` call.
    pub lease_batch: u32,
    /// On shutdown, how long to let running simulations finish before
    /// their leases are released.
    pub drain_timeout: Duration,
    /// Wait before asking again when no run is queued.
    pub idle_poll: Duration,
    /// Maximum wait between retries while the coordinator is away.
    pub max_backoff: Duration,
}

/// Errors that stop a worker.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid coordinator URL {url:?}: {reason}; use a URL such as http://127.0.0.1:50051")]
    InvalidCoordinator { url: String, reason: String },

    #[error("invalid worker token: it must be printable ASCII")]
    InvalidToken,

    #[error("invalid concurrency 0: run at least one simulation at a time")]
    ZeroConcurrency,

    #[error("the coordinator rejected the worker token: {0}")]
    Unauthenticated(String),

    #[error("cannot start the simulation thread pool: {0}")]
    ThreadPool(String),
}

/// A running simulation, known by its lease.
struct HeldRun {
    /// Set when a heartbeat returns the lease to abort or the drain releases
    /// it: the simulation stops within a few steps and nothing is reported.
    stop: StopSignal,
}

type LeaseKey = (i64, i32);

/// State shared by the lease loop and the tasks it starts.
struct Shared {
    client: Client,
    worker_id: String,
    held: Mutex<HashMap<LeaseKey, HeldRun>>,
    /// Heartbeat period in milliseconds, a third of the lease duration the
    /// coordinator last announced.
    heartbeat_millis: AtomicU64,
    max_backoff: Duration,
}

impl Shared {
    fn held_count(&self) -> usize {
        self.held.lock().expect("held-run map poisoned").len()
    }

    fn held_leases(&self) -> Vec<proto::LeaseRef> {
        let held = self.held.lock().expect("held-run map poisoned");
        held.keys()
            .map(|&(run_id, attempt)| proto::LeaseRef { run_id, attempt })
            .collect()
    }
}

/// The worker process's main object.
pub struct Worker;

impl Worker {
    /// Leases and runs simulations until `shutdown` completes, then stops
    /// leasing, lets running simulations finish for up to the drain timeout
    /// and releases the leases of those that did not.
    ///
    /// Returns an error only for a setting that retrying cannot fix: an
    /// invalid URL or token, or a token the coordinator rejects.
    pub async fn run(
        options: WorkerOptions,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), WorkerError> {
        if options.concurrency == 0 {
            return Err(WorkerError::ZeroConcurrency);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.concurrency)
            .thread_name(|index| format!("dlm-sim-{index}"))
            .build()
            .map_err(|error| WorkerError::ThreadPool(error.to_string()))?;
        let shared = Arc::new(Shared {
            client: client::connect(&options.coordinator, options.token.as_deref())?,
            worker_id: options.worker_id.clone(),
            held: Mutex::new(HashMap::new()),
            heartbeat_millis: AtomicU64::new(10_000),
            max_backoff: options.max_backoff,
        });
        tracing::info!(
            worker = %options.worker_id,
            coordinator = %options.coordinator,
            concurrency = options.concurrency,
            "worker started"
        );

        let heartbeats = tokio::spawn(heartbeat_loop(shared.clone()));
        let (slot_sender, mut slot_receiver) = mpsc::unbounded_channel::<()>();
        tokio::pin!(shutdown);

        let outcome = lease_loop(
            &options,
            &shared,
            &pool,
            &slot_sender,
            &mut slot_receiver,
            &mut shutdown,
        )
        .await;

        drain(&options, &shared, &mut slot_receiver).await;
        heartbeats.abort();
        tracing::info!(worker = %options.worker_id, "worker stopped");
        outcome
    }
}

/// Leases runs whenever a pool thread is free, until shutdown.
async fn lease_loop(
    options: &WorkerOptions,
    shared: &Arc<Shared>,
    pool: &rayon::ThreadPool,
    slot_sender: &mpsc::UnboundedSender<()>,
    slot_receiver: &mut mpsc::UnboundedReceiver<()>,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<(), WorkerError> {
    let mut backoff = Backoff::new(Duration::from_millis(200), options.max_backoff);
    let mut failures: u64 = 0;

    loop {
        let free = options.concurrency.saturating_sub(shared.held_count());
        if free == 0 {
            tokio::select! {
                _ = shutdown.as_mut() => return Ok(()),
                _ = slot_receiver.recv() => continue,
            }
        }

        let request = proto::LeaseRequest {
            worker_id: shared.worker_id.clone(),
            max_runs: u32::try_from(free).unwrap_or(u32::MAX).min(options.lease_batch),
            model_version: dlm_sim::MODEL_VERSION.to_string(),
        };
        let wait = match shared.client.clone().lease(request).await {
            Ok(response) => {
                backoff.reset();
                if failures > 0 {
                    tracing::info!(failed_before = failures, "lease request succeeded again");
                    failures = 0;
                }
                let response = response.into_inner();
                let heartbeat = (response.lease_seconds * 1000.0 / 3.0).max(50.0) as u64;
                shared.heartbeat_millis.store(heartbeat, Ordering::Relaxed);
                if !response.runs.is_empty() {
                    for run in response.runs {
                        start_run(shared, pool, slot_sender, run);
                    }
                    continue;
                }
                options.idle_poll
            }
            Err(status) if status.code() == Code::Unauthenticated => {
                tracing::error!(error = %status.message(), "coordinator rejected the worker token");
                return Err(WorkerError::Unauthenticated(status.message().to_string()));
            }
            Err(status) => {
                failures += 1;
                let delay = backoff.next_delay();
                tracing::warn!(
                    error = %status.message(),
                    code = ?status.code(),
                    consecutive_failures = failures,
                    retry_in_ms = delay.as_millis() as u64,
                    "lease request failed; retrying"
                );
                delay
            }
        };

        tokio::select! {
            _ = shutdown.as_mut() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
            _ = slot_receiver.recv() => {}
        }
    }
}

/// Starts one leased run on the pool, and a task that reports its outcome.
fn start_run(
    shared: &Arc<Shared>,
    pool: &rayon::ThreadPool,
    slot_sender: &mpsc::UnboundedSender<()>,
    run: proto::LeasedRun,
) {
    let key = (run.run_id, run.attempt);
    let stop = StopSignal::new();
    shared
        .held
        .lock()
        .expect("held-run map poisoned")
        .insert(key, HeldRun { stop: stop.clone() });

    let span = tracing::info_span!(
        "run",
        sweep = run.sweep_id,
        run = run.run_id,
        worker = %shared.worker_id,
        attempt = run.attempt
    );
    let (outcome_sender, outcome_receiver) = oneshot::channel();
    let simulation_span = span.clone();
    let simulation_stop = stop.clone();
    pool.spawn(move || {
        let _entered = simulation_span.enter();
        let _ = outcome_sender.send(execute(&run.config_json, run.seed, &simulation_stop));
    });

    let shared = shared.clone();
    let slot_sender = slot_sender.clone();
    tokio::spawn(
        async move {
            // The sender is dropped without a value only if the pool is
            // gone, which happens after the worker stopped.
            if let Ok(outcome) = outcome_receiver.await {
                report(&shared, key, &stop, outcome).await;
            }
            shared.held.lock().expect("held-run map poisoned").remove(&key);
            let _ = slot_sender.send(());
        }
        .instrument(span),
    );
}

/// Reports a finished run, retrying while the coordinator is away. Gives up
/// when the lease was aborted or released, or the coordinator rejects the
/// report. A stopped simulation has nothing to report.
async fn report(
    shared: &Shared,
    (run_id, attempt): LeaseKey,
    stop: &StopSignal,
    outcome: Execution,
) {
    if let Execution::Stopped { steps, total_steps } = outcome {
        tracing::info!(steps, total_steps, "run stopped early; nothing reported");
        return;
    }
    let lease = Some(proto::LeaseRef { run_id, attempt });
    let mut backoff = Backoff::new(Duration::from_millis(200), shared.max_backoff);

    loop {
        if stop.is_stopped() {
            tracing::info!("run aborted or released; result dropped");
            return;
        }

        let sent: Result<(), Status> = match &outcome {
            Execution::Finished(result) => shared
                .client
                .clone()
                .complete(proto::CompleteRequest {
                    worker_id: shared.worker_id.clone(),
                    lease,
                    result: Some(result.clone()),
                })
                .await
                .map(|response| {
                    let stored = response.into_inner().stored;
                    tracing::info!(stored, diverged = result.diverged, "run completed");
                }),
            Execution::Failed(error) => shared
                .client
                .clone()
                .fail(proto::FailRequest {
                    worker_id: shared.worker_id.clone(),
                    lease,
                    error: error.clone(),
                })
                .await
                .map(|response| {
                    let run_failed = response.into_inner().run_failed;
                    tracing::warn!(error = %error, run_failed, "run attempt failed");
                }),
            Execution::Stopped { .. } => return,
        };

        let status = match sent {
            Ok(()) => return,
            Err(status) => status,
        };
        if !is_retryable(&status) {
            tracing::error!(
                error = %status.message(),
                code = ?status.code(),
                "coordinator rejected the report; dropping it"
            );
            return;
        }
        let delay = backoff.next_delay();
        tracing::warn!(
            error = %status.message(),
            retry_in_ms = delay.as_millis() as u64,
            "report failed; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Extends the held leases every heartbeat period and marks the ones the
/// coordinator returns as lost.
///
/// Each heartbeat may take at most one period. While its database is down
/// the coordinator holds a call until its connection pool gives up, about
/// 30 s, and a heartbeat sent after the database is back must not wait
/// behind that call.
async fn heartbeat_loop(shared: Arc<Shared>) {
    let mut last_sent = tokio::time::Instant::now();
    let mut failures: u64 = 0;
    loop {
        // The period is read again on every tick rather than slept in one
        // piece, because the first lease response replaces its 10 s
        // default, and a lease shorter than that would expire before the
        // first heartbeat. While nothing is held the clock restarts, so a
        // new lease gets its first heartbeat about one period after it began.
        tokio::time::sleep(HEARTBEAT_TICK).await;
        let leases = shared.held_leases();
        if leases.is_empty() {
            last_sent = tokio::time::Instant::now();
            continue;
        }
        let period = Duration::from_millis(shared.heartbeat_millis.load(Ordering::Relaxed));
        if last_sent.elapsed() < period {
            continue;
        }
        last_sent = tokio::time::Instant::now();

        let request = proto::HeartbeatRequest {
            worker_id: shared.worker_id.clone(),
            leases,
        };
        let sent = tokio::time::timeout(period, shared.client.clone().heartbeat(request)).await;
        let response = match sent {
            Ok(Ok(response)) => response.into_inner(),
            Ok(Err(status)) => {
                failures += 1;
                tracing::warn!(
                    error = %status.message(),
                    code = ?status.code(),
                    consecutive_failures = failures,
                    "heartbeat failed"
                );
                continue;
            }
            Err(_) => {
                failures += 1;
                tracing::warn!(
                    timeout_ms = period.as_millis() as u64,
                    consecutive_failures = failures,
                    "heartbeat timed out"
                );
                continue;
            }
        };
        if failures > 0 {
            tracing::info!(failed_before = failures, "heartbeat succeeded again");
            failures = 0;
        }

        let held = shared.held.lock().expect("held-run map poisoned");
        for lease in response.abort {
            if let Some(run) = held.get(&(lease.run_id, lease.attempt)) {
                run.stop.stop();
                tracing::info!(
                    run = lease.run_id,
                    attempt = lease.attempt,
                    "lease aborted by the coordinator; stopping the run"
                );
            }
        }
    }
}

/// Waits up to the drain timeout for running simulations, then stops the
/// rest, releases their leases so other workers can take the runs at once,
/// and waits briefly for the stopped simulations to return.
async fn drain(
    options: &WorkerOptions,
    shared: &Shared,
    slot_receiver: &mut mpsc::UnboundedReceiver<()>,
) {
    let deadline = tokio::time::Instant::now() + options.drain_timeout;
    if shared.held_count() > 0 {
        tracing::info!(
            running = shared.held_count(),
            drain_timeout_s = options.drain_timeout.as_secs_f64(),
            "draining: waiting for running simulations"
        );
    }
    while shared.held_count() > 0 {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = slot_receiver.recv() => {}
        }
    }

    let leases = {
        let held = shared.held.lock().expect("held-run map poisoned");
        for run in held.values() {
            run.stop.stop();
        }
        held.keys()
            .map(|&(run_id, attempt)| proto::LeaseRef { run_id, attempt })
            .collect::<Vec<_>>()
    };
    if leases.is_empty() {
        return;
    }

    let request = proto::ReleaseRequest {
        worker_id: shared.worker_id.clone(),
        leases,
    };
    match shared.client.clone().release(request).await {
        Ok(response) => {
            tracing::info!(released = response.into_inner().released, "leases released")
        }
        Err(status) => tracing::warn!(
            error = %status.message(),
            "releasing leases failed; they return to the queue when they expire"
        ),
    }

    let stopped_deadline = tokio::time::Instant::now() + STOPPED_RUN_WAIT;
    while shared.held_count() > 0 {
        tokio::select! {
            _ = tokio::time::sleep_until(stopped_deadline) => {
                tracing::warn!(
                    running = shared.held_count(),
                    "stopped simulations did not return in time; leaving them"
                );
                return;
            }
            _ = slot_receiver.recv() => {}
        }
    }
}

/// Returns whether a failed call may succeed later, because the coordinator
/// or its database was unreachable or overloaded.
fn is_retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Internal
    )
}
