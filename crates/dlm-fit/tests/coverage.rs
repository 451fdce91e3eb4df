//! The cluster bootstrap's 95 % interval of k covers the true decay rate
//! about 95 % of the time on synthetic data from a known bound.

mod common;

use dlm_fit::{FitOptions, FitPoint, Method, fit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

const TRUE_F0: f64 = 0.3;
const TRUE_SIGMA0: f64 = 8_000.0;
const CONFIGURATIONS: usize = 40;
const SEEDS_PER_CONFIGURATION: usize = 5;

/// Runs under the bound: ln F = ln F0 - sigma/sigma0 - e with e >= 0
/// exponential. The noise does not depend on sigma, so every conditional
/// quantile of ln F, and the mean, falls with slope exactly -1/sigma0.
fn synthetic_sweep(seed: u64) -> Vec<FitPoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gap = Exp::new(2.0).unwrap();
    let mut points = Vec::new();
    for configuration in 0..CONFIGURATIONS {
        let sigma = rng.random_range(0.0..20_000.0);
        for replicate in 0..SEEDS_PER_CONFIGURATION {
            let ln_f = TRUE_F0.ln() - sigma / TRUE_SIGMA0 - gap.sample(&mut rng);
            let mut point = common::run(
                points.len(),
                sigma * rng.random_range(0.98..1.02),
                ln_f.exp(),
            );
            point.cluster = format!("config-{configuration}");
            point.id = format!("config-{configuration}-seed-{replicate}");
            points.push(point);
        }
    }
    points
}

fn coverage_count(method: Method, q: f64) -> usize {
    let true_k = 1.0 / TRUE_SIGMA0;
    let mut covered = 0;
    for repetition in 0..100 {
        let points = synthetic_sweep(10_000 + repetition);
        let options = FitOptions {
            method,
            q,
            bootstrap: 200,
            seed: repetition,
            permutations: 0,
            ..FitOptions::default()
        };
        let report = fit(&points, &options).unwrap();
        let [low, high] = report.k_ci.unwrap();
        if low <= true_k && true_k <= high {
            covered += 1;
        }
    }
    covered
}

#[test]
fn quantile_interval_covers_true_k() {
    let covered = coverage_count(Method::Quantile, 0.95);
    assert!(
        covered >= 88,
        "the interval covered the true k in {covered} of 100 repetitions"
    );
}

#[test]
fn ols_interval_covers_true_k() {
    let covered = coverage_count(Method::Ols, 0.95);
    assert!(
        covered >= 88,
        "the interval covered the true k in {covered} of 100 repetitions"
    );
}
