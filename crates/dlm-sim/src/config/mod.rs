//! The run configuration: every knob of one simulation, with its default.
//!
//! A run is a pure function of this configuration and a seed, so the types
//! here are the contract between the engine, the sweep planner, the store and
//! the HTTP layer. Every field has a default, which makes `{}` a valid
//! configuration (a small split-digits DLM run). Units are given per field:
//! "steps" counts training steps, time is measured in units of `dt` per step.

mod canonical;
mod per_layer;
pub(crate) mod validate;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use per_layer::PerLayer;

/// Version of the engine's numerics. It changes whenever any run's numbers
/// can change, so stored results of an older version are never reused.
pub const MODEL_VERSION: &str = "dlm-sim/3";

/// One simulation: data, task sequence, network, dynamics, EWC and spectrum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub data: DataConfig,
    pub tasks: TaskConfig,
    pub model: ModelConfig,
    pub dynamics: DynamicsConfig,
    pub ewc: EwcConfig,
    pub psd: PsdConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            data: DataConfig::default(),
            tasks: TaskConfig::default(),
            model: ModelConfig::default(),
            dynamics: DynamicsConfig::default(),
            ewc: EwcConfig::default(),
            psd: PsdConfig::default(),
        }
    }
}

impl RunConfig {
    /// Number of weight layers `L` of the network (hidden layers plus output).
    pub fn weight_layers(&self) -> usize {
        self.model.hidden.len() + 1
    }

    /// Returns the matched baseline of this run.
    ///
    /// Data, tasks, model, step size, dissipation, weight decay and the
    /// treatment of inactive heads stay; only `dynamics` (and `ewc` for
    /// [`Baseline::Ewc`]) is replaced. `sgd` keeps `dt` and `gamma`, so it is
    /// heavy-ball SGD with momentum `1 - gamma*dt` and learning rate `dt^2`.
    /// `sgld` keeps the temperature and its schedule with the step size
    /// `dt^2`. `ewc` is the `sgd` baseline with the EWC penalty enabled at
    /// the configured `ewc.lambda`.
    pub fn to_baseline(&self, baseline: Baseline) -> RunConfig {
        let current = &self.dynamics;
        let mut dynamics = DynamicsConfig {
            dt: current.dt,
            gamma: current.gamma.clone(),
            inactive_heads: current.inactive_heads,
            weight_decay: current.weight_decay,
            ..DynamicsConfig::default()
        };
        let mut ewc = self.ewc.clone();

        match baseline {
            Baseline::Sgd => {
                dynamics.method = Method::Sgd;
                dynamics.temperature = PerLayer::Scalar(0.0);
                dynamics.alpha = PerLayer::Scalar(0.0);
            }
            Baseline::Sgld => {
                dynamics.method = Method::Sgld;
                dynamics.temperature = current.temperature.clone();
                dynamics.schedule = current.schedule.clone();
                dynamics.alpha = PerLayer::Scalar(0.0);
                dynamics.sgld_eta = None;
            }
            Baseline::Ewc => {
                dynamics.method = Method::Sgd;
                dynamics.temperature = PerLayer::Scalar(0.0);
                dynamics.alpha = PerLayer::Scalar(0.0);
                ewc.enabled = true;
            }
        }

        RunConfig {
            dynamics,
            ewc,
            ..self.clone()
        }
    }
}

/// The standard training schemes a DLM run is compared against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Heavy-ball SGD at the same `dt` and `gamma`.
    Sgd,
    /// Overdamped Langevin dynamics at the same temperature.
    Sgld,
    /// Heavy-ball SGD with the online EWC penalty.
    Ewc,
}

impl Baseline {
    pub const ALL: [Baseline; 3] = [Baseline::Sgd, Baseline::Sgld, Baseline::Ewc];

    pub fn as_str(self) -> &'static str {
        match self {
            Baseline::Sgd => "sgd",
            Baseline::Sgld => "sgld",
            Baseline::Ewc => "ewc",
        }
    }
}

impl fmt::Display for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Baseline {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Baseline::ALL
            .into_iter()
            .find(|baseline| baseline.as_str() == text)
            .ok_or_else(|| ConfigError {
                field: "baseline".into(),
                value: text.into(),
                reason: "unknown baseline; use sgd, sgld or ewc".into(),
            })
    }
}

/// An invalid configuration value: the dotted field path, the value as
/// written and the reason, which ends with how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {field} = {value}: {reason}")]
pub struct ConfigError {
    pub field: String,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Source of the examples the tasks draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    /// The built-in 8x8 handwritten digits (UCI optdigits, 1,797 images).
    Digits,
    /// An IDX image file and an IDX label file (the MNIST format).
    Idx,
    /// A CSV file with a header row, one label column and numeric features.
    Csv,
    /// Gaussian inputs labelled by a random teacher network.
    Teacher,
}

/// Data source and its train/test split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Data set; default `digits`.
    pub dataset: DatasetKind,
    /// `idx`: the image file; `csv`: the CSV file. Default none.
    pub path: Option<PathBuf>,
    /// `idx`: the label file matching `path`. Default none.
    pub labels_path: Option<PathBuf>,
    /// Optional held-out test file (IDX images or CSV). Without it the test
    /// set is a stratified `test_fraction` of `path`. Default none.
    pub test_path: Option<PathBuf>,
    /// `idx`: the label file matching `test_path`. Default none.
    pub test_labels_path: Option<PathBuf>,
    /// `csv`: name of the label column in the header row; default `label`.
    pub label_column: String,
    /// Divisor applied to every input feature; default by data set:
    /// 16 for digits (pixels 0..16), 255 for IDX (bytes), 1 for CSV and teacher.
    pub input_scale: Option<f64>,
    /// Share of each class held out for testing when there is no test file;
    /// default 0.2 (digits: 1,437 train / 360 test images).
    pub test_fraction: f64,
    /// Seed of the train/test split, the feature permutations and the
    /// teacher networks. A property of the data set, not of the run: keep it
    /// fixed across a sweep so every run is scored on the same test set.
    /// Default 0.
    pub data_seed: u64,
    /// Synthetic teacher data set (`dataset = "teacher"`).
    pub teacher: TeacherConfig,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetKind::Digits,
            path: None,
            labels_path: None,
            test_path: None,
            test_labels_path: None,
            label_column: "label".into(),
            input_scale: None,
            test_fraction: 0.2,
            data_seed: 0,
            teacher: TeacherConfig::default(),
        }
    }
}

impl DataConfig {
    /// Returns the divisor applied to raw features: the configured one or
    /// the data set's default.
    pub fn effective_input_scale(&self) -> f64 {
        if let Some(scale) = self.input_scale {
            return scale;
        }
        match self.dataset {
            DatasetKind::Digits => 16.0,
            DatasetKind::Idx => 255.0,
            DatasetKind::Csv | DatasetKind::Teacher => 1.0,
        }
    }
}

/// Size of the synthetic teacher data: Gaussian inputs, labels from the
/// arg-max of a random one-hidden-layer tanh network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeacherConfig {
    /// Input dimension; default 20.
    pub inputs: usize,
    /// Number of classes (teacher outputs); default 10.
    pub classes: usize,
    /// Number of examples, train and test together; default 2000.
    pub samples: usize,
    /// Hidden units of each teacher network; default 32.
    pub hidden: usize,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        Self {
            inputs: 20,
            classes: 10,
            samples: 2000,
            hidden: 32,
        }
    }
}

/// Kind of task sequence cut from the data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Disjoint groups of classes, `classes_per_task` each, in label order.
    Split,
    /// All classes; task 1 uses the raw inputs, task k > 1 a fixed permutation
    /// of the input features.
    Permuted,
    /// All classes; task k relabels the inputs with its own teacher network.
    Teacher,
}

/// Task-incremental (one head per task) or class-incremental (shared head).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Training and evaluation of task k use only task k's logits.
    Task,
    /// One shared head: every task trains and is scored on all logits.
    Class,
}

/// The continual-learning sequence and its schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskConfig {
    /// Sequence kind; default `split`.
    pub kind: TaskKind,
    /// Only for `split`; default `task` (task-incremental).
    pub scenario: Scenario,
    /// Number of tasks K; default 5.
    pub num_tasks: usize,
    /// Classes per task of a `split` sequence; default 2 (digits: {0,1}, ..., {8,9}).
    pub classes_per_task: usize,
    /// Training steps (minibatches) per task; default 500.
    pub steps_per_task: u64,
    /// When set, each task trains this many epochs instead of
    /// `steps_per_task` steps (an epoch is the task's training examples
    /// divided by `batch_size`, rounded down). Default none.
    pub epochs_per_task: Option<u64>,
    /// Examples per minibatch; default 32.
    pub batch_size: usize,
    /// Steps between two stored points of the per-step series; default 10.
    pub record_every: u64,
    /// Steps between two test evaluations of the earlier tasks while a later
    /// task trains (old-task accuracy curves); default 50.
    pub eval_every: u64,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            kind: TaskKind::Split,
            scenario: Scenario::Task,
            num_tasks: 5,
            classes_per_task: 2,
            steps_per_task: 500,
            epochs_per_task: None,
            batch_size: 32,
            record_every: 10,
            eval_every: 50,
        }
    }
}

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
}

/// The multilayer perceptron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Units of each hidden layer; default [128, 128].
    pub hidden: Vec<usize>,
    /// Hidden nonlinearity; default `relu` (He-normal init; `tanh` uses Glorot-normal).
    pub activation: Activation,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            hidden: vec![128, 128],
            activation: Activation::Relu,
        }
    }
}

/// The training dynamics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Underdamped Langevin dynamics with the current-coupled force.
    Dlm,
    /// Heavy-ball SGD: DLM with temperature and coupling forced to 0.
    Sgd,
    /// Overdamped Langevin dynamics (stochastic gradient Langevin dynamics).
    Sgld,
}

/// Form of the temperature schedule `s(t)` in `T_l(t) = T_l * s(t)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// s = 1.
    Constant,
    /// s = 1 / (1 + t/tau), t in steps since the start of the run.
    Hyperbolic,
    /// s = exp(-t/tau), t in steps since the start of the run.
    Exponential,
    /// s = (1 + cos(pi i / S)) / 2 for step i = 0..S-1 of a task of S steps.
    Cyclic,
}

/// Temperature schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Schedule {
    /// Default `constant`.
    pub kind: ScheduleKind,
    /// Time constant in steps for `hyperbolic` and `exponential`; default 1000.
    pub tau: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Constant,
            tau: 1000.0,
        }
    }
}

/// Coupling form `c(J)` of the current force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coupling {
    /// c(J) = J.
    Linear,
    /// c(J) = tanh(J).
    Tanh,
    /// c(J) = J |J|.
    Quadratic,
}

/// Unit direction of the current force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Along the layer's velocity.
    Velocity,
    /// Along the gradient of the layer's current with respect to its parameters.
    CurrentGradient,
}

/// Time discretisation of friction and noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrator {
    /// Semi-implicit Euler-Maruyama.
    Euler,
    /// Exact Ornstein-Uhlenbeck step for friction and noise.
    OuExact,
}

/// Treatment of the output rows of tasks other than the active one in the
/// task-incremental scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InactiveHeads {
    /// Noise and force act on them like on every other parameter.
    Diffuse,
    /// They are left out of the update (parameters and velocities unchanged).
    Frozen,
}

/// Every key of the update rule, so a matched baseline replaces this section only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamicsConfig {
    /// Default `dlm`.
    pub method: Method,
    /// Time step per training step; default 0.1 (heavy-ball learning rate dt^2 = 0.01).
    pub dt: f64,
    /// Dissipation gamma_l per unit time, scalar or one per weight layer; default 1
    /// (heavy-ball momentum 1 - gamma*dt = 0.9). Must satisfy gamma*dt < 1.
    pub gamma: PerLayer,
    /// Base temperature T_l in loss units, scalar or one per weight layer; default 1e-5.
    pub temperature: PerLayer,
    /// Coupling strength alpha_l (force per unit current), scalar or one per
    /// weight layer; default 0.01 (0.1 with linear velocity coupling runs away on digits).
    pub alpha: PerLayer,
    /// Temperature schedule; default constant.
    pub schedule: Schedule,
    /// Coupling form c(J); default `linear`.
    pub coupling: Coupling,
    /// Force direction; default `velocity`.
    pub direction: Direction,
    /// Default `euler`.
    pub integrator: Integrator,
    /// Default `diffuse`.
    pub inactive_heads: InactiveHeads,
    /// Coefficient lambda of the confining term lambda/2 |theta|^2 added to the loss; default 0.
    pub weight_decay: f64,
    /// `sgld` step size eta; default none, meaning dt^2 (the heavy-ball learning rate).
    pub sgld_eta: Option<f64>,
}

impl Default for DynamicsConfig {
    fn default() -> Self {
        Self {
            method: Method::Dlm,
            dt: 0.1,
            gamma: PerLayer::Scalar(1.0),
            temperature: PerLayer::Scalar(1e-5),
            alpha: PerLayer::Scalar(0.01),
            schedule: Schedule::default(),
            coupling: Coupling::Linear,
            direction: Direction::Velocity,
            integrator: Integrator::Euler,
            inactive_heads: InactiveHeads::Diffuse,
            weight_decay: 0.0,
            sgld_eta: None,
        }
    }
}

impl DynamicsConfig {
    /// Returns the `sgld` step size: the configured one or dt^2.
    pub fn effective_sgld_eta(&self) -> f64 {
        self.sgld_eta.unwrap_or(self.dt * self.dt)
    }
}

/// Kind of diagonal Fisher information used by EWC and the Fisher traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FisherKind {
    /// Squared per-example gradients with the true labels.
    Empirical,
    /// Squared per-example gradients averaged over labels drawn from the
    /// model's own predictive distribution (computed exactly, no sampling).
    Exact,
}

/// Online elastic weight consolidation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EwcConfig {
    /// Add the penalty (lambda/2) sum_i F_i (theta_i - theta*_i)^2; default false.
    pub enabled: bool,
    /// Penalty strength lambda; default 100 (see docs/model.md).
    pub lambda: f64,
    /// Online accumulation F <- decay * F + F_task; default 1.
    pub decay: f64,
    /// Default `empirical`.
    pub fisher: FisherKind,
}

impl Default for EwcConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            lambda: 100.0,
            decay: 1.0,
            fisher: FisherKind::Empirical,
        }
    }
}

/// Welch power spectral density of the activity signal and its slope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PsdConfig {
    /// Segment length in steps; default 256.
    pub nperseg: usize,
    /// Lower edge of the fit band in cycles per step; default 4/nperseg.
    pub band_low: Option<f64>,
    /// Upper edge of the fit band in cycles per step; default 1/4.
    pub band_high: Option<f64>,
}

impl Default for PsdConfig {
    fn default() -> Self {
        Self {
            nperseg: 256,
            band_low: None,
            band_high: None,
        }
    }
}

impl PsdConfig {
    /// Returns the fit band `(low, high)` in cycles per step with defaults filled in.
    pub fn effective_band(&self) -> (f64, f64) {
        let low = self.band_low.unwrap_or(4.0 / self.nperseg as f64);
        let high = self.band_high.unwrap_or(0.25);
        (low, high)
    }
}
