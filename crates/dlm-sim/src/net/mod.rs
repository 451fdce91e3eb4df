//! The multilayer perceptron: layout, parameters, forward pass, softmax
//! cross-entropy and backpropagation.
//!
//! The engine runs the network in f32; the code is generic over the float
//! type so the gradient tests can run it in f64 against finite differences.
//! Each weight layer's parameters are one flat vector `theta_l = (W_l, b_l)`:
//! `W_l` row-major with shape (outputs x inputs), then the `outputs` biases.
//! Norms, dot products and parameter counts of the dynamics use that vector.

mod backprop;
mod current;
mod init;
mod loss;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, LinalgScalar, ScalarOperand};
use num_traits::Float;

pub use backprop::{Backprop, add_squared_gradients, backpropagate, layer_gradient};
pub use current::{current_gradient, currents_and_activity};
pub use init::initialise;
pub use loss::{SoftmaxLoss, softmax_cross_entropy, softmax_over_head};

use crate::config::Activation;

/// Float type the network can run in (f32 for runs, f64 for tests).
pub trait Real:
    Float + LinalgScalar + ScalarOperand + std::fmt::Debug + Send + Sync + 'static
{
    fn cast_from_f64(value: f64) -> Self;
    fn as_f64(self) -> f64;
}

impl Real for f32 {
    fn cast_from_f64(value: f64) -> Self {
        value as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    fn cast_from_f64(value: f64) -> Self {
        value
    }
    fn as_f64(self) -> f64 {
        self
    }
}

/// Units per level: `sizes[0]` inputs, then each hidden layer, then outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub sizes: Vec<usize>,
    pub activation: Activation,
}

impl Layout {
    pub fn new(inputs: usize, hidden: &[usize], outputs: usize, activation: Activation) -> Self {
        let mut sizes = Vec::with_capacity(hidden.len() + 2);
        sizes.push(inputs);
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        Self { sizes, activation }
    }

    /// Number of weight layers L.
    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    pub fn inputs(&self, layer: usize) -> usize {
        self.sizes[layer]
    }

    pub fn outputs(&self, layer: usize) -> usize {
        self.sizes[layer + 1]
    }

    /// n_l: weights plus biases of a layer.
    pub fn param_count(&self, layer: usize) -> usize {
        self.outputs(layer) * (self.inputs(layer) + 1)
    }

    pub fn total_params(&self) -> usize {
        (0..self.layers())
            .map(|layer| self.param_count(layer))
            .sum()
    }

    /// A zero vector per layer, shaped like the parameters.
    pub fn zeros<F: Real>(&self) -> Vec<Vec<F>> {
        (0..self.layers())
            .map(|layer| vec![F::zero(); self.param_count(layer)])
            .collect()
    }

    /// The weight matrix of `flat` (shape: outputs x inputs).
    pub fn weights<'a, F: Real>(&self, layer: usize, flat: &'a [F]) -> ArrayView2<'a, F> {
        let shape = (self.outputs(layer), self.inputs(layer));
        ArrayView2::from_shape(shape, &flat[..shape.0 * shape.1])
            .expect("flat layer has outputs x inputs weights")
    }

    pub fn weights_mut<'a, F: Real>(
        &self,
        layer: usize,
        flat: &'a mut [F],
    ) -> ArrayViewMut2<'a, F> {
        let shape = (self.outputs(layer), self.inputs(layer));
        ArrayViewMut2::from_shape(shape, &mut flat[..shape.0 * shape.1])
            .expect("flat layer has outputs x inputs weights")
    }

    pub fn biases<'a, F: Real>(&self, layer: usize, flat: &'a [F]) -> ArrayView1<'a, F> {
        let start = self.outputs(layer) * self.inputs(layer);
        ArrayView1::from(&flat[start..])
    }

    /// Index of bias `unit` of a layer in its flat vector.
    pub fn bias_index(&self, layer: usize, unit: usize) -> usize {
        self.outputs(layer) * self.inputs(layer) + unit
    }
}

/// Post-activations of one forward pass: `levels[l]` is h_{l+1} with shape
/// (batch x units), the last entry the logits. The input h_0 is kept by the caller.
#[derive(Clone, Debug)]
pub struct Forward<F> {
    pub levels: Vec<Array2<F>>,
}

impl<F: Real> Forward<F> {
    pub fn new(layout: &Layout, batch: usize) -> Self {
        let levels = (0..layout.layers())
            .map(|layer| Array2::zeros((batch, layout.outputs(layer))))
            .collect();
        Self { levels }
    }

    pub fn batch(&self) -> usize {
        self.levels[0].nrows()
    }

    pub fn logits(&self) -> &Array2<F> {
        self.levels
            .last()
            .expect("a network has at least one layer")
    }

    /// h_level for level 0..=L, with h_0 = `input`.
    pub fn level<'a>(&'a self, input: ArrayView2<'a, F>, level: usize) -> ArrayView2<'a, F> {
        if level == 0 {
            return input;
        }
        self.levels[level - 1].view()
    }

    /// Runs the network on `input` (shape: batch x inputs), reusing the buffers.
    pub fn run(&mut self, layout: &Layout, params: &[Vec<F>], input: ArrayView2<F>) {
        let batch = input.nrows();
        if self.batch() != batch {
            *self = Forward::new(layout, batch);
        }
        let last = layout.layers() - 1;

        for layer in 0..layout.layers() {
            let (before, after) = self.levels.split_at_mut(layer);
            let previous = if layer == 0 {
                input
            } else {
                before[layer - 1].view()
            };
            let output = &mut after[0];

            let weights = layout.weights(layer, &params[layer]);
            ndarray::linalg::general_mat_mul(F::one(), &previous, &weights.t(), F::zero(), output);
            let biases = layout.biases(layer, &params[layer]);
            output.axis_iter_mut(Axis(0)).for_each(|mut row| {
                row.zip_mut_with(&biases, |value, &bias| *value = *value + bias)
            });

            if layer < last {
                apply_activation(layout.activation, output);
            }
        }
    }
}

fn apply_activation<F: Real>(activation: Activation, values: &mut Array2<F>) {
    match activation {
        Activation::Relu => values.mapv_inplace(|value| value.max(F::zero())),
        Activation::Tanh => values.mapv_inplace(|value| value.tanh()),
    }
}

/// phi'(z) expressed through h = phi(z), which is all the forward pass keeps.
pub fn activation_derivative<F: Real>(activation: Activation, h: F) -> F {
    match activation {
        Activation::Relu => {
            if h > F::zero() {
                F::one()
            } else {
                F::zero()
            }
        }
        Activation::Tanh => F::one() - h * h,
    }
}
