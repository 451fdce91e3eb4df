//! The synthetic sweep every case queues: one small valid configuration
//! replicated over seeds, so the run count is exact and no run simulates.

use anyhow::Context;
use dlm_proto::v1 as proto;
use dlm_store::{Store, SubmitOutcome};
use dlm_sweep::{Limits, SpecFormat};

/// Queues `runs` runs in `store` as one sweep.
pub async fn queue_runs(store: &Store, runs: u64) -> anyhow::Result<SubmitOutcome> {
    let document = synthetic_document("queue-bench", runs);
    let limits = Limits { max_runs: runs };
    dlm_coordinator::submit_sweep(store, document, SpecFormat::Toml, limits)
        .await
        .with_context(|| format!("cannot queue {runs} synthetic runs"))
}

/// Returns a TOML sweep named `name` of one small valid configuration
/// replicated over `runs` seeds.
pub fn synthetic_document(name: &str, runs: u64) -> String {
    format!(
        "name = \"{name}\"\nseeds = {runs}\n\n\
         [base.model]\nhidden = [16]\n\n\
         [base.tasks]\nnum_tasks = 2\nsteps_per_task = 20\n"
    )
}

/// Builds a result as a worker would report it: every summary metric set, a
/// 3x2 accuracy matrix and empty series, so each completion writes as
/// many rows as a real one.
pub fn synthetic_result() -> proto::RunResult {
    let metrics = dlm_sim::Summary::METRIC_NAMES
        .iter()
        .map(|name| proto::Metric {
            name: (*name).to_string(),
            value: Some(0.5),
        })
        .collect();
    proto::RunResult {
        metrics,
        diverged: false,
        diverged_step: None,
        accuracy_json: "[[0.5,0.5],[0.9,0.5],[0.7,0.9]]".to_string(),
        series_json: "{}".to_string(),
        duration_seconds: 0.0,
    }
}
