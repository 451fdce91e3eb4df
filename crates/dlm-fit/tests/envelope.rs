//! The envelope is the feasible line with the smallest mean gap, checked
//! against brute force over every line through two points.

mod common;

use dlm_fit::{FitOptions, Line, Method, fit};

/// Slack for rounding when testing "on or above": the points have |y| < 60.
const FEASIBILITY_TOLERANCE: f64 = 1e-9;

fn envelope_of(xs: &[f64], ys: &[f64]) -> Line {
    let options = FitOptions {
        method: Method::Envelope,
        bootstrap: 0,
        permutations: 0,
        ..FitOptions::default()
    };
    fit(&common::runs_from_xy(xs, ys), &options).unwrap().line
}

fn is_on_or_above_all(line: Line, xs: &[f64], ys: &[f64]) -> bool {
    xs.iter()
        .zip(ys)
        .all(|(&x, &y)| line.value_at(x) >= y - FEASIBILITY_TOLERANCE)
}

fn mean_gap(line: Line, xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| line.value_at(x) - y)
        .sum::<f64>()
        / xs.len() as f64
}

#[test]
fn envelope_beats_every_two_point_line() {
    for seed in 0..40 {
        let count = 5 + (seed as usize % 20);
        let slope = [-0.8, 0.0, 0.5][seed as usize % 3];
        let (xs, ys) = common::random_cloud(count, slope, seed);
        let envelope = envelope_of(&xs, &ys);
        let envelope_gap = mean_gap(envelope, &xs, &ys);

        assert!(
            is_on_or_above_all(envelope, &xs, &ys),
            "seed {seed}: a point lies above the envelope"
        );

        let touching = xs
            .iter()
            .zip(&ys)
            .filter(|&(&x, &y)| (envelope.value_at(x) - y).abs() <= FEASIBILITY_TOLERANCE)
            .count();
        assert!(
            touching >= 2,
            "seed {seed}: the envelope touches {touching} points"
        );

        for i in 0..count {
            for j in (i + 1)..count {
                if xs[i] == xs[j] {
                    continue;
                }
                let candidate = Line::through((xs[i], ys[i]), (xs[j], ys[j]));
                if !is_on_or_above_all(candidate, &xs, &ys) {
                    continue;
                }
                assert!(
                    envelope_gap <= mean_gap(candidate, &xs, &ys) + FEASIBILITY_TOLERANCE,
                    "seed {seed}: the line through points {i} and {j} has a smaller mean gap"
                );
            }
        }
    }
}

#[test]
fn envelope_handles_repeated_x() {
    // Three runs at x = 1 and two at x = 3: the hull uses the highest of
    // each, and the mean x (1.8) lies between them.
    let xs = [1.0, 1.0, 1.0, 3.0, 3.0];
    let ys = [-2.0, -1.0, -1.5, -4.0, -3.0];
    let envelope = envelope_of(&xs, &ys);

    assert!(
        (envelope.slope - (-1.0)).abs() < 1e-12,
        "slope {}",
        envelope.slope
    );
    assert!(
        (envelope.intercept - 0.0).abs() < 1e-12,
        "intercept {}",
        envelope.intercept
    );
}
