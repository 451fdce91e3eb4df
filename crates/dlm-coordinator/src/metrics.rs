//! Counters and histograms of the queue, recorded through the `metrics`
//! facade where the events happen (the `Workers` service and the reaper),
//! so whichever exporter the process installs (the HTTP API's Prometheus
//! endpoint) publishes them. Without an installed recorder they cost a
//! branch each.
//!
//! The module also remembers when each worker last called, because "active
//! workers" includes workers between leases, which the database does not
//! record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Leases granted to workers, one per run.
pub const LEASES_GRANTED: &str = "dlm_leases_granted_total";
/// Results stored (the first result of a run).
pub const COMPLETIONS: &str = "dlm_completions_total";
/// Results reported for a run that already had one, counted and dropped.
pub const DUPLICATE_COMPLETIONS: &str = "dlm_duplicate_completions_total";
/// Failed attempts, labelled `reason` = `reported` (the worker's `Fail`) or
/// `lease_expired` (found by the reaper).
pub const FAILURES: &str = "dlm_failures_total";
/// Runs marked failed after their last allowed attempt.
pub const RUNS_FAILED: &str = "dlm_runs_failed_total";
/// Simulation time of each stored result, in seconds, as the worker
/// measured it.
pub const RUN_DURATION: &str = "dlm_run_duration_seconds";

/// Last call of each worker id seen by this process.
static LAST_WORKER_CALLS: Mutex<Option<HashMap<String, Instant>>> = Mutex::new(None);

/// Records that `worker_id` called now. Workers silent for longer than
/// `window` are removed, so the table stays as small as the set of
/// recently active workers.
pub fn note_worker_call(worker_id: &str, window: Duration) {
    let now = Instant::now();
    let mut calls = LAST_WORKER_CALLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let calls = calls.get_or_insert_with(HashMap::new);
    calls.retain(|_, last| now.duration_since(*last) <= window);
    calls.insert(worker_id.to_string(), now);
}

/// Returns the ids of the workers that called this process within the last
/// `window`, sorted.
pub fn recent_worker_ids(window: Duration) -> Vec<String> {
    let now = Instant::now();
    let calls = LAST_WORKER_CALLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut ids: Vec<String> = calls
        .iter()
        .flatten()
        .filter(|(_, last)| now.duration_since(**last) <= window)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

pub(crate) fn record_leases(count: usize) {
    metrics::counter!(LEASES_GRANTED).increment(count as u64);
}

pub(crate) fn record_completion(stored: bool, duration_seconds: f64) {
    if !stored {
        metrics::counter!(DUPLICATE_COMPLETIONS).increment(1);
        return;
    }
    metrics::counter!(COMPLETIONS).increment(1);
    metrics::histogram!(RUN_DURATION).record(duration_seconds);
}

pub(crate) fn record_failures(reason: &'static str, attempts: u64, runs_failed: u64) {
    if attempts > 0 {
        metrics::counter!(FAILURES, "reason" => reason).increment(attempts);
    }
    if runs_failed > 0 {
        metrics::counter!(RUNS_FAILED).increment(runs_failed);
    }
}
