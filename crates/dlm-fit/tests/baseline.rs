//! The baseline ratio on arms with known means.

mod common;

use dlm_fit::{FitError, FitPoint, baseline_ratio};

fn arm(values: &[f64], accuracy: f64, prefix: &str) -> Vec<FitPoint> {
    values
        .iter()
        .enumerate()
        .map(|(index, &forgetting)| FitPoint {
            learning_accuracy: Some(accuracy),
            cluster: format!("{prefix}-config-{}", index / 2),
            id: format!("{prefix}-{index}"),
            ..common::run(index, 1.0, forgetting)
        })
        .collect()
}

#[test]
fn ratio_of_means_with_interval() {
    // DLM mean 0.1, baseline mean 0.24: ratio 2.4.
    // Configuration means 0.09, 0.11, 0.10 and 0.23, 0.25, 0.24.
    let dlm = arm(&[0.08, 0.10, 0.10, 0.12, 0.09, 0.11], 0.95, "dlm");
    let mut baseline = arm(&[0.22, 0.24, 0.24, 0.26, 0.22, 0.26], 0.97, "sgd");
    baseline.push(FitPoint {
        diverged: true,
        ..common::run(90, 1.0, 0.9)
    });
    baseline.push(FitPoint {
        forgetting: None,
        ..common::run(91, 1.0, 0.9)
    });

    let result = baseline_ratio(&dlm, &baseline, 1000, 5).unwrap();

    assert!((result.ratio - 2.4).abs() < 1e-12, "ratio {}", result.ratio);
    assert_eq!(result.dlm.n_used, 6);
    assert_eq!(result.baseline.n_used, 6);
    assert_eq!(result.baseline.n_diverged, 1);
    assert_eq!(result.baseline.n_forgetting_missing, 1);
    assert!((result.dlm.mean_learning_accuracy.unwrap() - 0.95).abs() < 1e-12);
    assert!((result.baseline.mean_learning_accuracy.unwrap() - 0.97).abs() < 1e-12);

    // A resample draws three configurations per arm, so its DLM mean lies
    // in [0.09, 0.11] and its baseline mean in [0.23, 0.25].
    let [low, high] = result.ratio_ci.unwrap();
    assert!(low <= 2.4, "interval [{low}, {high}]");
    assert!(2.4 <= high, "interval [{low}, {high}]");
    assert!(low >= 0.23 / 0.11 - 1e-12, "interval [{low}, {high}]");
    assert!(high <= 0.25 / 0.09 + 1e-12, "interval [{low}, {high}]");
    assert!(
        high - low > 0.1,
        "resamples differ, so the interval has width: [{low}, {high}]"
    );
    assert_eq!(result.bootstrap_failed, 0);
}

#[test]
fn ratio_undefined_cases_rejected() {
    let baseline = arm(&[0.2, 0.3], 0.9, "sgd");

    let zero_dlm = arm(&[0.0, 0.0], 0.9, "dlm");
    let error = baseline_ratio(&zero_dlm, &baseline, 10, 0).unwrap_err();
    assert!(
        matches!(error, FitError::BaselineUndefined { .. }),
        "{error:?}"
    );

    let diverged_dlm: Vec<FitPoint> = arm(&[0.1, 0.2], 0.9, "dlm")
        .into_iter()
        .map(|point| FitPoint {
            diverged: true,
            ..point
        })
        .collect();
    let error = baseline_ratio(&diverged_dlm, &baseline, 10, 0).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("DLM runs have no usable forgetting value"),
        "{error}"
    );
}
