//! The reaper: a loop that ends expired leases, returning their runs to the
//! queue or, after the maximum number of attempts, marking them failed.
//! Several coordinators may run it against one database at once.

use std::future::Future;
use std::time::Duration;

use dlm_store::Store;

/// How often and how strictly the reaper works.
#[derive(Debug, Clone, Copy)]
pub struct ReaperConfig {
    pub interval: Duration,
    pub max_attempts: u32,
}

/// Reaps expired leases every `config.interval` until `shutdown` completes.
/// Store errors are logged and retried at the next pass.
pub async fn run(store: Store, config: ReaperConfig, shutdown: impl Future<Output = ()>) {
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut shutdown => return,
        }

        match store.reap_expired_leases(config.max_attempts).await {
            Ok(outcome) if outcome.requeued + outcome.failed > 0 => {
                crate::metrics::record_failures(
                    "lease_expired",
                    outcome.requeued + outcome.failed,
                    outcome.failed,
                );
                tracing::warn!(
                    requeued = outcome.requeued,
                    failed = outcome.failed,
                    "expired leases reaped"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "reaping expired leases failed"),
        }
    }
}
