//! Settings of a coordinator.

use std::time::Duration;

use crate::Token;

/// Settings of a coordinator: lease timing, limits and tokens.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// How long a lease lasts without a heartbeat.
    pub lease_duration: Duration,
    /// Failed attempts (expired leases or reported failures) after which a
    /// run is marked failed.
    pub max_attempts: u32,
    /// Largest sweep accepted, in runs.
    pub max_runs_per_sweep: u64,
    /// Bearer token workers must send; `None` accepts every worker.
    pub worker_token: Option<Token>,
    /// Bearer token the `Sweeps` service requires; `None` accepts every caller.
    pub api_token: Option<Token>,
    /// Time between two passes of the reaper.
    pub reap_interval: Duration,
    /// Time between two database polls of a `Watch` stream, unless the
    /// request sets its own.
    pub watch_poll_interval: Duration,
}

impl CoordinatorConfig {
    /// Returns the default settings for leases of `lease_duration`: the
    /// reaper runs four times per lease duration, between every 0.1 s and
    /// every 5 s.
    pub fn with_lease_duration(lease_duration: Duration) -> Self {
        let reap_interval = (lease_duration / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        CoordinatorConfig {
            lease_duration,
            max_attempts: 3,
            max_runs_per_sweep: dlm_sweep::DEFAULT_MAX_RUNS,
            worker_token: None,
            api_token: None,
            reap_interval,
            watch_poll_interval: Duration::from_secs(1),
        }
    }
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig::with_lease_duration(Duration::from_secs(60))
    }
}
