//! Running one leased simulation and turning its report into a result
//! message. Runs on a rayon thread, never on the async runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use dlm_proto::v1 as proto;
use dlm_sim::{RunConfig, RunOutcome, StopSignal, simulate_with_stop};

/// The end of a leased run's execution.
#[derive(Debug)]
pub(crate) enum Execution {
    /// The simulation ended or diverged: a result to complete the lease with.
    Finished(proto::RunResult),
    /// The configuration, the engine or a panic failed the attempt; the
    /// text is the error the coordinator stores.
    Failed(String),
    /// The stop signal ended the simulation after `steps` of `total_steps`
    /// training steps, because the lease was aborted or released.
    Stopped { steps: u64, total_steps: u64 },
}

/// Simulates the canonical configuration `config_json` with `seed` until it
/// ends or `stop` is set. A diverged run is a result, not a failure.
pub(crate) fn execute(config_json: &str, seed: u64, stop: &StopSignal) -> Execution {
    match simulate_to_result(config_json, seed, stop) {
        Ok(execution) => execution,
        Err(error) => Execution::Failed(error),
    }
}

fn simulate_to_result(
    config_json: &str,
    seed: u64,
    stop: &StopSignal,
) -> Result<Execution, String> {
    let started = Instant::now();
    let config = RunConfig::from_json_str(config_json)
        .map_err(|error| format!("invalid run configuration: {error}"))?;

    let simulated = catch_unwind(AssertUnwindSafe(|| {
        simulate_with_stop(&config, seed, &mut (), stop)
    }));
    let report = match simulated {
        Ok(Ok(RunOutcome::Finished(report))) => report,
        Ok(Ok(RunOutcome::Stopped { steps, total_steps })) => {
            return Ok(Execution::Stopped { steps, total_steps });
        }
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

    Ok(Execution::Finished(proto::RunResult {
        metrics,
        diverged: report.summary.diverged,
        diverged_step: report.summary.diverged_step,
        accuracy_json,
        series_json,
        duration_seconds: started.elapsed().as_secs_f64(),
    }))
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
