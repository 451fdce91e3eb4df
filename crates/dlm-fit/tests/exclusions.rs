//! Exclusions by reason, verdicts on data built to decide them, and the
//! error for every invalid input.

mod common;

use dlm_fit::{ExclusionCounts, FitError, FitOptions, FitPoint, Method, Verdict, XScale, fit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn quick_options() -> FitOptions {
    FitOptions {
        bootstrap: 0,
        permutations: 0,
        ..FitOptions::default()
    }
}

/// Ten usable runs on a falling line, ids run-0 .. run-9.
fn usable_runs() -> Vec<FitPoint> {
    common::exact_runs(
        0.5,
        1000.0,
        &[
            0.0, 100.0, 250.0, 400.0, 800.0, 900.0, 1500.0, 2000.0, 2600.0, 3000.0,
        ],
    )
}

#[test]
fn exclusions_counted_by_first_reason() {
    let mut points = usable_runs();
    let mut add = |edit: &dyn Fn(&mut FitPoint)| {
        let mut point = common::run(100 + points.len(), 500.0, 0.1);
        edit(&mut point);
        points.push(point);
    };

    add(&|point| point.diverged = true);
    add(&|point| {
        point.diverged = true;
        point.sigma = None;
    });
    add(&|point| point.sigma = None);
    add(&|point| point.forgetting = None);
    add(&|point| point.learning_accuracy = None);
    add(&|point| point.learning_accuracy = Some(0.3));
    add(&|point| point.learning_accuracy = Some(0.2));
    add(&|point| point.forgetting = Some(0.0));
    add(&|point| point.forgetting = Some(-0.05));
    add(&|point| point.sigma = Some(-3.0));
    add(&|point| point.sigma = Some(0.0));

    let options = FitOptions {
        min_learning_accuracy: Some(0.5),
        ..quick_options()
    };

    let linear = fit(&points, &options).unwrap();
    let expected_linear = ExclusionCounts {
        diverged: 2,
        sigma_undefined: 1,
        forgetting_missing: 1,
        learning_accuracy_missing: 1,
        learning_accuracy_below_threshold: 2,
        forgetting_not_positive: 2,
        sigma_not_positive: 0,
    };
    assert_eq!(linear.n_excluded, expected_linear);
    assert_eq!(
        linear.n_used, 12,
        "ten usable runs plus the two with sigma <= 0"
    );

    let log = fit(
        &points,
        &FitOptions {
            x_scale: XScale::Log,
            ..options.clone()
        },
    )
    .unwrap();
    let expected_log = ExclusionCounts {
        sigma_not_positive: 3,
        ..expected_linear
    };
    assert_eq!(
        log.n_excluded, expected_log,
        "run-0 at sigma = 0 is excluded under log too"
    );
    assert_eq!(log.n_used, 9);

    let without_threshold = fit(&points, &quick_options()).unwrap();
    assert_eq!(without_threshold.n_excluded.learning_accuracy_missing, 0);
    assert_eq!(
        without_threshold
            .n_excluded
            .learning_accuracy_below_threshold,
        0
    );
    assert_eq!(without_threshold.n_used, 15);
}

/// Twelve configurations of four seeds with ln F = slope * sigma / 1000
/// plus uniform noise of half-width `noise`.
fn trend_runs(slope: f64, noise: f64, seed: u64) -> Vec<FitPoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Vec::new();
    for configuration in 0..12 {
        let sigma = configuration as f64 * 500.0;
        for _ in 0..4 {
            let ln_f = -2.0 + slope * sigma / 1000.0 + rng.random_range(-noise..noise);
            let mut point = common::run(points.len(), sigma, ln_f.exp());
            point.cluster = format!("config-{configuration}");
            points.push(point);
        }
    }
    points
}

#[test]
fn verdicts_follow_the_interval_of_k() {
    let cases = [
        ("falling", -0.4, 0.2, Verdict::Supported),
        ("rising", 0.4, 0.2, Verdict::Contradicted),
        ("flat", 0.0, 0.5, Verdict::Inconclusive),
    ];

    for (name, slope, noise, expected) in cases {
        let points = trend_runs(slope, noise, 7);
        for method in [Method::Envelope, Method::Quantile, Method::Ols] {
            let options = FitOptions {
                method,
                bootstrap: 400,
                seed: 3,
                ..FitOptions::default()
            };
            let report = fit(&points, &options).unwrap();
            let [low, high] = report.k_ci.unwrap();

            assert_eq!(
                report.verdict,
                expected,
                "{name} data, {}: k interval [{low}, {high}]",
                method.name()
            );
        }
    }
}

#[test]
fn verdict_inconclusive_without_bootstrap() {
    let report = fit(&trend_runs(-0.4, 0.2, 7), &quick_options()).unwrap();

    assert_eq!(report.k_ci, None);
    assert_eq!(report.f0_ci, None);
    assert_eq!(report.verdict, Verdict::Inconclusive);
}

#[test]
fn spearman_and_share_above_on_known_data() {
    // F falls strictly with sigma, so rho = -1; its p-value is tiny.
    let points = usable_runs();
    let options = FitOptions {
        method: Method::Ols,
        bootstrap: 0,
        permutations: 999,
        ..FitOptions::default()
    };
    let report = fit(&points, &options).unwrap();

    assert!((report.spearman_rho.unwrap() + 1.0).abs() < 1e-12);
    assert!(
        (report.spearman_p.unwrap() - 1.0 / 1000.0).abs() < 1e-12,
        "p = {:?}",
        report.spearman_p
    );
    assert_eq!(report.share_above, 0.0, "all points lie on the fitted line");

    // Hand-computed: sigma ranks 1..5, F ranks (2, 1, 4, 3, 5) give
    // sum d^2 = 4 and rho = 1 - 6 * 4 / (5 * 24) = 0.8.
    let sigmas = [1.0, 2.0, 3.0, 4.0, 5.0];
    let forgetting = [0.2, 0.1, 0.4, 0.3, 0.5];
    let points: Vec<_> = sigmas
        .iter()
        .zip(forgetting)
        .enumerate()
        .map(|(index, (&sigma, f))| common::run(index, sigma, f))
        .collect();
    let report = fit(&points, &options).unwrap();
    assert!(
        (report.spearman_rho.unwrap() - 0.8).abs() < 1e-12,
        "rho = {:?}",
        report.spearman_rho
    );

    // Tied sigma share their mean rank: sigma ranks (1, 2.5, 2.5, 4) and F
    // ranks (1, 2, 3, 4) give rho = 4.5 / sqrt(4.5 * 5) = 0.948683...
    let points: Vec<_> = [(1.0, 0.1), (2.0, 0.2), (2.0, 0.3), (3.0, 0.4)]
        .iter()
        .enumerate()
        .map(|(index, &(sigma, f))| common::run(index, sigma, f))
        .collect();
    let report = fit(&points, &options).unwrap();
    let expected = 4.5 / (4.5f64 * 5.0).sqrt();
    assert!(
        (report.spearman_rho.unwrap() - expected).abs() < 1e-12,
        "rho = {:?}",
        report.spearman_rho
    );
}

#[test]
fn leverage_names_the_extreme_run() {
    let mut points = usable_runs();
    points.push(common::run(99, 1.0e10, 1e-3));
    let report = fit(&points, &quick_options()).unwrap();

    assert_eq!(report.leverage[0].id, "run-99");
    assert!(
        report.leverage[0].leverage > 0.99,
        "leverage {}",
        report.leverage[0].leverage
    );
    assert_eq!(report.leverage.len(), 5);
}

#[test]
fn too_few_points_rejected() {
    let mut points = usable_runs();
    points.truncate(2);
    points.push(FitPoint {
        diverged: true,
        ..common::run(50, 1.0, 0.1)
    });

    match fit(&points, &quick_options()) {
        Err(FitError::TooFewPoints {
            used,
            required,
            excluded,
        }) => {
            assert_eq!(used, 2);
            assert_eq!(required, 3);
            assert_eq!(excluded.diverged, 1);
        }
        other => panic!("expected TooFewPoints, got {other:?}"),
    }
}

#[test]
fn equal_sigma_rejected() {
    let points: Vec<_> = (0..5)
        .map(|index| common::run(index, 42.0, 0.1 + index as f64 * 0.01))
        .collect();
    let error = fit(&points, &quick_options()).unwrap_err();

    assert!(
        matches!(error, FitError::AllSigmaEqual { count: 5, value, .. } if value == 42.0),
        "{error:?}"
    );
    assert!(error.to_string().contains("sigma = 42"), "{error}");
}

/// Change applied to one run to make it invalid.
type PointEdit = fn(&mut FitPoint);

#[test]
fn non_finite_values_rejected_with_row() {
    let cases: [(&str, PointEdit); 4] = [
        ("sigma", |point| point.sigma = Some(f64::NAN)),
        ("forgetting", |point| point.forgetting = Some(f64::INFINITY)),
        ("learning_accuracy", |point| {
            point.learning_accuracy = Some(f64::NEG_INFINITY)
        }),
        ("sigma", |point| {
            point.diverged = true;
            point.sigma = Some(f64::NAN);
        }),
    ];

    for (field, edit) in cases {
        let mut points = usable_runs();
        edit(&mut points[4]);
        let error = fit(&points, &quick_options()).unwrap_err();

        assert!(
            matches!(&error, FitError::NonFinite { row, field: reported, .. } if row == "run-4" && *reported == field),
            "{error:?}"
        );
        assert!(error.to_string().contains("row run-4"), "{error}");
    }
}

#[test]
fn quantile_outside_unit_interval_rejected() {
    for q in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let options = FitOptions {
            method: Method::Quantile,
            q,
            ..quick_options()
        };
        let error = fit(&usable_runs(), &options).unwrap_err();

        assert!(
            matches!(error, FitError::InvalidQuantile { .. }),
            "q = {q}: {error:?}"
        );
        assert!(
            error.to_string().contains("strictly between 0 and 1"),
            "{error}"
        );
    }
}

#[test]
fn invalid_threshold_rejected() {
    let options = FitOptions {
        min_learning_accuracy: Some(f64::NAN),
        ..quick_options()
    };
    let error = fit(&usable_runs(), &options).unwrap_err();

    assert!(
        matches!(
            error,
            FitError::InvalidOption {
                field: "min_learning_accuracy",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn single_cluster_gives_no_interval() {
    let mut points = trend_runs(-0.4, 0.2, 7);
    for point in &mut points {
        point.cluster = "one-configuration".to_string();
    }
    let options = FitOptions {
        bootstrap: 100,
        ..FitOptions::default()
    };
    let report = fit(&points, &options).unwrap();

    assert_eq!(report.k_ci, None);
    assert_eq!(report.verdict, Verdict::Inconclusive);
    assert_eq!(report.bootstrap.clusters, 1);
}
