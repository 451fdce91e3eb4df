//! What a run returns: flat summary numbers, the accuracy matrix and the
//! down-sampled series.
//!
//! Everything here is a pure function of (configuration, seed), so wall time
//! and speed are deliberately absent. Metrics that are undefined (a
//! temperature of 0 for `sigma_flux`, one task for `F`) or belong to a
//! diverged run are `None`, never NaN or infinite.

use serde::{Deserialize, Serialize};

/// Everything one run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub summary: Summary,
    /// Test accuracy matrix R, shape (K+1) x K: row 0 is the untrained
    /// network, row k the network after training task k, column j task j.
    /// For a diverged run it holds only the rows completed before divergence.
    pub accuracy: Vec<Vec<f64>>,
    pub series: Series,
}

/// The flat summary of a run: one number per metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The run hit a non-finite loss, parameter or velocity and stopped.
    pub diverged: bool,
    /// 1-based step at which the run diverged.
    pub diverged_step: Option<u64>,
    /// Training steps the run was configured for (all tasks).
    pub steps: u64,
    /// Forgetting (Chaudhry et al. 2018): mean over old tasks of the best
    /// earlier accuracy minus the final accuracy.
    #[serde(rename = "F")]
    pub forgetting: Option<f64>,
    /// Accuracy an old task loses per 1,000 steps of the task after it.
    pub forgetting_rate: Option<f64>,
    /// Backward transfer (Lopez-Paz and Ranzato 2017).
    #[serde(rename = "BWT")]
    pub backward_transfer: Option<f64>,
    /// Forward transfer relative to the untrained network.
    #[serde(rename = "FWT")]
    pub forward_transfer: Option<f64>,
    /// Mean final accuracy over all tasks.
    #[serde(rename = "ACC")]
    pub average_accuracy: Option<f64>,
    /// Mean accuracy of each task right after learning it.
    #[serde(rename = "LA")]
    pub learning_accuracy: Option<f64>,
    /// Mean of sigma_flux = sum_l J_l |g_l| / T_l(t) over the steps of tasks 2..K.
    pub sigma_flux_mean: Option<f64>,
    /// Mean of sigma_heat = sum_l Qdot_l / T_l(t) over the steps of tasks 2..K.
    pub sigma_heat_mean: Option<f64>,
    /// Mean injected power P_in over the steps of tasks 2..K.
    pub p_in_mean: Option<f64>,
    /// Mean dissipated power P_out over the steps of tasks 2..K.
    pub p_out_mean: Option<f64>,
    /// Mean dE/dt over tasks 2..K: the energy change across that phase divided by its duration.
    #[serde(rename = "dE_dt_mean")]
    pub energy_rate_mean: Option<f64>,
    /// Minus the slope of log10 PSD against log10 frequency of the activity signal.
    pub beta: Option<f64>,
    /// Training minibatch loss (cross-entropy plus penalties) of the last step.
    pub final_loss: Option<f64>,
}

impl Summary {
    /// Stable column names of the numeric metrics, in [`Summary::metrics`] order.
    pub const METRIC_NAMES: &'static [&'static str] = &[
        "F",
        "forgetting_rate",
        "BWT",
        "FWT",
        "ACC",
        "LA",
        "sigma_flux_mean",
        "sigma_heat_mean",
        "p_in_mean",
        "p_out_mean",
        "dE_dt_mean",
        "beta",
        "final_loss",
    ];

    /// The numeric metrics with their column names; `None` is null.
    pub fn metrics(&self) -> Vec<(&'static str, Option<f64>)> {
        let values = [
            self.forgetting,
            self.forgetting_rate,
            self.backward_transfer,
            self.forward_transfer,
            self.average_accuracy,
            self.learning_accuracy,
            self.sigma_flux_mean,
            self.sigma_heat_mean,
            self.p_in_mean,
            self.p_out_mean,
            self.energy_rate_mean,
            self.beta,
            self.final_loss,
        ];
        Self::METRIC_NAMES
            .iter()
            .copied()
            .zip(values.into_iter().map(finite_or_none))
            .collect()
    }

    /// A summary with every metric null.
    pub fn empty(steps: u64) -> Self {
        Self {
            diverged: false,
            diverged_step: None,
            steps,
            forgetting: None,
            forgetting_rate: None,
            backward_transfer: None,
            forward_transfer: None,
            average_accuracy: None,
            learning_accuracy: None,
            sigma_flux_mean: None,
            sigma_heat_mean: None,
            p_in_mean: None,
            p_out_mean: None,
            energy_rate_mean: None,
            beta: None,
            final_loss: None,
        }
    }
}

/// Maps NaN and infinities to `None`.
pub fn finite_or_none(value: Option<f64>) -> Option<f64> {
    value.filter(|number| number.is_finite())
}

/// Per-step measurements, one entry every `record_every` steps, plus the
/// per-task quantities.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Steps between stored points.
    pub record_every: u64,
    /// 0-based index of each stored step; the measurements use the state the step starts from.
    pub step: Vec<u64>,
    /// 0-based task index of each stored step.
    pub task: Vec<usize>,
    /// Minibatch loss including EWC and weight-decay penalties.
    pub loss: Vec<f64>,
    /// Information current J_l per stored step, one value per weight layer.
    pub current: Vec<Vec<f64>>,
    /// Gradient norm |g_l| per stored step, one value per weight layer.
    pub grad_norm: Vec<Vec<f64>>,
    /// Scheduled temperature T_l(t) per stored step, one value per weight layer.
    pub temperature: Vec<Vec<f64>>,
    /// sigma_flux; null where some T_l(t) is 0.
    pub sigma_flux: Vec<Option<f64>>,
    /// sigma_heat; null where some T_l(t) is 0 or for `sgld`.
    pub sigma_heat: Vec<Option<f64>>,
    /// Energy E = L + |v|^2 / 2.
    pub energy: Vec<f64>,
    /// Injected power P_in = sum_l (f_l . v_l + gamma_l n_l T_l(t)); null for `sgld`.
    pub p_in: Vec<Option<f64>>,
    /// Dissipated power P_out = sum_l gamma_l |v_l|^2; null for `sgld`.
    pub p_out: Vec<Option<f64>>,
    /// dE/dt over the window since the previous stored step (null for the first).
    pub energy_rate: Vec<Option<f64>>,
    /// Activity a(t) = mean |h| over the hidden units of the training batch.
    pub activity: Vec<f64>,
    /// Mean sigma_flux over each task's steps (null where undefined).
    pub sigma_flux_task_mean: Vec<Option<f64>>,
    /// Mean sigma_heat over each task's steps (null where undefined).
    pub sigma_heat_task_mean: Vec<Option<f64>>,
    /// Training steps of each task.
    pub task_steps: Vec<u64>,
    /// Test accuracy on earlier tasks while later tasks train.
    pub old_task_accuracy: Vec<OldTaskPoint>,
    /// Trace of the task's diagonal Fisher per weight layer, at the end of each task.
    pub fisher_trace: Vec<Vec<f64>>,
    /// Welch PSD of the activity signal (every step).
    pub psd: Option<Spectrum>,
}

/// Accuracy on every earlier task at one step of a later task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OldTaskPoint {
    /// Steps completed in the run so far.
    pub step: u64,
    /// 0-based index of the task being trained.
    pub task: usize,
    /// Test accuracy on tasks 0..task, in task order.
    pub accuracy: Vec<f64>,
}

/// A one-sided power spectral density and the power-law fit over a band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Frequencies in cycles per step.
    pub frequency: Vec<f64>,
    /// Power spectral density per (cycle per step).
    pub density: Vec<f64>,
    /// Fit band in cycles per step.
    pub band: (f64, f64),
}
