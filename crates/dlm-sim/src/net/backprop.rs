//! Backpropagation through the layers, with a visitor that receives each
//! layer's output error and input, so the same pass yields the batch
//! gradient or the per-example squared gradients of the Fisher information.

use ndarray::{Array2, ArrayView2, Axis};

use super::{Forward, Layout, Real, activation_derivative};

/// Reusable error buffers: `deltas[l]` is dL/dz_l with shape (batch x outputs of layer l).
#[derive(Clone, Debug)]
pub struct Backprop<F> {
    pub deltas: Vec<Array2<F>>,
}

impl<F: Real> Backprop<F> {
    pub fn new(layout: &Layout, batch: usize) -> Self {
        let deltas = (0..layout.layers())
            .map(|layer| Array2::zeros((batch, layout.outputs(layer))))
            .collect();
        Self { deltas }
    }

    /// The error at the logits, to be filled by the loss before `backpropagate`.
    pub fn top_mut(&mut self) -> &mut Array2<F> {
        self.deltas
            .last_mut()
            .expect("a network has at least one layer")
    }

    pub fn ensure_batch(&mut self, layout: &Layout, batch: usize) {
        if self.deltas[0].nrows() != batch {
            *self = Backprop::new(layout, batch);
        }
    }
}

/// Propagates the error in `buffers.top_mut()` down to the first layer.
///
/// For each layer, from the output down, calls `visit(layer, delta, input)`
/// with dL/dz_l (shape: batch x outputs) and h_l (shape: batch x inputs).
pub fn backpropagate<F: Real>(
    layout: &Layout,
    params: &[Vec<F>],
    input: ArrayView2<F>,
    forward: &Forward<F>,
    buffers: &mut Backprop<F>,
    mut visit: impl FnMut(usize, ArrayView2<F>, ArrayView2<F>),
) {
    for layer in (0..layout.layers()).rev() {
        let layer_input = forward.level(input, layer);
        visit(layer, buffers.deltas[layer].view(), layer_input);
        if layer == 0 {
            break;
        }

        let (lower, upper) = buffers.deltas.split_at_mut(layer);
        let below = &mut lower[layer - 1];
        let weights = layout.weights(layer, &params[layer]);
        // dL/dh_l = delta_l W_l, then times phi'(z_{l-1}) expressed through h_l.
        ndarray::linalg::general_mat_mul(F::one(), &upper[0], &weights, F::zero(), below);
        below.zip_mut_with(&layer_input, |delta, &h| {
            *delta = *delta * activation_derivative(layout.activation, h);
        });
    }
}

/// Writes the parameter gradient of one layer into `gradient` (flat layout)
/// from its output error `delta` and input `layer_input`.
pub fn layer_gradient<F: Real>(
    layout: &Layout,
    layer: usize,
    delta: ArrayView2<F>,
    layer_input: ArrayView2<F>,
    gradient: &mut [F],
) {
    {
        let mut weight_gradient = layout.weights_mut(layer, gradient);
        ndarray::linalg::general_mat_mul(
            F::one(),
            &delta.t(),
            &layer_input,
            F::zero(),
            &mut weight_gradient,
        );
    }
    let start = layout.bias_index(layer, 0);
    let bias_sums = delta.sum_axis(Axis(0));
    for (slot, value) in gradient[start..].iter_mut().zip(bias_sums.iter()) {
        *slot = *value;
    }
}

/// Adds the per-example squared gradients of one layer, weighted by nothing
/// (each row of `delta` is one example's own error), into `accumulator`.
pub fn add_squared_gradients<F: Real>(
    layout: &Layout,
    layer: usize,
    delta: ArrayView2<F>,
    layer_input: ArrayView2<F>,
    accumulator: &mut [F],
) {
    // The per-example weight gradient is the outer product delta_i h_i^T,
    // so the sum of its squares over examples is (delta^2)^T (h^2).
    let delta_squared = delta.mapv(|value| value * value);
    let input_squared = layer_input.mapv(|value| value * value);
    {
        let mut weights = layout.weights_mut(layer, accumulator);
        ndarray::linalg::general_mat_mul(
            F::one(),
            &delta_squared.t(),
            &input_squared,
            F::one(),
            &mut weights,
        );
    }
    let start = layout.bias_index(layer, 0);
    let bias_sums = delta_squared.sum_axis(Axis(0));
    for (slot, value) in accumulator[start..].iter_mut().zip(bias_sums.iter()) {
        *slot = *slot + *value;
    }
}
