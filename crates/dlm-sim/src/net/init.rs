//! Weight initialisation: He-normal for relu networks, Glorot-normal for
//! tanh networks, on every layer including the output; zero biases.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Layout, Real};
use crate::config::Activation;

/// Draws the initial parameters, layer by layer, weights in row-major order.
pub fn initialise<F: Real>(layout: &Layout, rng: &mut impl Rng) -> Vec<Vec<F>> {
    let mut params = layout.zeros::<F>();
    for (layer, flat) in params.iter_mut().enumerate() {
        let fan_in = layout.inputs(layer) as f64;
        let fan_out = layout.outputs(layer) as f64;
        let std = match layout.activation {
            Activation::Relu => (2.0 / fan_in).sqrt(),
            Activation::Tanh => (2.0 / (fan_in + fan_out)).sqrt(),
        };
        let weight_count = layout.outputs(layer) * layout.inputs(layer);
        for weight in flat[..weight_count].iter_mut() {
            let draw: f64 = StandardNormal.sample(rng);
            *weight = F::cast_from_f64(std * draw);
        }
    }
    params
}
