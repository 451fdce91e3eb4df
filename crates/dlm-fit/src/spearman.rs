//! Spearman's rank correlation with a permutation p-value: a check of the
//! bound's direction that assumes no functional form.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Spearman's rho and its two-sided permutation p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spearman {
    /// `None` when one variable is constant.
    pub rho: Option<f64>,
    /// `None` when rho is undefined or no permutations were requested.
    pub p_value: Option<f64>,
}

/// Ranks from 1 to n, ties sharing the mean of their ranks.
pub(crate) fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&left, &right| values[left].total_cmp(&values[right]));

    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean:
        let shared_rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = shared_rank;
        }
        start = end;
    }
    ranks
}

/// Computes rho between `xs` and `ys` and its p-value from `permutations`
/// random shuffles: `(1 + #{|rho*| >= |rho|}) / (1 + permutations)`.
/// Permutation i uses stream i of a ChaCha8 generator seeded with `seed`,
/// so the result does not depend on the thread count.
pub(crate) fn spearman(xs: &[f64], ys: &[f64], permutations: usize, seed: u64) -> Spearman {
    let x_ranks = centred(average_ranks(xs));
    let y_ranks = centred(average_ranks(ys));

    let x_norm: f64 = x_ranks.iter().map(|rank| rank * rank).sum();
    let y_norm: f64 = y_ranks.iter().map(|rank| rank * rank).sum();
    if x_norm == 0.0 || y_norm == 0.0 {
        return Spearman {
            rho: None,
            p_value: None,
        };
    }

    let scale = (x_norm * y_norm).sqrt();
    let rho = dot(&x_ranks, &y_ranks) / scale;
    if permutations == 0 {
        return Spearman {
            rho: Some(rho),
            p_value: None,
        };
    }

    // Ranks are compared with a small allowance, so that a permutation
    // equal to the observed order counts as at least as extreme.
    let threshold = rho.abs() * (1.0 - 1e-12);
    let extreme = (0..permutations)
        .into_par_iter()
        .map_init(
            || y_ranks.clone(),
            |shuffled, permutation| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(permutation as u64);
                shuffled.copy_from_slice(&y_ranks);
                shuffled.shuffle(&mut rng);
                usize::from((dot(&x_ranks, shuffled) / scale).abs() >= threshold)
            },
        )
        .sum::<usize>();

    Spearman {
        rho: Some(rho),
        p_value: Some((1 + extreme) as f64 / (1 + permutations) as f64),
    }
}

fn centred(mut ranks: Vec<f64>) -> Vec<f64> {
    let mean = (ranks.len() + 1) as f64 / 2.0;
    for rank in &mut ranks {
        *rank -= mean;
    }
    ranks
}

fn dot(left: &[f64], right: &[f64]) -> f64 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}
