//! Running one leased simulation and turning its report into a result
//! message. Runs on a rayon thread, never on the async runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use dlm_proto::v1 as proto;
use dlm_sim::{RunConfig, simulate};

/// Simulates the canonical configuration `config_json` with `seed`. An
/// invalid configuration, an engine error or a panic is returned as the
/// error text the coordinator stores; a diverged run is a result.
pub(crate) fn execute(config_json: &str, seed: u64) -> Result<proto::RunResult, String> {
    let started = Instant::now();
    let config = RunConfig::from_json_str(config_json)
        .map_err(|error| format!("invalid run configuration: {error}"))?;

    let report = match catch_unwind(AssertUnwindSafe(|| simulate(&config, seed, &mut ()))) {
        Ok(Ok(report)) => report,
        Ok(Err(error)) => return Err(format!("simulation failed: {error}")),
        Err(panic) => return Err(format!("simulation panicked: {}", panic_message(&panic))),
    };

    let accuracy_json = serde_json::to_string(&report.accuracy)
        .map_err(|error| format!("cannot encode the accuracy matrix: {error}"))?;
    let series_json = serde_json::to_string(&report.series)
        .map_err(|error| format!("cannot encode the series: {error}"))?;
    let metrics = report
        .summary
        .metrics()
        .into_iter()
        .map(|(name, value)| proto::Metric {
            name: name.to_string(),
            value,
        })
        .collect();

    Ok(proto::RunResult {
        metrics,
        diverged: report.summary.diverged,
        diverged_step: report.summary.diverged_step,
        accuracy_json,
        series_json,
        duration_seconds: started.elapsed().as_secs_f64(),
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    if let Some(text) = panic.downcast_ref::<String>() {
        return text.clone();
    }
    "no message".to_string()
}
