//! Warnings and leverage on synthetic sweeps whose answer is known: one
//! runaway run that carries the slope, and a clean trend that needs no
//! warning.

mod common;

use dlm_fit::{FitOptions, FitPoint, WarningKind, XScale, fit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Thirty runs whose forgetting does not depend on sigma (1 to 100), plus
/// one runaway run at sigma = 5.5e30 with low forgetting.
fn runaway_sweep() -> Vec<FitPoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut points: Vec<FitPoint> = (0..30)
        .map(|index| {
            common::run(
                index,
                rng.random_range(1.0..100.0),
                rng.random_range(0.05..0.3),
            )
        })
        .collect();
    points.push(common::run(30, 5.5e30, 0.02));
    points
}

/// Thirty runs on a clear decreasing trend over sigma 100 to 3,000, with
/// noise well below the trend.
fn clean_sweep() -> Vec<FitPoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    (0..30)
        .map(|index| {
            let sigma = 100.0 + 100.0 * index as f64;
            let forgetting = 0.5 * (-sigma / 1000.0).exp() * rng.random_range(0.9..1.0);
            common::run(index, sigma, forgetting)
        })
        .collect()
}

fn kinds(points: &[FitPoint], x_scale: XScale) -> Vec<WarningKind> {
    let options = FitOptions {
        x_scale,
        bootstrap: 200,
        ..FitOptions::default()
    };
    let report = fit(points, &options).unwrap();
    report.warnings.iter().map(|warning| warning.kind).collect()
}

#[test]
fn runaway_run_warns_on_linear_scale() {
    let kinds = kinds(&runaway_sweep(), XScale::Linear);

    assert!(kinds.contains(&WarningKind::HighLeverage), "{kinds:?}");
    assert!(kinds.contains(&WarningKind::WideSigmaRange), "{kinds:?}");
    assert!(!kinds.contains(&WarningKind::FewClusters), "{kinds:?}");
}

#[test]
fn runaway_run_verdict_without_rank_trend_warns() {
    let options = FitOptions {
        bootstrap: 200,
        ..FitOptions::default()
    };
    let report = fit(&runaway_sweep(), &options).unwrap();
    let p = report.spearman_p.unwrap();
    let kinds: Vec<WarningKind> = report.warnings.iter().map(|warning| warning.kind).collect();

    assert!(p > 0.05, "forgetting is independent of sigma, p = {p}");
    assert_eq!(
        kinds.contains(&WarningKind::NoMonotoneTrend),
        report.verdict != dlm_fit::Verdict::Inconclusive,
        "{:?} with {kinds:?}",
        report.verdict
    );
}

#[test]
fn log_scale_has_no_range_warning() {
    let kinds = kinds(&runaway_sweep(), XScale::Log);

    assert!(!kinds.contains(&WarningKind::WideSigmaRange), "{kinds:?}");
}

#[test]
fn clean_trend_has_no_warnings() {
    let kinds = kinds(&clean_sweep(), XScale::Linear);

    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
fn few_configurations_warn() {
    let mut points = clean_sweep();
    for (index, point) in points.iter_mut().enumerate() {
        point.cluster = format!("config-{}", index % 9);
    }

    let kinds = kinds(&points, XScale::Linear);

    assert!(kinds.contains(&WarningKind::FewClusters), "{kinds:?}");
}

#[test]
fn leverage_never_exceeds_one() {
    // In double precision the hat value of the last run is
    // 1/6 + (x - mean)^2 / sxx = 1.0000000000000002 before clamping.
    let sigmas = [50.0, 40.0, 6.0, 42.0, 24.0, 1.0e12];
    let points = common::exact_runs(0.5, 1.0e11, &sigmas);
    let options = FitOptions {
        bootstrap: 0,
        ..FitOptions::default()
    };

    let report = fit(&points, &options).unwrap();

    assert_eq!(report.leverage[0].id, "run-5");
    assert_eq!(report.leverage[0].leverage, 1.0);
    for point in &report.leverage {
        assert!((0.0..=1.0).contains(&point.leverage), "{point:?}");
    }
}
