//! The process's Prometheus recorder and the text served at `/metrics`.
//!
//! Counters and the run duration histogram are recorded through the
//! `metrics` facade by the coordinator (see `dlm_coordinator::metrics`);
//! the recorder installed here collects them. Gauges that describe the
//! whole database (runs by state, active workers) are read from the store
//! at each scrape, so every coordinator of one database reports the same
//! values for them.

use std::fmt::Write;
use std::sync::OnceLock;

use dlm_coordinator::metrics as names;
use dlm_store::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::problem::HttpError;

/// Bucket bounds of the run duration histogram, in seconds: from a tenth
/// of a second to about three hours.
const RUN_DURATION_BUCKETS: [f64; 12] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 10800.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Returns the handle of the process's recorder, installing the recorder
/// on the first call.
pub(crate) fn prometheus_handle() -> PrometheusHandle {
    HANDLE.get_or_init(install_recorder).clone()
}

fn install_recorder() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(names::RUN_DURATION.to_string()), &RUN_DURATION_BUCKETS)
        .expect("the run duration buckets are a non-empty constant");
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!(
            "another metrics recorder is installed; /metrics serves only the database gauges"
        );
        return handle;
    }

    metrics::describe_counter!(names::LEASES_GRANTED, "Leases granted to workers, one per run.");
    metrics::describe_counter!(names::COMPLETIONS, "Results stored (the first result of a run).");
    metrics::describe_counter!(
        names::DUPLICATE_COMPLETIONS,
        "Results reported for runs that already had one, counted and dropped."
    );
    metrics::describe_counter!(
        names::FAILURES,
        "Failed attempts, by reason: reported by the worker or lease expired."
    );
    metrics::describe_counter!(names::RUNS_FAILED, "Runs marked failed after their last attempt.");
    metrics::describe_histogram!(
        names::RUN_DURATION,
        metrics::Unit::Seconds,
        "Simulation time of each stored result, as the worker measured it."
    );
    handle
}

/// Returns the Prometheus text: this process's counters and histogram,
/// then the gauges read from the database now.
pub(crate) async fn render(
    store: &Store,
    lease_duration: std::time::Duration,
) -> Result<String, HttpError> {
    let handle = prometheus_handle();
    handle.run_upkeep();
    let mut text = handle.render();

    let counts = store.run_state_counts().await?;
    let mut workers = store.leasing_worker_ids().await?;
    workers.extend(names::recent_worker_ids(lease_duration));
    workers.sort();
    workers.dedup();

    // `fmt::Write` for `String` always returns Ok, so results are ignored.
    let _ = writeln!(text, "# HELP dlm_runs Runs in each state, over every sweep in the database.");
    let _ = writeln!(text, "# TYPE dlm_runs gauge");
    for (state, count) in counts {
        let _ = writeln!(text, "dlm_runs{{state=\"{}\"}} {count}", state.as_str());
    }
    let _ = writeln!(
        text,
        "# HELP dlm_active_workers Workers holding a lease, or that called this coordinator \
         within one lease duration."
    );
    let _ = writeln!(text, "# TYPE dlm_active_workers gauge");
    let _ = writeln!(text, "dlm_active_workers {}", workers.len());
    Ok(text)
}
