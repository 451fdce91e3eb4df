//! Logging of database outages for the whole process. While the database
//! is down every request fails the same way, so logging each failure would
//! bury the rest of the log: the first failure is logged, then at most one
//! line per [`LOG_INTERVAL`] with the count of failures left out, and one
//! line when a query succeeds again.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Shortest time between two logged failures of one outage.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

struct Outage {
    started: Instant,
    last_logged: Instant,
    failures: u64,
    suppressed: u64,
}

static CURRENT: Mutex<Option<Outage>> = Mutex::new(None);

/// Counts a failure caused by an unreachable database and logs it unless a
/// failure was logged less than [`LOG_INTERVAL`] ago. `operation` names
/// what failed, such as `reaper` or `grpc`.
pub fn record_unavailable(operation: &str, error: &dyn Display) {
    let now = Instant::now();
    let mut current = CURRENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let outage = current.get_or_insert_with(|| Outage {
        started: now,
        last_logged: now,
        failures: 0,
        suppressed: 0,
    });
    outage.failures += 1;

    let first = outage.failures == 1;
    if !first && now.duration_since(outage.last_logged) < LOG_INTERVAL {
        outage.suppressed += 1;
        return;
    }
    tracing::error!(
        operation,
        error = %error,
        failures = outage.failures,
        suppressed = outage.suppressed,
        outage_seconds = now.duration_since(outage.started).as_secs_f64(),
        "database unavailable"
    );
    outage.last_logged = now;
    outage.suppressed = 0;
}

/// Ends the current outage, if any, and logs how long it lasted.
pub fn record_available(operation: &str) {
    let mut current = CURRENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(outage) = current.take() else {
        return;
    };
    tracing::info!(
        operation,
        failures = outage.failures,
        outage_seconds = outage.started.elapsed().as_secs_f64(),
        "database reachable again"
    );
}
