//! Builders of synthetic runs shared by the integration tests.

#![allow(dead_code)]

use dlm_fit::FitPoint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Builds a usable run with the given sigma and forgetting, in its own
/// cluster.
pub fn run(index: usize, sigma: f64, forgetting: f64) -> FitPoint {
    FitPoint {
        sigma: Some(sigma),
        forgetting: Some(forgetting),
        diverged: false,
        learning_accuracy: Some(0.9),
        cluster: format!("config-{index}"),
        group: None,
        label: Some("linear".to_string()),
        id: format!("run-{index}"),
    }
}

/// Builds runs exactly on F = f0 * exp(-sigma / sigma0) at the given sigmas.
pub fn exact_runs(f0: f64, sigma0: f64, sigmas: &[f64]) -> Vec<FitPoint> {
    sigmas
        .iter()
        .enumerate()
        .map(|(index, &sigma)| run(index, sigma, f0 * (-sigma / sigma0).exp()))
        .collect()
}

/// Draws random (x, y) points with x uniform on [0, 10) and y = slope x + noise,
/// noise uniform on [-1, 1).
pub fn random_cloud(count: usize, slope: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let xs: Vec<f64> = (0..count).map(|_| rng.random_range(0.0..10.0)).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|x| slope * x + rng.random_range(-1.0..1.0))
        .collect();
    (xs, ys)
}

/// Builds runs whose ln F is the given y at sigma = x.
pub fn runs_from_xy(xs: &[f64], ys: &[f64]) -> Vec<FitPoint> {
    xs.iter()
        .zip(ys)
        .enumerate()
        .map(|(index, (&x, &y))| run(index, x, y.exp()))
        .collect()
}
