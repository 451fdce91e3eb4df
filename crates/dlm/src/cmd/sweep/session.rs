//! The coordinator and the worker of a local sweep, in this process: the
//! coordinator listens on a loopback port chosen by the system, and the
//! worker connects to it with a token made for this session, so no other
//! process on the machine can lease runs.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use dlm_coordinator::{Coordinator, CoordinatorConfig, ServeError, Token};
use dlm_store::Store;
use dlm_worker::{Worker, WorkerError, WorkerOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Lease duration of the local coordinator. A run leased by a process that
/// was killed is queued again this long after its last heartbeat, so a rerun
/// waits at most this long for it.
pub const LEASE_DURATION: Duration = Duration::from_secs(20);

/// Time the worker lets running simulations finish after Ctrl-C before it
/// releases their leases.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Wait between lease requests while no run is queued.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// Maximum wait between retries. The coordinator runs in this process, so
/// an outage is short.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Returns the coordinator settings of a local session, with a fresh random
/// token for workers and for the Sweeps service.
pub fn coordinator_config() -> CoordinatorConfig {
    let mut config = CoordinatorConfig::with_lease_duration(LEASE_DURATION);
    config.worker_token = Token::new(&random_token());
    config.api_token = Token::new(&random_token());
    config
}

/// A running coordinator and worker, stopped by [`LocalSession::stop`].
pub struct LocalSession {
    stop_worker: watch::Sender<bool>,
    stop_coordinator: watch::Sender<bool>,
    coordinator: Option<JoinHandle<Result<(), ServeError>>>,
    worker: Option<JoinHandle<Result<(), WorkerError>>>,
}

impl LocalSession {
    /// Starts the coordinator on 127.0.0.1 and one worker running
    /// `concurrency` simulations at once.
    pub async fn start(
        store: Store,
        config: CoordinatorConfig,
        concurrency: usize,
    ) -> Result<LocalSession> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on a loopback port")?;
        let address = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let token = config
            .worker_token
            .as_ref()
            .map(|token| token.expose().to_string());

        // The worker stops first and the coordinator only after it, so a
        // draining worker can still report its results and release leases.
        let (stop_worker, worker_stopped) = watch::channel(false);
        let (stop_coordinator, coordinator_stopped) = watch::channel(false);
        let coordinator = tokio::spawn(
            Coordinator::new(store, config).serve(listener, wait_for_stop(coordinator_stopped)),
        );
        let options = WorkerOptions {
            coordinator: format!("http://{address}"),
            worker_id: format!("local-{}", std::process::id()),
            concurrency,
            token,
            lease_batch: u32::try_from(concurrency).unwrap_or(u32::MAX),
            drain_timeout: DRAIN_TIMEOUT,
            idle_poll: IDLE_POLL,
            max_backoff: MAX_BACKOFF,
        };
        let worker = tokio::spawn(Worker::run(options, wait_for_stop(worker_stopped)));
        tracing::info!(grpc = %address, concurrency, "local coordinator and worker started");

        Ok(LocalSession {
            stop_worker,
            stop_coordinator,
            coordinator: Some(coordinator),
            worker: Some(worker),
        })
    }

    /// Waits until the worker or the coordinator stops on its own, which
    /// happens only on an error, and returns that error.
    pub async fn failure(&mut self) -> anyhow::Error {
        let (Some(worker), Some(coordinator)) = (&mut self.worker, &mut self.coordinator) else {
            return anyhow!("the local session was already stopped");
        };
        tokio::select! {
            outcome = worker => {
                self.worker = None;
                match outcome {
                    Ok(Ok(())) => anyhow!("the worker stopped unexpectedly"),
                    Ok(Err(error)) => anyhow::Error::new(error).context("the worker stopped"),
                    Err(error) => anyhow::Error::new(error).context("the worker task failed"),
                }
            }
            outcome = coordinator => {
                self.coordinator = None;
                match outcome {
                    Ok(Ok(())) => anyhow!("the coordinator stopped unexpectedly"),
                    Ok(Err(error)) => anyhow::Error::new(error).context("the coordinator stopped"),
                    Err(error) => anyhow::Error::new(error).context("the coordinator task failed"),
                }
            }
        }
    }

    /// Stops the worker (running simulations finish or, after the drain
    /// timeout, are released to the queue), then the coordinator.
    pub async fn stop(mut self) -> Result<()> {
        let _ = self.stop_worker.send(true);
        let worker_outcome = match self.worker.take() {
            Some(worker) => worker
                .await
                .context("the worker task failed")
                .and_then(|outcome| outcome.context("the worker stopped with an error")),
            None => Ok(()),
        };

        let _ = self.stop_coordinator.send(true);
        if let Some(coordinator) = self.coordinator.take() {
            coordinator
                .await
                .context("the coordinator task failed")?
                .context("the coordinator stopped with an error")?;
        }
        worker_outcome?;
        tracing::info!("local coordinator and worker stopped");
        Ok(())
    }
}

async fn wait_for_stop(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Returns 32 random bytes as hex text.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
