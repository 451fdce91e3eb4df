//! Information currents J_l = mean|h_{l+1}| - mean|h_l| and their gradients.
//!
//! Means run over the batch and the units of a level. h_0 is the input and
//! h_L the logits; for the logits only the `output_head` columns count (the
//! active task's logits in the task-incremental scenario).

use ndarray::{Array2, ArrayView2};

use super::{Forward, Layout, Real, activation_derivative};

/// Mean |h| over all entries of `level` (or over the `head` columns only).
fn mean_abs<F: Real>(level: ArrayView2<F>, head: Option<&[usize]>) -> f64 {
    let mut total = 0.0f64;
    match head {
        None => {
            for value in level.iter() {
                total += value.as_f64().abs();
            }
            total / level.len() as f64
        }
        Some(columns) => {
            for row in level.outer_iter() {
                for &column in columns {
                    total += row[column].as_f64().abs();
                }
            }
            total / (level.nrows() * columns.len()) as f64
        }
    }
}

/// Returns the current of every weight layer and the activity a(t), the
/// mean |h| over all hidden units of the batch (each unit weighted equally).
pub fn currents_and_activity<F: Real>(
    layout: &Layout,
    input: ArrayView2<F>,
    forward: &Forward<F>,
    output_head: &[usize],
) -> (Vec<f64>, f64) {
    let layers = layout.layers();
    let mut level_means = Vec::with_capacity(layers + 1);
    for level in 0..=layers {
        let head = if level == layers {
            Some(output_head)
        } else {
            None
        };
        level_means.push(mean_abs(forward.level(input, level), head));
    }
    let currents = (0..layers)
        .map(|layer| level_means[layer + 1] - level_means[layer])
        .collect();

    let mut hidden_total = 0.0f64;
    let mut hidden_units = 0usize;
    for level in 1..layers {
        hidden_total += level_means[level] * layout.sizes[level] as f64;
        hidden_units += layout.sizes[level];
    }
    let activity = hidden_total / hidden_units as f64;
    (currents, activity)
}

/// Writes dJ_l/dtheta_l (flat layout) into `gradient`.
///
/// h_l does not depend on theta_l, so only mean|h_{l+1}| contributes:
/// with h_{l+1} = phi(z_l), z_l = W_l h_l + b_l, the derivative with respect
/// to z_l is sign(h_{l+1}) phi'(z_l) / (batch * units), and the chain rule to
/// W_l and b_l is that of an ordinary linear layer. The logits have no
/// activation (phi' = 1) and count only over `output_head`.
pub fn current_gradient<F: Real>(
    layout: &Layout,
    layer: usize,
    input: ArrayView2<F>,
    forward: &Forward<F>,
    output_head: &[usize],
    gradient: &mut [F],
) {
    let output = forward.level(input, layer + 1);
    let is_output_layer = layer + 1 == layout.layers();
    let batch = output.nrows();

    // shape: batch x outputs of the layer
    let mut delta = Array2::<F>::zeros(output.raw_dim());
    if is_output_layer {
        let scale = F::cast_from_f64(1.0 / (batch * output_head.len()) as f64);
        for (row, mut out) in output.outer_iter().zip(delta.outer_iter_mut()) {
            for &column in output_head {
                out[column] = sign(row[column]) * scale;
            }
        }
    } else {
        let scale = F::cast_from_f64(1.0 / output.len() as f64);
        delta.zip_mut_with(&output, |slot, &h| {
            *slot = sign(h) * activation_derivative(layout.activation, h) * scale;
        });
    }

    super::backprop::layer_gradient(
        layout,
        layer,
        delta.view(),
        forward.level(input, layer),
        gradient,
    );
}

/// sign(x) with sign(0) = 0, the derivative of |x| away from 0.
fn sign<F: Real>(value: F) -> F {
    if value > F::zero() {
        F::one()
    } else if value < F::zero() {
        -F::one()
    } else {
        F::zero()
    }
}
