//! Bootstrap and permutation results depend on the seed only, never on the
//! number of threads.

mod common;

use dlm_fit::{FitOptions, FitReport, Method, baseline_ratio, fit};

fn noisy_runs() -> Vec<dlm_fit::FitPoint> {
    let (xs, ys) = common::random_cloud(300, -0.2, 77);
    let mut points = common::runs_from_xy(&xs, &ys);
    for (index, point) in points.iter_mut().enumerate() {
        point.cluster = format!("config-{}", index / 3);
    }
    points
}

fn fit_with_threads(threads: usize, options: &FitOptions) -> FitReport {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| fit(&noisy_runs(), options).unwrap())
}

#[test]
fn fit_identical_across_thread_counts() {
    for method in [Method::Envelope, Method::Quantile, Method::Ols] {
        let options = FitOptions {
            method,
            bootstrap: 300,
            permutations: 300,
            seed: 11,
            ..FitOptions::default()
        };
        let single = fit_with_threads(1, &options);
        let several = fit_with_threads(3, &options);

        assert_eq!(single, several, "{}", method.name());
        assert!(single.k_ci.is_some());
        assert!(single.spearman_p.is_some());
    }
}

#[test]
fn fit_changes_with_seed() {
    let options = FitOptions {
        method: Method::Quantile,
        bootstrap: 300,
        seed: 1,
        ..FitOptions::default()
    };
    let first = fit_with_threads(2, &options);
    let second = fit_with_threads(2, &FitOptions { seed: 2, ..options });

    assert_ne!(first.k_ci, second.k_ci);
    assert_eq!(
        first.k, second.k,
        "the point estimate does not depend on the seed"
    );
}

#[test]
fn baseline_ratio_identical_across_thread_counts() {
    let points = noisy_runs();
    let (dlm, baseline) = points.split_at(150);
    let ratio_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| baseline_ratio(dlm, baseline, 500, 9).unwrap())
    };

    assert_eq!(ratio_with(1), ratio_with(3));
}
