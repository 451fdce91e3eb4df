//! The f32 ziggurat sampler against the exact standard normal distribution.
//!
//! Every check allows 5 standard errors of its statistic at the sample size
//! used, so a correct sampler fails one with probability below about 1e-6.
//! The Kolmogorov-Smirnov test uses its own level, alpha = 1e-3.

use std::f64::consts::FRAC_1_SQRT_2;

use dlm_sim::random::{NoiseSource, fill_standard_normal};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Draws for the moments and the Kolmogorov-Smirnov test.
const BULK_DRAWS: usize = 1_000_000;

/// Draws for the tail frequencies: enough for about 130 beyond 4.5.
const TAIL_DRAWS: usize = 20_000_000;

/// Allowed deviation in standard errors.
const TOLERANCE: f64 = 5.0;

fn draws(seed: u64, count: usize) -> Vec<f32> {
    let mut values = vec![0.0f32; count];
    fill_standard_normal(&mut ChaCha8Rng::seed_from_u64(seed), &mut values);
    values
}

/// P(X > x) for a standard normal X.
fn upper_tail(x: f64) -> f64 {
    0.5 * libm::erfc(x * FRAC_1_SQRT_2)
}

fn assert_within(name: &str, estimate: f64, expected: f64, standard_error: f64) {
    let deviation = (estimate - expected) / standard_error;
    assert!(
        deviation.abs() <= TOLERANCE,
        "{name}: {estimate:.6} vs exact {expected:.6}, {deviation:.2} standard errors \
         (standard error {standard_error:.2e})"
    );
}

#[test]
fn moments_match_standard_normal() {
    let values = draws(1, BULK_DRAWS);
    let n = values.len() as f64;

    let mean = values.iter().map(|x| f64::from(*x)).sum::<f64>() / n;
    let central = |power: i32| {
        values
            .iter()
            .map(|x| (f64::from(*x) - mean).powi(power))
            .sum::<f64>()
            / n
    };
    let variance = central(2);
    let skewness = central(3) / variance.powf(1.5);
    let kurtosis = central(4) / (variance * variance);

    // Standard errors under N(0, 1): sqrt(1/n) for the mean,
    // sqrt((mu_4 - sigma^4) / n) = sqrt(2/n) for the variance, and the
    // large-sample sqrt(6/n) and sqrt(24/n) for skewness and kurtosis.
    assert_within("mean", mean, 0.0, (1.0 / n).sqrt());
    assert_within("variance", variance, 1.0, (2.0 / n).sqrt());
    assert_within("skewness", skewness, 0.0, (6.0 / n).sqrt());
    assert_within("kurtosis", kurtosis, 3.0, (24.0 / n).sqrt());
}

#[test]
fn kolmogorov_smirnov_accepts_normal_cdf() {
    let mut values = draws(2, BULK_DRAWS);
    values.sort_by(f32::total_cmp);
    let n = values.len() as f64;

    let mut statistic = 0.0f64;
    for (index, value) in values.iter().enumerate() {
        let cdf = 1.0 - upper_tail(f64::from(*value));
        let below = cdf - index as f64 / n;
        let above = (index + 1) as f64 / n - cdf;
        statistic = statistic.max(below).max(above);
    }

    // Asymptotic critical value sqrt(-ln(alpha / 2) / (2 n)), about 1.95e-3
    // for n = 10^6 at alpha = 1e-3.
    let alpha = 1e-3f64;
    let critical = (-(alpha / 2.0).ln() / (2.0 * n)).sqrt();
    assert!(
        statistic < critical,
        "Kolmogorov-Smirnov statistic {statistic:.3e} reaches the critical value {critical:.3e}"
    );
}

#[test]
fn tail_frequencies_match_exact() {
    // Beyond about 3.65 every draw comes from the tail algorithm, so the
    // thresholds past it test that algorithm's shape.
    let values = draws(3, TAIL_DRAWS);
    let n = values.len() as f64;

    for threshold in [3.0f64, 3.5, 4.0, 4.5] {
        let above = values.iter().filter(|x| f64::from(**x) > threshold).count() as f64;
        let below = values.iter().filter(|x| f64::from(**x) < -threshold).count() as f64;

        // Binomial counts: mean n p, standard error sqrt(n p (1 - p)).
        let side = upper_tail(threshold);
        let side_error = (n * side * (1.0 - side)).sqrt();
        assert_within(&format!("count above {threshold}"), above, n * side, side_error);
        assert_within(&format!("count below -{threshold}"), below, n * side, side_error);

        let both = 2.0 * side;
        let both_error = (n * both * (1.0 - both)).sqrt();
        assert_within(&format!("count beyond ±{threshold}"), above + below, n * both, both_error);
    }
}

#[test]
fn signs_are_balanced() {
    let values = draws(4, BULK_DRAWS);
    let n = values.len() as f64;

    let negative = values.iter().filter(|x| x.is_sign_negative()).count() as f64;
    assert_within("fraction negative", negative / n, 0.5, (0.25 / n).sqrt());

    // The sign must not depend on the magnitude: the mean of |x| over each
    // sign is E|X| = sqrt(2 / pi), with standard error sqrt((1 - 2/pi) / m).
    let half_mean = (2.0 / std::f64::consts::PI).sqrt();
    for (name, negative_side) in [("mean |x| of negatives", true), ("mean |x| of positives", false)] {
        let side: Vec<f64> = values
            .iter()
            .filter(|x| x.is_sign_negative() == negative_side)
            .map(|x| f64::from(x.abs()))
            .collect();
        let count = side.len() as f64;
        let mean = side.iter().sum::<f64>() / count;
        assert_within(name, mean, half_mean, ((1.0 - half_mean * half_mean) / count).sqrt());
    }
}

#[test]
fn noise_source_scales_draws() {
    let mut noise = NoiseSource::new(ChaCha8Rng::seed_from_u64(5));
    let scaled = noise.scaled_normals(1_000, 0.25).to_vec();
    let unscaled = draws(5, 1_000);
    for (index, (scaled, unscaled)) in scaled.iter().zip(&unscaled).enumerate() {
        assert_eq!(*scaled, 0.25 * unscaled, "draw {index}");
    }

    let zeros = noise.scaled_normals(300, 0.0).to_vec();
    assert!(zeros.iter().all(|value| *value == 0.0));

    // A zero scale draws nothing, so the stream continues where it stopped.
    let next = noise.scaled_normals(1, 1.0)[0];
    assert_eq!(next, draws(5, 1_001)[1_000]);
}
