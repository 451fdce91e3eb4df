//! One run from configuration to report: data, tasks, training loop,
//! evaluations at task switches, Fisher traces and summaries.

mod ewc;
mod minibatch;
mod recorder;
mod trainer;

pub use ewc::{EwcState, diagonal_fisher, fisher_traces};
pub use trainer::{LayerParameters, StepOutcome, StepRecord, Trainer, norm_squared};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Progress, RunOutcome, StopSignal};
use crate::config::RunConfig;
use crate::data::{self, Dataset};
use crate::dynamics::schedule_factor;
use crate::error::SimError;
use crate::measure::{continual, spectrum};
use crate::net::{Layout, initialise};
use crate::report::{OldTaskPoint, RunReport, Spectrum, Summary, finite_or_none};
use crate::tasks::{self, Task};
pub use minibatch::Minibatches;
use recorder::Recorder;

/// Streams of the run seed's generators.
pub const INIT_STREAM: u64 = 1;
pub const BATCH_STREAM: u64 = 2;
pub const NOISE_STREAM: u64 = 3;

/// Progress is reported every this many steps.
const PROGRESS_EVERY: u64 = 64;

/// The stop signal is read every this many steps. It divides
/// `PROGRESS_EVERY`, so a stop requested from a progress callback takes
/// effect at the next step.
const STOP_CHECK_EVERY: u64 = 16;

/// Test examples per forward pass during evaluation.
const EVAL_CHUNK: usize = 512;

/// A ChaCha8 generator of the run seed on its own stream.
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Training steps of each task: `steps_per_task`, or `epochs_per_task`
/// full passes of whole minibatches.
pub fn task_steps(config: &RunConfig, tasks: &[Task]) -> Vec<u64> {
    let batch = config.tasks.batch_size as u64;
    tasks
        .iter()
        .map(|task| match config.tasks.epochs_per_task {
            Some(epochs) => epochs * (task.train.len() as u64 / batch),
            None => config.tasks.steps_per_task,
        })
        .collect()
}

fn accuracy_row(layout: &Layout, params: &[Vec<f32>], data: &Dataset, tasks: &[Task]) -> Vec<f64> {
    tasks
        .iter()
        .map(|task| tasks::accuracy(layout, params, data, task, EVAL_CHUNK))
        .collect()
}

/// Runs one simulation until it ends, diverges or `stop` is set.
pub fn run(
    config: &RunConfig,
    seed: u64,
    progress: &mut dyn Progress,
    stop: &StopSignal,
) -> Result<RunOutcome, SimError> {
    config.validate()?;
    let data = data::load(&config.data)?;
    let tasks = tasks::build(config, &data)?;
    let steps_per_task = task_steps(config, &tasks);
    let total_steps: u64 = steps_per_task.iter().sum();

    let layout = Layout::new(
        data.train.num_features(),
        &config.model.hidden,
        data.train.num_classes,
        config.model.activation,
    );
    let params = initialise::<f32>(&layout, &mut stream_rng(seed, INIT_STREAM));
    let mut trainer = Trainer::new(
        config,
        layout.clone(),
        params,
        stream_rng(seed, NOISE_STREAM),
    );
    let mut batches = Minibatches::new(stream_rng(seed, BATCH_STREAM), config.tasks.batch_size);
    let mut recorder = Recorder::new(config.tasks.record_every, config.dynamics.dt, total_steps);
    recorder.series.task_steps = steps_per_task.clone();

    let mut accuracy = vec![accuracy_row(&layout, &trainer.params, &data.test, &tasks)];
    let mut run_step = 0u64;
    let stopped = |steps: u64| RunOutcome::Stopped { steps, total_steps };

    for (task_index, task) in tasks.iter().enumerate() {
        let steps = steps_per_task[task_index];
        trainer.begin_task(task);
        batches.begin_task(task.train.len());

        for task_step in 0..steps {
            if run_step % STOP_CHECK_EVERY == 0 && stop.is_stopped() {
                return Ok(stopped(run_step));
            }
            if task_index > 0 && task_step > 0 && task_step % config.tasks.eval_every == 0 {
                let earlier = &tasks[..task_index];
                recorder.series.old_task_accuracy.push(OldTaskPoint {
                    step: run_step,
                    task: task_index,
                    accuracy: accuracy_row(&layout, &trainer.params, &data.test, earlier),
                });
            }

            let schedule = schedule_factor(&config.dynamics.schedule, run_step, task_step, steps);
            let positions = batches.next_batch();
            match trainer.step(&data.train, task, positions, schedule) {
                StepOutcome::Completed(record) => recorder.add(run_step, task_index, record),
                StepOutcome::Diverged => {
                    progress.on_steps(run_step + 1, total_steps);
                    return Ok(RunOutcome::Finished(diverged_report(
                        total_steps,
                        run_step + 1,
                        accuracy,
                        recorder,
                    )));
                }
            }

            run_step += 1;
            if run_step % PROGRESS_EVERY == 0 {
                progress.on_steps(run_step, total_steps);
            }
        }

        // Evaluating and computing the Fisher information take as long as
        // many steps, so a stop requested during the last steps ends here.
        if stop.is_stopped() {
            return Ok(stopped(run_step));
        }
        recorder.end_task();
        accuracy.push(accuracy_row(&layout, &trainer.params, &data.test, &tasks));
        let task_fisher = diagonal_fisher(
            &layout,
            &trainer.params,
            &data.train,
            task,
            config.ewc.fisher,
        );
        recorder
            .series
            .fisher_trace
            .push(fisher_traces(&task_fisher));
        let params = trainer.params.clone();
        trainer.ewc.consolidate(task_fisher, &params);
    }
    progress.on_steps(run_step, total_steps);

    Ok(RunOutcome::Finished(finished_report(
        config,
        total_steps,
        &steps_per_task,
        accuracy,
        recorder,
    )))
}

fn diverged_report(
    total_steps: u64,
    step: u64,
    accuracy: Vec<Vec<f64>>,
    recorder: Recorder,
) -> RunReport {
    let mut summary = Summary::empty(total_steps);
    summary.diverged = true;
    summary.diverged_step = Some(step);
    RunReport {
        summary,
        accuracy,
        series: recorder.series,
    }
}

fn finished_report(
    config: &RunConfig,
    total_steps: u64,
    steps_per_task: &[u64],
    accuracy: Vec<Vec<f64>>,
    mut recorder: Recorder,
) -> RunReport {
    let metrics = continual::continual_metrics(&accuracy, steps_per_task);

    let (low, high) = config.psd.effective_band();
    let welch = spectrum::welch(&recorder.activity, 1.0, config.psd.nperseg);
    let beta = welch
        .as_ref()
        .and_then(|welch| spectrum::power_law_exponent(welch, low, high));
    recorder.series.psd = welch.map(|welch| Spectrum {
        frequency: welch.frequency,
        density: welch.density,
        band: (low, high),
    });

    let summary = Summary {
        diverged: false,
        diverged_step: None,
        steps: total_steps,
        forgetting: finite_or_none(metrics.forgetting),
        forgetting_rate: finite_or_none(metrics.forgetting_rate),
        backward_transfer: finite_or_none(metrics.backward_transfer),
        forward_transfer: finite_or_none(metrics.forward_transfer),
        average_accuracy: finite_or_none(metrics.average_accuracy),
        learning_accuracy: finite_or_none(metrics.learning_accuracy),
        sigma_flux_mean: finite_or_none(recorder.sigma_flux_mean()),
        sigma_heat_mean: finite_or_none(recorder.sigma_heat_mean()),
        p_in_mean: finite_or_none(recorder.p_in_mean()),
        p_out_mean: finite_or_none(recorder.p_out_mean()),
        energy_rate_mean: finite_or_none(recorder.energy_rate_mean()),
        beta: finite_or_none(beta),
        final_loss: finite_or_none(recorder.last_loss),
    };
    RunReport {
        summary,
        accuracy,
        series: recorder.series,
    }
}
