//! The reaper: a loop that ends expired leases, returning their runs to the
//! queue or, after the maximum number of attempts, marking them failed.
//! Several coordinators may run it against one database at once.
//!
//! After the database was unreachable, the reaper first gives every lease
//! one more lease duration, because workers could not heartbeat during the
//! outage and their leases expired without any fault of theirs.

use std::future::Future;
use std::time::{Duration, Instant};

use dlm_store::{ReapOutcome, Store, StoreError};

/// How often and how strictly the reaper works.
#[derive(Debug, Clone, Copy)]
pub struct ReaperConfig {
    pub interval: Duration,
    pub max_attempts: u32,
    /// Grace given to every lease after a database outage.
    pub lease_duration: Duration,
}

/// The changes one reaper pass made.
struct Pass {
    /// Leases given a new deadline because the pass followed an outage.
    extended: u64,
    reaped: ReapOutcome,
}

/// Reaps expired leases every `config.interval` until `shutdown` completes.
/// Store errors are logged and retried at the next pass.
pub async fn run(store: Store, config: ReaperConfig, shutdown: impl Future<Output = ()>) {
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    let mut last_pass_failed = false;

    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut shutdown => return,
        }

        match reap_once(&store, &config, last_pass_failed).await {
            Ok(pass) => {
                last_pass_failed = false;
                dlm_store::outage::record_available("reaper");
                log_pass(&pass);
            }
            Err(error) if error.is_unavailable() => {
                last_pass_failed = true;
                dlm_store::outage::record_unavailable("reaper", &error);
            }
            Err(error) => {
                last_pass_failed = true;
                tracing::error!(error = %error, "reaping expired leases failed");
            }
        }
    }
}

/// Runs one pass. A pass follows an outage when the previous pass failed,
/// or when reaching the database took a third of a lease or longer, the
/// period at which workers heartbeat. The second case happens when the
/// pool waited through the outage for a new connection.
async fn reap_once(
    store: &Store,
    config: &ReaperConfig,
    last_pass_failed: bool,
) -> Result<Pass, StoreError> {
    let started = Instant::now();
    store.ping().await?;
    let waited = started.elapsed();

    let mut extended = 0;
    if last_pass_failed || waited >= config.lease_duration / 3 {
        extended = store.extend_all_leases(config.lease_duration).await?;
        tracing::warn!(
            extended,
            waited_seconds = waited.as_secs_f64(),
            lease_seconds = config.lease_duration.as_secs_f64(),
            "database was unreachable or slow; leases extended before reaping"
        );
    }
    let reaped = store.reap_expired_leases(config.max_attempts).await?;
    Ok(Pass { extended, reaped })
}

fn log_pass(pass: &Pass) {
    let reaped = pass.reaped;
    if reaped.requeued + reaped.failed == 0 {
        return;
    }
    crate::metrics::record_failures(
        "lease_expired",
        reaped.requeued + reaped.failed,
        reaped.failed,
    );
    tracing::warn!(
        requeued = reaped.requeued,
        failed = reaped.failed,
        extended_before = pass.extended,
        "expired leases reaped"
    );
}
