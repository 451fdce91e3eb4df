//! Per-group fits beside the pooled one.

mod common;

use dlm_fit::{FitOptions, Method, fit_groups};

#[test]
fn groups_fitted_separately() {
    // Two temperatures: each group decays with its own rate, and a third
    // group has too few runs to fit.
    let mut points = Vec::new();
    for (group, sigma0) in [("T=0.01", 1000.0), ("T=0.1", 4000.0)] {
        for mut point in common::exact_runs(0.3, sigma0, &[0.0, 500.0, 1200.0, 2000.0, 3500.0]) {
            point.group = Some(group.to_string());
            point.id = format!("{group}-{}", point.id);
            points.push(point);
        }
    }
    let mut lonely = common::run(77, 10.0, 0.2);
    lonely.group = Some("T=1".to_string());
    points.push(lonely);

    let options = FitOptions {
        method: Method::Quantile,
        bootstrap: 0,
        ..FitOptions::default()
    };
    let report = fit_groups(&points, &options).unwrap();

    assert_eq!(report.pooled.n_used, 11);
    assert_eq!(report.groups.len(), 3);

    let cold = &report.groups[0];
    assert_eq!(cold.group.as_deref(), Some("T=0.01"));
    assert!((cold.fit.as_ref().unwrap().k - 1.0 / 1000.0).abs() < 1e-12);

    let warm = &report.groups[1];
    assert!((warm.fit.as_ref().unwrap().k - 1.0 / 4000.0).abs() < 1e-12);

    let lonely = &report.groups[2];
    assert!(lonely.fit.is_none());
    assert!(
        lonely
            .error
            .as_deref()
            .unwrap()
            .contains("too few usable points")
    );
    assert_eq!(lonely.n_runs, 1);
}
