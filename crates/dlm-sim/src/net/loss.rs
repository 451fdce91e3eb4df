//! Softmax cross-entropy over a subset of the logits (a task's head).

use ndarray::{Array2, ArrayView2};

use super::Real;

/// How the loss gradient is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoftmaxLoss {
    /// Gradient of the batch mean loss: rows divided by the batch size.
    BatchMean,
    /// Gradient of each example's own loss (for per-example Fisher terms).
    PerExample,
}

/// Softmax probabilities over the `head` logits (shape: batch x head).
pub fn softmax_over_head<F: Real>(logits: ArrayView2<F>, head: &[usize]) -> Array2<F> {
    let mut probabilities = Array2::zeros((logits.nrows(), head.len()));
    for (row, mut out) in logits.outer_iter().zip(probabilities.outer_iter_mut()) {
        let max = head
            .iter()
            .map(|&column| row[column])
            .fold(F::neg_infinity(), F::max);
        let mut total = F::zero();
        for (slot, &column) in head.iter().enumerate() {
            let weight = (row[column] - max).exp();
            out[slot] = weight;
            total = total + weight;
        }
        out.mapv_inplace(|weight| weight / total);
    }
    probabilities
}

/// Mean cross-entropy of `targets` (indices into `head`) under the softmax
/// of the `head` logits, computed stably with the log-sum-exp.
///
/// Writes d loss / d logits into `delta` (shape: batch x all logits), zero
/// outside the head. Returns the mean loss in f64; it is NaN or infinite
/// when the logits are.
pub fn softmax_cross_entropy<F: Real>(
    logits: ArrayView2<F>,
    head: &[usize],
    targets: &[usize],
    delta: &mut Array2<F>,
    scaling: SoftmaxLoss,
) -> f64 {
    let batch = logits.nrows();
    delta.fill(F::zero());
    let row_scale = match scaling {
        SoftmaxLoss::BatchMean => F::one() / F::cast_from_f64(batch as f64),
        SoftmaxLoss::PerExample => F::one(),
    };

    let mut total_loss = 0.0f64;
    for ((row, mut gradient), &target) in
        logits.outer_iter().zip(delta.outer_iter_mut()).zip(targets)
    {
        let max = head
            .iter()
            .map(|&column| row[column])
            .fold(F::neg_infinity(), F::max);
        let mut sum = F::zero();
        for &column in head {
            sum = sum + (row[column] - max).exp();
        }
        let log_sum = max + sum.ln();
        total_loss += (log_sum - row[head[target]]).as_f64();

        for (slot, &column) in head.iter().enumerate() {
            let probability = (row[column] - log_sum).exp();
            let indicator = if slot == target { F::one() } else { F::zero() };
            gradient[column] = (probability - indicator) * row_scale;
        }
    }
    total_loss / batch as f64
}
