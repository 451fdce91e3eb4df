//! Every method recovers F0 and sigma0 exactly from runs that lie on the
//! bound itself.

mod common;

use dlm_fit::{FitOptions, Method, XScale, fit};

const RELATIVE_TOLERANCE: f64 = 1e-9;

fn assert_close(actual: f64, expected: f64, what: &str) {
    let relative = ((actual - expected) / expected).abs();
    assert!(
        relative <= RELATIVE_TOLERANCE,
        "{what}: got {actual}, expected {expected}, relative error {relative:e}"
    );
}

#[test]
fn exact_points_recover_f0_and_sigma0() {
    let cases = [
        (
            0.4,
            2.0e4,
            vec![1.0e3, 5.0e3, 1.2e4, 2.0e4, 3.3e4, 5.1e4, 7.0e4],
        ),
        (0.05, 150.0, vec![0.0, 10.0, 25.5, 80.0, 300.0, 450.0]),
        (1.0, 1.0, vec![-2.0, -0.5, 0.0, 0.25, 3.0]),
    ];

    for (f0, sigma0, sigmas) in cases {
        let points = common::exact_runs(f0, sigma0, &sigmas);
        for method in [Method::Envelope, Method::Quantile, Method::Ols] {
            let options = FitOptions {
                method,
                bootstrap: 0,
                ..FitOptions::default()
            };
            let report = fit(&points, &options).unwrap();
            let label = format!("{} with F0 = {f0}, sigma0 = {sigma0}", method.name());

            assert_close(report.f0, f0, &format!("F0 of {label}"));
            assert_close(
                report.sigma0.unwrap(),
                sigma0,
                &format!("sigma0 of {label}"),
            );
            assert_close(report.k, 1.0 / sigma0, &format!("k of {label}"));
            assert_eq!(report.n_used, sigmas.len(), "{label}");
        }
    }
}

#[test]
fn exact_power_law_recovered_on_log_scale() {
    // F = 2 * sigma^-0.5 is ln F = ln 2 - 0.5 ln 10 * log10 sigma.
    let sigmas = [1.0e2, 1.0e4, 3.0e5, 1.0e8, 2.0e10, 5.0e12];
    let points: Vec<_> = sigmas
        .iter()
        .enumerate()
        .map(|(index, &sigma)| common::run(index, sigma, 2.0 * sigma.powf(-0.5)))
        .collect();

    for method in [Method::Envelope, Method::Quantile, Method::Ols] {
        let options = FitOptions {
            method,
            x_scale: XScale::Log,
            bootstrap: 0,
            ..FitOptions::default()
        };
        let report = fit(&points, &options).unwrap();

        assert_close(report.f0, 2.0, method.name());
        assert_close(report.power_law_exponent.unwrap(), 0.5, method.name());
    }
}
