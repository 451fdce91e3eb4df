//! Welch power spectral density and its power-law slope.
//!
//! Matches scipy.signal.welch with its defaults for a real signal: a
//! periodic Hann window of `nperseg` samples, 50 % overlap (`nperseg / 2`),
//! a least-squares line removed from each segment, density scaling
//! 1 / (fs * sum(window^2)), one-sided (every bin but DC and, for even
//! `nperseg`, Nyquist doubled) and the mean over segments.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// One-sided PSD: `frequency` in cycles per unit of `fs`, `density` per frequency unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Welch {
    pub frequency: Vec<f64>,
    pub density: Vec<f64>,
}

/// Welch PSD of `signal` sampled at `fs`; `None` when the signal is shorter than one segment.
pub fn welch(signal: &[f64], fs: f64, nperseg: usize) -> Option<Welch> {
    if nperseg < 2 || signal.len() < nperseg {
        return None;
    }
    let overlap = nperseg / 2;
    let step = nperseg - overlap;
    let window: Vec<f64> = (0..nperseg)
        .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / nperseg as f64).cos())
        .collect();
    let window_power: f64 = window.iter().map(|w| w * w).sum();
    let scale = 1.0 / (fs * window_power);

    let bins = nperseg / 2 + 1;
    let mut density = vec![0.0; bins];
    let fft = FftPlanner::<f64>::new().plan_fft_forward(nperseg);
    let mut buffer = vec![Complex::new(0.0, 0.0); nperseg];
    let mut segments = 0usize;

    let mut start = 0;
    while start + nperseg <= signal.len() {
        let segment = &signal[start..start + nperseg];
        let detrended = remove_linear_trend(segment);
        for ((slot, value), weight) in buffer.iter_mut().zip(&detrended).zip(&window) {
            *slot = Complex::new(value * weight, 0.0);
        }
        fft.process(&mut buffer);
        for (bin, total) in density.iter_mut().enumerate() {
            *total += buffer[bin].norm_sqr();
        }
        segments += 1;
        start += step;
    }

    let nyquist_bin = (nperseg % 2 == 0).then_some(bins - 1);
    for (bin, value) in density.iter_mut().enumerate() {
        let one_sided = if bin == 0 || Some(bin) == nyquist_bin {
            1.0
        } else {
            2.0
        };
        *value = *value * scale * one_sided / segments as f64;
    }
    let frequency = (0..bins)
        .map(|bin| bin as f64 * fs / nperseg as f64)
        .collect();
    Some(Welch { frequency, density })
}

/// The segment minus its least-squares straight line over the sample index.
fn remove_linear_trend(segment: &[f64]) -> Vec<f64> {
    let n = segment.len() as f64;
    let mean_index = (n - 1.0) / 2.0;
    let mean_value = segment.iter().sum::<f64>() / n;
    let mut covariance = 0.0;
    let mut variance = 0.0;
    for (index, value) in segment.iter().enumerate() {
        let offset = index as f64 - mean_index;
        covariance += offset * (value - mean_value);
        variance += offset * offset;
    }
    let slope = covariance / variance;
    segment
        .iter()
        .enumerate()
        .map(|(index, value)| value - mean_value - slope * (index as f64 - mean_index))
        .collect()
}

/// beta = minus the least-squares slope of log10 density against log10
/// frequency over the bins with `low <= f <= high`. `None` with fewer than
/// two usable bins or a non-positive density in the band.
pub fn power_law_exponent(spectrum: &Welch, low: f64, high: f64) -> Option<f64> {
    let mut points = Vec::new();
    for (&frequency, &density) in spectrum.frequency.iter().zip(&spectrum.density) {
        if frequency <= 0.0 || frequency < low || frequency > high {
            continue;
        }
        if !(density > 0.0) {
            return None;
        }
        points.push((frequency.log10(), density.log10()));
    }
    if points.len() < 2 {
        return None;
    }

    let count = points.len() as f64;
    let mean_x = points.iter().map(|point| point.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|point| point.1).sum::<f64>() / count;
    let mut covariance = 0.0;
    let mut variance = 0.0;
    for (x, y) in &points {
        covariance += (x - mean_x) * (y - mean_y);
        variance += (x - mean_x) * (x - mean_x);
    }
    let slope = covariance / variance;
    slope.is_finite().then_some(-slope)
}
