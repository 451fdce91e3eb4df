//! Exact quantile regression: the fitted line splits the points at q and
//! no line through two points has a smaller check loss.

mod common;

use dlm_fit::{FitOptions, Line, Method, fit};

fn quantile_fit(xs: &[f64], ys: &[f64], q: f64) -> Line {
    let options = FitOptions {
        method: Method::Quantile,
        q,
        bootstrap: 0,
        permutations: 0,
        ..FitOptions::default()
    };
    fit(&common::runs_from_xy(xs, ys), &options).unwrap().line
}

/// Check loss written out independently of the library.
fn check_loss(line: Line, xs: &[f64], ys: &[f64], q: f64) -> f64 {
    let mut total = 0.0;
    for (&x, &y) in xs.iter().zip(ys) {
        let residual = y - (line.intercept + line.slope * x);
        total += if residual < 0.0 {
            (q - 1.0) * residual
        } else {
            q * residual
        };
    }
    total
}

#[test]
fn quantile_beats_every_two_point_line() {
    for seed in 0..30 {
        let count = 6 + (seed as usize % 25);
        let q = [0.95, 0.5, 0.2, 0.8][seed as usize % 4];
        let (xs, ys) = common::random_cloud(count, -0.3, 100 + seed);
        let fitted = quantile_fit(&xs, &ys, q);
        let fitted_loss = check_loss(fitted, &xs, &ys, q);

        for i in 0..count {
            for j in (i + 1)..count {
                let candidate = Line::through((xs[i], ys[i]), (xs[j], ys[j]));
                let candidate_loss = check_loss(candidate, &xs, &ys, q);
                assert!(
                    fitted_loss <= candidate_loss * (1.0 + 1e-12) + 1e-12,
                    "seed {seed}, q {q}: loss {fitted_loss} but the line through {i} and {j} has {candidate_loss}"
                );
            }
        }
    }
}

#[test]
fn quantile_splits_points_at_q() {
    for seed in 0..30 {
        let count = 50 + 37 * (seed as usize % 7);
        let q = [0.95, 0.5, 0.1, 0.75, 0.9][seed as usize % 5];
        let (xs, ys) = common::random_cloud(count, 1.5, 500 + seed);
        let fitted = quantile_fit(&xs, &ys, q);

        let mut below = 0;
        let mut on = 0;
        for (&x, &y) in xs.iter().zip(&ys) {
            let residual = y - fitted.value_at(x);
            if residual.abs() <= 1e-9 {
                on += 1;
            } else if residual < 0.0 {
                below += 1;
            }
        }

        let n = count as f64;
        let share_below = below as f64 / n;
        assert!(
            on >= 2,
            "seed {seed}: the line passes through {on} points, an optimal vertex has two"
        );
        assert!(
            (share_below - q).abs() <= 1.0 / n + on as f64 / n,
            "seed {seed}, q {q}: {below} of {count} below and {on} on the line"
        );
    }
}

#[test]
fn quantile_optimal_on_tied_and_collinear_data() {
    // Many points share x and several lie on one line, the degenerate
    // vertices where a pivoting solver can stall.
    let xs: Vec<f64> = (0..60).map(|index| (index % 6) as f64).collect();
    let ys: Vec<f64> = xs
        .iter()
        .enumerate()
        .map(|(index, &x)| {
            if index % 3 == 0 {
                1.0 - 0.5 * x
            } else {
                -0.5 * x - (index % 5) as f64 * 0.1
            }
        })
        .collect();

    for q in [0.95, 0.5, 0.3] {
        let fitted = quantile_fit(&xs, &ys, q);
        let fitted_loss = check_loss(fitted, &xs, &ys, q);
        for i in 0..xs.len() {
            for j in 0..xs.len() {
                if xs[i] == xs[j] {
                    continue;
                }
                let candidate = Line::through((xs[i], ys[i]), (xs[j], ys[j]));
                assert!(
                    fitted_loss <= check_loss(candidate, &xs, &ys, q) + 1e-9,
                    "q {q}: the line through {i} and {j} is better"
                );
            }
        }
    }
}

#[test]
fn quantile_optimal_on_integer_grids() {
    // Small integer coordinates put many triples of points on one line,
    // so the solver often stops at vertices with more than two points.
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    for seed in 0..300 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let count = rng.random_range(5..16);
        let xs: Vec<f64> = (0..count).map(|_| rng.random_range(0..5) as f64).collect();
        let ys: Vec<f64> = (0..count).map(|_| rng.random_range(0..5) as f64).collect();
        if xs.iter().all(|&x| x == xs[0]) {
            continue;
        }
        let q = [0.95, 0.5, 0.3, 0.7][seed as usize % 4];

        let fitted = quantile_fit(&xs, &ys, q);
        let fitted_loss = check_loss(fitted, &xs, &ys, q);
        for i in 0..count {
            for j in 0..count {
                if xs[i] == xs[j] {
                    continue;
                }
                let candidate = Line::through((xs[i], ys[i]), (xs[j], ys[j]));
                assert!(
                    fitted_loss <= check_loss(candidate, &xs, &ys, q) + 1e-9,
                    "seed {seed}, q {q}: the line through {i} and {j} is better"
                );
            }
        }
    }
}
