//! Every rule a configuration must satisfy before any work starts.
//!
//! Each error names the dotted field, the value and the allowed range. Rules
//! that depend on the size of a user's data file (IDX, CSV) are checked again
//! once the file is loaded, still before the first training step.

use super::{
    ConfigError, DataConfig, DatasetKind, DynamicsConfig, EwcConfig, ModelConfig, PerLayer,
    PsdConfig, RunConfig, Scenario, ScheduleKind, TaskConfig, TaskKind,
};
use crate::data::digits;

impl RunConfig {
    /// Checks every rule and returns the first violation.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_data(&self.data)?;
        validate_model(&self.model)?;
        validate_tasks(&self.tasks, &self.data)?;
        validate_dynamics(&self.dynamics, self.weight_layers())?;
        validate_ewc(&self.ewc)?;
        validate_psd(&self.psd)?;
        Ok(())
    }
}

fn finite_at_least(field: &str, value: f64, minimum: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || value < minimum {
        return Err(ConfigError::new(
            field,
            value,
            format!("must be a finite number >= {minimum}"),
        ));
    }
    Ok(())
}

fn finite_positive(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || value <= 0.0 {
        return Err(ConfigError::new(
            field,
            value,
            "must be a finite number > 0",
        ));
    }
    Ok(())
}

fn validate_data(data: &DataConfig) -> Result<(), ConfigError> {
    if !(data.test_fraction > 0.0 && data.test_fraction < 1.0) {
        return Err(ConfigError::new(
            "data.test_fraction",
            data.test_fraction,
            "must lie strictly between 0 and 1 (default 0.2)",
        ));
    }
    if let Some(scale) = data.input_scale {
        finite_positive("data.input_scale", scale)?;
    }

    match data.dataset {
        DatasetKind::Digits => {}
        DatasetKind::Idx => {
            if data.path.is_none() {
                return Err(ConfigError::new(
                    "data.path",
                    "(missing)",
                    "dataset idx needs the IDX image file; set data.path",
                ));
            }
            if data.labels_path.is_none() {
                return Err(ConfigError::new(
                    "data.labels_path",
                    "(missing)",
                    "dataset idx needs the IDX label file; set data.labels_path",
                ));
            }
            if data.test_path.is_some() != data.test_labels_path.is_some() {
                return Err(ConfigError::new(
                    "data.test_labels_path",
                    format!("{:?}", data.test_labels_path),
                    "an IDX test set needs both data.test_path and data.test_labels_path; set both or neither",
                ));
            }
        }
        DatasetKind::Csv => {
            if data.path.is_none() {
                return Err(ConfigError::new(
                    "data.path",
                    "(missing)",
                    "dataset csv needs a CSV file; set data.path",
                ));
            }
            if data.label_column.is_empty() {
                return Err(ConfigError::new(
                    "data.label_column",
                    "\"\"",
                    "must name the label column of the CSV header",
                ));
            }
        }
        DatasetKind::Teacher => {
            let teacher = &data.teacher;
            if teacher.inputs == 0 {
                return Err(ConfigError::new(
                    "data.teacher.inputs",
                    0,
                    "must be at least 1",
                ));
            }
            if teacher.classes < 2 {
                return Err(ConfigError::new(
                    "data.teacher.classes",
                    teacher.classes,
                    "must be at least 2",
                ));
            }
            if teacher.hidden == 0 {
                return Err(ConfigError::new(
                    "data.teacher.hidden",
                    0,
                    "must be at least 1",
                ));
            }
            if teacher.samples < 10 {
                return Err(ConfigError::new(
                    "data.teacher.samples",
                    teacher.samples,
                    "must be at least 10 so both train and test sets are non-empty",
                ));
            }
        }
    }
    Ok(())
}

fn validate_model(model: &ModelConfig) -> Result<(), ConfigError> {
    if model.hidden.is_empty() {
        return Err(ConfigError::new(
            "model.hidden",
            "[]",
            "needs at least one hidden layer, e.g. [128, 128]",
        ));
    }
    for (index, units) in model.hidden.iter().enumerate() {
        if *units == 0 {
            return Err(ConfigError::new(
                format!("model.hidden[{index}]"),
                units,
                "a hidden layer needs at least 1 unit",
            ));
        }
    }
    Ok(())
}

/// Number of classes the data set is known to have before loading, if any.
fn known_classes(data: &DataConfig) -> Option<usize> {
    match data.dataset {
        DatasetKind::Digits => Some(digits::NUM_CLASSES),
        DatasetKind::Teacher => Some(data.teacher.classes),
        DatasetKind::Idx | DatasetKind::Csv => None,
    }
}

fn validate_tasks(tasks: &TaskConfig, data: &DataConfig) -> Result<(), ConfigError> {
    if tasks.num_tasks == 0 {
        return Err(ConfigError::new("tasks.num_tasks", 0, "must be at least 1"));
    }
    if tasks.steps_per_task == 0 {
        return Err(ConfigError::new(
            "tasks.steps_per_task",
            0,
            "must be at least 1",
        ));
    }
    if tasks.epochs_per_task == Some(0) {
        return Err(ConfigError::new(
            "tasks.epochs_per_task",
            0,
            "must be at least 1, or left out to use tasks.steps_per_task",
        ));
    }
    if tasks.batch_size == 0 {
        return Err(ConfigError::new(
            "tasks.batch_size",
            0,
            "must be at least 1",
        ));
    }
    if tasks.record_every == 0 {
        return Err(ConfigError::new(
            "tasks.record_every",
            0,
            "must be at least 1",
        ));
    }
    if tasks.eval_every == 0 {
        return Err(ConfigError::new(
            "tasks.eval_every",
            0,
            "must be at least 1",
        ));
    }
    if tasks.kind == TaskKind::Teacher && data.dataset != DatasetKind::Teacher {
        return Err(ConfigError::new(
            "tasks.kind",
            "teacher",
            "teacher tasks relabel the synthetic teacher inputs; set data.dataset = \"teacher\"",
        ));
    }

    if tasks.kind == TaskKind::Split {
        let minimum = match tasks.scenario {
            Scenario::Task => 2,
            Scenario::Class => 1,
        };
        if tasks.classes_per_task < minimum {
            return Err(ConfigError::new(
                "tasks.classes_per_task",
                tasks.classes_per_task,
                format!("must be at least {minimum} for this scenario"),
            ));
        }
        if let Some(classes) = known_classes(data) {
            check_split_fits(tasks, classes)?;
        }
    }

    if data.dataset == DatasetKind::Digits {
        let smallest = digits::smallest_task_train_size(tasks, data.test_fraction);
        check_batch_fits(tasks.batch_size, smallest)?;
    }
    if data.dataset == DatasetKind::Teacher {
        // The exact per-task count depends on the teacher's labels; this is
        // the bound for the whole training set, rechecked after generation.
        let train = data.teacher.samples
            - (data.teacher.samples as f64 * data.test_fraction).round() as usize;
        check_batch_fits(tasks.batch_size, train)?;
    }
    Ok(())
}

/// Rejects a split sequence that needs more classes than the data set has.
pub(crate) fn check_split_fits(tasks: &TaskConfig, classes: usize) -> Result<(), ConfigError> {
    // Huge counts from a sweep file must give this error, not an overflow.
    let needed = tasks.num_tasks.checked_mul(tasks.classes_per_task);
    if needed.is_none_or(|needed| needed > classes) {
        let needed = needed.map_or_else(|| "more".to_string(), |needed| needed.to_string());
        return Err(ConfigError::new(
            "tasks.num_tasks",
            tasks.num_tasks,
            format!(
                "{} split tasks of {} classes need {needed} classes but the data set has {classes}; \
                 use at most {} tasks",
                tasks.num_tasks,
                tasks.classes_per_task,
                classes / tasks.classes_per_task
            ),
        ));
    }
    Ok(())
}

/// Rejects a batch larger than the smallest task's training set.
pub(crate) fn check_batch_fits(
    batch_size: usize,
    smallest_train: usize,
) -> Result<(), ConfigError> {
    if batch_size > smallest_train {
        return Err(ConfigError::new(
            "tasks.batch_size",
            batch_size,
            format!(
                "larger than the smallest task's training set ({smallest_train} examples); \
                 use at most {smallest_train}"
            ),
        ));
    }
    Ok(())
}

fn check_per_layer(
    field: &str,
    value: &PerLayer,
    layers: usize,
    check: impl Fn(&str, f64) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    if !value.len_matches(layers) {
        return Err(ConfigError::new(
            field,
            value,
            format!(
                "a per-layer list needs one value per weight layer ({layers} for this model), \
                 or give a single number"
            ),
        ));
    }
    for (index, item) in value.values().iter().enumerate() {
        let item_field = match value {
            PerLayer::Scalar(_) => field.to_string(),
            PerLayer::Layers(_) => format!("{field}[{index}]"),
        };
        check(&item_field, *item)?;
    }
    Ok(())
}

fn validate_dynamics(dynamics: &DynamicsConfig, layers: usize) -> Result<(), ConfigError> {
    finite_positive("dynamics.dt", dynamics.dt)?;
    let dt = dynamics.dt;

    check_per_layer("dynamics.gamma", &dynamics.gamma, layers, |field, gamma| {
        finite_at_least(field, gamma, 0.0)?;
        if gamma * dt >= 1.0 {
            return Err(ConfigError::new(
                field,
                gamma,
                format!(
                    "gamma*dt must be below 1 (got {}); lower gamma or dt",
                    gamma * dt
                ),
            ));
        }
        Ok(())
    })?;
    check_per_layer(
        "dynamics.temperature",
        &dynamics.temperature,
        layers,
        |field, value| finite_at_least(field, value, 0.0),
    )?;
    check_per_layer("dynamics.alpha", &dynamics.alpha, layers, |field, value| {
        if !value.is_finite() {
            return Err(ConfigError::new(field, value, "must be a finite number"));
        }
        Ok(())
    })?;

    let needs_tau = matches!(
        dynamics.schedule.kind,
        ScheduleKind::Hyperbolic | ScheduleKind::Exponential
    );
    if needs_tau {
        finite_positive("dynamics.schedule.tau", dynamics.schedule.tau)?;
    }
    finite_at_least("dynamics.weight_decay", dynamics.weight_decay, 0.0)?;
    if let Some(eta) = dynamics.sgld_eta {
        finite_positive("dynamics.sgld_eta", eta)?;
    }
    Ok(())
}

fn validate_ewc(ewc: &EwcConfig) -> Result<(), ConfigError> {
    finite_at_least("ewc.lambda", ewc.lambda, 0.0)?;
    if !(0.0..=1.0).contains(&ewc.decay) {
        return Err(ConfigError::new(
            "ewc.decay",
            ewc.decay,
            "must lie in [0, 1] (1 keeps every earlier task's Fisher in full)",
        ));
    }
    Ok(())
}

fn validate_psd(psd: &PsdConfig) -> Result<(), ConfigError> {
    if psd.nperseg < 8 {
        return Err(ConfigError::new(
            "psd.nperseg",
            psd.nperseg,
            "must be at least 8 steps (default 256)",
        ));
    }
    let (low, high) = psd.effective_band();
    if !(low.is_finite() && low > 0.0) {
        return Err(ConfigError::new(
            "psd.band_low",
            low,
            "must be a frequency above 0 in cycles per step",
        ));
    }
    if !(high.is_finite() && high <= 0.5) {
        return Err(ConfigError::new(
            "psd.band_high",
            high,
            "must be at most the Nyquist frequency 0.5 cycles per step",
        ));
    }
    if low >= high {
        return Err(ConfigError::new(
            "psd.band_low",
            low,
            format!("must be below psd.band_high ({high})"),
        ));
    }
    Ok(())
}
