//! Simulation engine of dlm-sweep.
//!
//! A multilayer perceptron learns a sequence of classification tasks while its
//! weights follow underdamped Langevin dynamics with a force driven by the
//! layers' information currents (a "dissipative learning machine", DLM), or
//! one of the standard baselines (heavy-ball SGD, SGLD, online EWC). Each run
//! measures forgetting, entropy production, energy flows and the 1/f slope of
//! the network's activity. docs/model.md gives the equations.
//!
//! A run is a pure function of (configuration, seed): it is single-threaded,
//! uses separate ChaCha8 streams for initialisation, minibatches and noise,
//! and sums in a fixed order, so results are bit-identical for any number of
//! worker threads in [`simulate_many`].

pub mod config;
pub mod data;
pub mod dynamics;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzz_check;
pub mod measure;
pub mod net;
pub mod random;
pub mod report;
mod stop;
pub mod tasks;

pub use config::{
    Activation, Baseline, ConfigError, Coupling, DataConfig, DatasetKind, Direction,
    DynamicsConfig, EwcConfig, FisherKind, InactiveHeads, Integrator, MODEL_VERSION, Method,
    ModelConfig, PerLayer, PsdConfig, RunConfig, Scenario, Schedule, ScheduleKind, TaskConfig,
    TaskKind, TeacherConfig,
};
pub use error::SimError;
pub use report::{OldTaskPoint, RunReport, Series, Spectrum, Summary};
pub use stop::{RunOutcome, StopSignal};

/// Receives progress of a run. Called at most every few dozen steps, never
/// once per step, and once more when the run ends.
pub trait Progress {
    fn on_steps(&mut self, _done: u64, _total: u64) {}
}

impl Progress for () {}

/// Runs one simulation of `config` with `seed`.
///
/// Errors are an invalid configuration or unreadable data. A run that
/// diverges is not an error: its report has `summary.diverged` set.
pub fn simulate(
    config: &RunConfig,
    seed: u64,
    progress: &mut dyn Progress,
) -> Result<RunReport, SimError> {
    match engine::run(config, seed, progress, &StopSignal::new())? {
        RunOutcome::Finished(report) => Ok(report),
        // The signal is created here and shared with no one, so it is never set.
        RunOutcome::Stopped { .. } => unreachable!("a run stopped without a stop request"),
    }
}

/// Runs one simulation of `config` with `seed` like [`simulate`], but ends it
/// early with [`RunOutcome::Stopped`] once `stop` is set. The engine checks
/// the signal every few training steps and before each task's evaluation,
/// so a stopped run returns within a few steps.
pub fn simulate_with_stop(
    config: &RunConfig,
    seed: u64,
    progress: &mut dyn Progress,
    stop: &StopSignal,
) -> Result<RunOutcome, SimError> {
    engine::run(config, seed, progress, stop)
}

/// Runs many simulations on a pool of `threads` worker threads (0 means
/// rayon's default), one run per thread at a time. Results come back in job
/// order and do not depend on the thread count.
pub fn simulate_many(
    jobs: &[(RunConfig, u64)],
    threads: usize,
) -> Vec<Result<RunReport, SimError>> {
    use rayon::prelude::*;

    let run_all = || {
        jobs.par_iter()
            .map(|(config, seed)| simulate(config, *seed, &mut ()))
            .collect()
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run_all),
        // NOTE: a pool can only fail to build when the OS refuses threads;
        // the jobs then run on the global pool, which gives the same results.
        Err(_) => run_all(),
    }
}
