//! Speed of the exact quantile method: one fit of 100,000 runs, and
//! 10,000 runs with 1,000 bootstrap resamples.
//!
//! The data come from a splitmix64 stream that `quantreg_peer.py` repeats
//! bit for bit, so statsmodels' QuantReg is timed on the same points.

use criterion::{Criterion, criterion_group, criterion_main};
use dlm_fit::{FitOptions, FitPoint, Method, fit};

/// Next value of the splitmix64 generator, as a float in [0, 1).
fn next_uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut mixed = *state;
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^= mixed >> 31;
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs with sigma uniform on [0, 20000) and ln F = ln 0.3 - sigma / 8000
/// minus an exponential gap of mean 0.5, five seeds per configuration.
fn synthetic_runs(count: usize) -> Vec<FitPoint> {
    let mut state = 42u64;
    (0..count)
        .map(|index| {
            let sigma = 20_000.0 * next_uniform(&mut state);
            let gap = -0.5 * (1.0 - next_uniform(&mut state)).ln();
            let ln_f = 0.3f64.ln() - sigma / 8_000.0 - gap;
            FitPoint {
                sigma: Some(sigma),
                forgetting: Some(ln_f.exp()),
                cluster: format!("config-{}", index / 5),
                id: index.to_string(),
                ..FitPoint::default()
            }
        })
        .collect()
}

fn quantile_benchmarks(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("quantile");
    group.sample_size(10);

    let large = synthetic_runs(100_000);
    let single = FitOptions {
        method: Method::Quantile,
        bootstrap: 0,
        permutations: 0,
        ..FitOptions::default()
    };
    group.bench_function("fit_100k", |bench| {
        bench.iter(|| fit(&large, &single).unwrap())
    });

    let medium = synthetic_runs(10_000);
    let resampled = FitOptions {
        bootstrap: 1000,
        ..single.clone()
    };
    group.bench_function("fit_10k_bootstrap_1000", |bench| {
        bench.iter(|| fit(&medium, &resampled).unwrap())
    });

    let with_permutations = FitOptions {
        permutations: 999,
        ..resampled.clone()
    };
    group.bench_function("fit_10k_bootstrap_1000_permutations_999", |bench| {
        bench.iter(|| fit(&medium, &with_permutations).unwrap())
    });

    group.finish();
}

criterion_group!(benches, quantile_benchmarks);
criterion_main!(benches);
