//! Selection of the runs a fit may use, with every excluded run counted
//! under the first reason that applies to it.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::error::FitError;
use crate::point::FitPoint;

/// Number of runs left out of a fit, by reason. A run is counted once,
/// under the first reason in field order that applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExclusionCounts {
    pub diverged: usize,
    pub sigma_undefined: usize,
    pub forgetting_missing: usize,
    pub learning_accuracy_missing: usize,
    pub learning_accuracy_below_threshold: usize,
    /// F <= 0 has no logarithm.
    pub forgetting_not_positive: usize,
    /// Only under the log x-scale: sigma <= 0 has no logarithm.
    pub sigma_not_positive: usize,
}

impl ExclusionCounts {
    /// Total number of excluded runs.
    pub fn total(&self) -> usize {
        self.diverged
            + self.sigma_undefined
            + self.forgetting_missing
            + self.learning_accuracy_missing
            + self.learning_accuracy_below_threshold
            + self.forgetting_not_positive
            + self.sigma_not_positive
    }

    fn record(&mut self, reason: Exclusion) {
        let counter = match reason {
            Exclusion::Diverged => &mut self.diverged,
            Exclusion::SigmaUndefined => &mut self.sigma_undefined,
            Exclusion::ForgettingMissing => &mut self.forgetting_missing,
            Exclusion::LearningAccuracyMissing => &mut self.learning_accuracy_missing,
            Exclusion::LearningAccuracyBelowThreshold => {
                &mut self.learning_accuracy_below_threshold
            }
            Exclusion::ForgettingNotPositive => &mut self.forgetting_not_positive,
            Exclusion::SigmaNotPositive => &mut self.sigma_not_positive,
        };
        *counter += 1;
    }
}

impl fmt::Display for ExclusionCounts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "diverged {}, sigma undefined {}, forgetting missing {}, learning accuracy missing {}, \
             learning accuracy below threshold {}, forgetting <= 0 {}, sigma <= 0 under log scale {}",
            self.diverged,
            self.sigma_undefined,
            self.forgetting_missing,
            self.learning_accuracy_missing,
            self.learning_accuracy_below_threshold,
            self.forgetting_not_positive,
            self.sigma_not_positive,
        )
    }
}

/// Reason a run is left out of a fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    Diverged,
    SigmaUndefined,
    ForgettingMissing,
    LearningAccuracyMissing,
    LearningAccuracyBelowThreshold,
    ForgettingNotPositive,
    SigmaNotPositive,
}

/// Filters applied to every run before a fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Selection {
    pub log_x: bool,
    pub min_learning_accuracy: Option<f64>,
}

/// Returns the first reason that excludes `point`, or `None` when it is
/// usable.
pub(crate) fn exclusion_reason(point: &FitPoint, selection: Selection) -> Option<Exclusion> {
    if point.diverged {
        return Some(Exclusion::Diverged);
    }

    let Some(sigma) = point.sigma else {
        return Some(Exclusion::SigmaUndefined);
    };
    let Some(forgetting) = point.forgetting else {
        return Some(Exclusion::ForgettingMissing);
    };

    if let Some(threshold) = selection.min_learning_accuracy {
        let Some(accuracy) = point.learning_accuracy else {
            return Some(Exclusion::LearningAccuracyMissing);
        };
        if accuracy < threshold {
            return Some(Exclusion::LearningAccuracyBelowThreshold);
        }
    }

    if forgetting <= 0.0 {
        return Some(Exclusion::ForgettingNotPositive);
    }
    if selection.log_x && sigma <= 0.0 {
        return Some(Exclusion::SigmaNotPositive);
    }
    None
}

/// Rejects NaN and infinite values anywhere in the input, naming the row.
pub(crate) fn check_finite(points: &[FitPoint]) -> Result<(), FitError> {
    for point in points {
        let fields = [
            ("sigma", point.sigma),
            ("forgetting", point.forgetting),
            ("learning_accuracy", point.learning_accuracy),
        ];
        for (field, value) in fields {
            if let Some(value) = value
                && !value.is_finite()
            {
                return Err(FitError::NonFinite {
                    row: point.id.clone(),
                    field,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// The usable runs of one fit in fit coordinates, with their clusters.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// x of each usable run: sigma or log10 sigma. Shape [n_used].
    pub xs: Vec<f64>,
    /// ln F of each usable run. Shape [n_used].
    pub ys: Vec<f64>,
    /// Index into the caller's points of each usable run. Shape [n_used].
    pub source: Vec<usize>,
    /// Usable-run indices of each cluster, clusters in order of first
    /// appearance. Shape [n_clusters][runs in cluster].
    pub clusters: Vec<Vec<usize>>,
    pub excluded: ExclusionCounts,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.xs.len()
    }
}

/// Selects the usable runs and converts them to fit coordinates.
pub(crate) fn prepare(points: &[FitPoint], selection: Selection) -> Prepared {
    let mut prepared = Prepared {
        xs: Vec::new(),
        ys: Vec::new(),
        source: Vec::new(),
        clusters: Vec::new(),
        excluded: ExclusionCounts::default(),
    };
    let mut cluster_slots: HashMap<&str, usize> = HashMap::new();

    for (index, point) in points.iter().enumerate() {
        if let Some(reason) = exclusion_reason(point, selection) {
            prepared.excluded.record(reason);
            continue;
        }

        // Both values exist: exclusion_reason checked them.
        let sigma = point.sigma.unwrap_or_default();
        let forgetting = point.forgetting.unwrap_or_default();
        let x = if selection.log_x {
            sigma.log10()
        } else {
            sigma
        };

        let position = prepared.xs.len();
        prepared.xs.push(x);
        prepared.ys.push(forgetting.ln());
        prepared.source.push(index);

        let slot = *cluster_slots
            .entry(point.cluster.as_str())
            .or_insert_with(|| {
                prepared.clusters.push(Vec::new());
                prepared.clusters.len() - 1
            });
        prepared.clusters[slot].push(position);
    }
    prepared
}
