//! The Welch spectrum against scipy and its slope on signals of known exponent.

use dlm_sim::measure::spectrum::{power_law_exponent, welch};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    series: Vec<f64>,
    cases: Vec<ReferenceCase>,
}

#[derive(Deserialize)]
struct ReferenceCase {
    nperseg: usize,
    frequency: Vec<f64>,
    density: Vec<f64>,
}

#[test]
fn welch_matches_scipy_reference() {
    // Produced by fixtures/make_welch_fixture.py with scipy.signal.welch.
    let text = include_str!("fixtures/welch_reference.json");
    let reference: Reference = serde_json::from_str(text).unwrap();

    for case in &reference.cases {
        let spectrum = welch(&reference.series, 1.0, case.nperseg).unwrap();
        assert_eq!(
            spectrum.frequency.len(),
            case.frequency.len(),
            "nperseg {}",
            case.nperseg
        );
        for (bin, (ours, theirs)) in spectrum.frequency.iter().zip(&case.frequency).enumerate() {
            assert!(
                (ours - theirs).abs() < 1e-12,
                "nperseg {} bin {bin}: frequency {ours} vs {theirs}",
                case.nperseg
            );
        }
        // Both sides sum the same terms in f64 in different orders, so they
        // agree to a few ulps of the largest density.
        for (bin, (ours, theirs)) in spectrum.density.iter().zip(&case.density).enumerate() {
            assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1e-12),
                "nperseg {} bin {bin}: density {ours:e} vs scipy {theirs:e}",
                case.nperseg
            );
        }
    }
}

/// Noise with power spectral density proportional to f^-exponent, by
/// spectral synthesis: complex Gaussian coefficients scaled by
/// f^(-exponent/2), Hermitian-symmetric, inverse FFT.
fn power_law_noise(length: usize, exponent: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut spectrum = vec![Complex::new(0.0, 0.0); length];
    for bin in 1..=length / 2 {
        let frequency = bin as f64 / length as f64;
        let amplitude = frequency.powf(-exponent / 2.0);
        let real: f64 = StandardNormal.sample(&mut rng);
        let imaginary: f64 = StandardNormal.sample(&mut rng);
        spectrum[bin] = Complex::new(real * amplitude, imaginary * amplitude);
        if bin != length - bin {
            spectrum[length - bin] = spectrum[bin].conj();
        } else {
            spectrum[bin] = Complex::new(real * amplitude, 0.0);
        }
    }
    FftPlanner::<f64>::new()
        .plan_fft_inverse(length)
        .process(&mut spectrum);
    spectrum
        .iter()
        .map(|value| value.re / length as f64)
        .collect()
}

#[test]
fn slope_recovers_known_exponents() {
    let nperseg = 256;
    let band = (4.0 / nperseg as f64, 0.25);
    for (index, exponent) in [0.0, 0.5, 1.0, 1.5, 2.0].into_iter().enumerate() {
        let signal = power_law_noise(1 << 16, exponent, 500 + index as u64);
        let spectrum = welch(&signal, 1.0, nperseg).unwrap();
        let beta = power_law_exponent(&spectrum, band.0, band.1).unwrap();
        assert!(
            (beta - exponent).abs() <= 0.1,
            "signal with exponent {exponent}: fitted beta {beta:.3}"
        );
    }
}

#[test]
fn welch_needs_one_full_segment() {
    let short = vec![1.0; 255];
    assert!(welch(&short, 1.0, 256).is_none());
    assert!(welch(&vec![1.0; 256], 1.0, 256).is_some());
}

#[test]
fn slope_undefined_for_a_constant_signal() {
    // A constant has zero density after detrending, so log10 P is undefined.
    let spectrum = welch(&vec![3.0; 1024], 1.0, 256).unwrap();
    assert_eq!(power_law_exponent(&spectrum, 4.0 / 256.0, 0.25), None);
}
