//! Comparison of forgetting under the dissipative dynamics with forgetting
//! under a baseline, such as plain SGD with momentum, on runs matched in
//! everything but the dynamics. Matching the runs is the caller's task.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::bootstrap::percentile_interval;
use crate::error::FitError;
use crate::exclusion::check_finite;
use crate::point::FitPoint;

/// Summary of one side of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Runs that entered the means: not diverged and with a forgetting
    /// value.
    pub n_used: usize,
    pub n_diverged: usize,
    pub n_forgetting_missing: usize,
    pub mean_forgetting: f64,
    /// Mean learning accuracy of the used runs that report one; forgetting
    /// is only meaningful beside it, since a run that learned nothing
    /// has nothing to lose.
    pub mean_learning_accuracy: Option<f64>,
}

/// Ratio of mean baseline forgetting to mean DLM forgetting; above 1 means
/// the dissipative dynamics forget less.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineRatio {
    pub ratio: f64,
    /// Bootstrap 95 % interval, `null` when `bootstrap` is 0 or too few
    /// resamples had a defined ratio.
    pub ratio_ci: Option<[f64; 2]>,
    pub dlm: ArmSummary,
    pub baseline: ArmSummary,
    pub bootstrap: usize,
    /// Resamples whose DLM mean was not positive, so without a ratio.
    pub bootstrap_failed: usize,
    pub seed: u64,
}

/// Usable runs of one arm, grouped by cluster.
struct Arm {
    clusters: Vec<Vec<f64>>,
    summary: ArmSummary,
}

/// Computes the ratio and its cluster-bootstrap interval: each resample
/// draws the clusters of each arm with replacement, independently.
pub fn baseline_ratio(
    dlm: &[FitPoint],
    baseline: &[FitPoint],
    bootstrap: usize,
    seed: u64,
) -> Result<BaselineRatio, FitError> {
    check_finite(dlm)?;
    check_finite(baseline)?;
    let dlm_arm = collect_arm(dlm, "DLM")?;
    let baseline_arm = collect_arm(baseline, "baseline")?;

    if dlm_arm.summary.mean_forgetting <= 0.0 {
        return Err(FitError::BaselineUndefined {
            reason: format!(
                "mean DLM forgetting is {}, and a ratio needs a positive denominator",
                dlm_arm.summary.mean_forgetting
            ),
        });
    }
    let ratio = baseline_arm.summary.mean_forgetting / dlm_arm.summary.mean_forgetting;

    let draws: Vec<Option<f64>> = (0..bootstrap)
        .into_par_iter()
        .map(|resample| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(resample as u64);
            let dlm_mean = resampled_mean(&dlm_arm.clusters, &mut rng);
            let baseline_mean = resampled_mean(&baseline_arm.clusters, &mut rng);
            (dlm_mean > 0.0).then(|| baseline_mean / dlm_mean)
        })
        .collect();

    let mut ratios: Vec<f64> = draws.iter().flatten().copied().collect();
    let bootstrap_failed = bootstrap - ratios.len();
    Ok(BaselineRatio {
        ratio,
        ratio_ci: percentile_interval(&mut ratios),
        dlm: dlm_arm.summary,
        baseline: baseline_arm.summary,
        bootstrap,
        bootstrap_failed,
        seed,
    })
}

fn collect_arm(points: &[FitPoint], arm_name: &str) -> Result<Arm, FitError> {
    let mut cluster_names: Vec<&str> = Vec::new();
    let mut clusters: Vec<Vec<f64>> = Vec::new();
    let mut n_diverged = 0;
    let mut n_forgetting_missing = 0;
    let mut accuracies = Vec::new();

    for point in points {
        if point.diverged {
            n_diverged += 1;
            continue;
        }
        let Some(forgetting) = point.forgetting else {
            n_forgetting_missing += 1;
            continue;
        };

        let slot = match cluster_names.iter().position(|name| *name == point.cluster) {
            Some(slot) => slot,
            None => {
                cluster_names.push(&point.cluster);
                clusters.push(Vec::new());
                clusters.len() - 1
            }
        };
        clusters[slot].push(forgetting);
        accuracies.extend(point.learning_accuracy);
    }

    let values: Vec<f64> = clusters.iter().flatten().copied().collect();
    if values.is_empty() {
        return Err(FitError::BaselineUndefined {
            reason: format!(
                "the {arm_name} runs have no usable forgetting value ({} runs, {n_diverged} diverged, \
                 {n_forgetting_missing} missing)",
                points.len()
            ),
        });
    }

    Ok(Arm {
        clusters,
        summary: ArmSummary {
            n_used: values.len(),
            n_diverged,
            n_forgetting_missing,
            mean_forgetting: mean(&values),
            mean_learning_accuracy: (!accuracies.is_empty()).then(|| mean(&accuracies)),
        },
    })
}

fn resampled_mean(clusters: &[Vec<f64>], rng: &mut ChaCha8Rng) -> f64 {
    let mut sum = 0.0;
    let mut count = 0usize;
    for _ in 0..clusters.len() {
        let cluster = &clusters[rng.random_range(0..clusters.len())];
        sum += cluster.iter().sum::<f64>();
        count += cluster.len();
    }
    sum / count as f64
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}
