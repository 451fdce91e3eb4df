//! Backpropagated gradients against central finite differences, in f64.
//!
//! Central differences with step h have truncation error O(h^2 f''') and
//! rounding error O(eps |f| / h); with h = 1e-5 in f64 both are below 1e-8
//! relative, so a relative tolerance of 1e-5 fails on any real mistake
//! (a missing factor, a transposed matrix, a wrong derivative) but not on
//! noise. Parameters sitting next to a relu kink could break that, so the
//! inputs and weights are random and the check is repeated on tanh, which
//! has no kinks.

use dlm_sim::Activation;
use dlm_sim::net::{
    Backprop, Forward, Layout, SoftmaxLoss, backpropagate, current_gradient, currents_and_activity,
    initialise, layer_gradient, softmax_cross_entropy,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const STEP: f64 = 1e-5;
const TOLERANCE: f64 = 1e-5;

struct Case {
    activation: Activation,
    head: Vec<usize>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            activation: Activation::Tanh,
            head: vec![0, 1, 2, 3],
        },
        Case {
            activation: Activation::Tanh,
            head: vec![1, 3],
        },
        Case {
            activation: Activation::Relu,
            head: vec![0, 1, 2, 3],
        },
        Case {
            activation: Activation::Relu,
            head: vec![2, 3],
        },
    ]
}

fn random_batch(rng: &mut ChaCha8Rng, rows: usize, columns: usize) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, columns), || StandardNormal.sample(rng))
}

fn loss_of(
    layout: &Layout,
    params: &[Vec<f64>],
    input: &Array2<f64>,
    head: &[usize],
    targets: &[usize],
) -> f64 {
    let mut forward = Forward::new(layout, input.nrows());
    forward.run(layout, params, input.view());
    let mut delta = Array2::zeros((input.nrows(), layout.outputs(layout.layers() - 1)));
    softmax_cross_entropy(
        forward.logits().view(),
        head,
        targets,
        &mut delta,
        SoftmaxLoss::BatchMean,
    )
}

fn current_of(
    layout: &Layout,
    params: &[Vec<f64>],
    input: &Array2<f64>,
    head: &[usize],
    layer: usize,
) -> f64 {
    let mut forward = Forward::new(layout, input.nrows());
    forward.run(layout, params, input.view());
    currents_and_activity(layout, input.view(), &forward, head).0[layer]
}

/// Central difference of `function` with respect to parameter `index` of `layer`.
fn central_difference(
    params: &[Vec<f64>],
    layer: usize,
    index: usize,
    function: impl Fn(&[Vec<f64>]) -> f64,
) -> f64 {
    let mut shifted = params.to_vec();
    shifted[layer][index] += STEP;
    let above = function(&shifted);
    shifted[layer][index] -= 2.0 * STEP;
    let below = function(&shifted);
    (above - below) / (2.0 * STEP)
}

fn assert_close(analytic: f64, numeric: f64, scale: f64, what: &str) {
    let error = (analytic - numeric).abs();
    assert!(
        error <= TOLERANCE * scale.max(1e-3),
        "{what}: backprop {analytic:.10e} vs finite difference {numeric:.10e} (scale {scale:.3e})"
    );
}

#[test]
fn loss_gradient_matches_finite_differences() {
    for (case_index, case) in cases().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(11 + case_index as u64);
        let layout = Layout::new(5, &[7, 6], 4, case.activation);
        let params = initialise::<f64>(&layout, &mut rng);
        // Non-zero biases so their gradients are exercised away from symmetry.
        let mut params = params;
        for layer in 0..layout.layers() {
            for unit in 0..layout.outputs(layer) {
                let draw: f64 = StandardNormal.sample(&mut rng);
                params[layer][layout.bias_index(layer, unit)] = 0.1 * draw;
            }
        }
        let input = random_batch(&mut rng, 9, 5);
        let targets: Vec<usize> = (0..9).map(|row| row % case.head.len()).collect();

        let mut forward = Forward::new(&layout, 9);
        forward.run(&layout, &params, input.view());
        let mut buffers = Backprop::new(&layout, 9);
        softmax_cross_entropy(
            forward.logits().view(),
            &case.head,
            &targets,
            buffers.top_mut(),
            SoftmaxLoss::BatchMean,
        );
        let mut gradients = layout.zeros::<f64>();
        backpropagate(
            &layout,
            &params,
            input.view(),
            &forward,
            &mut buffers,
            |layer, delta, layer_input| {
                layer_gradient(&layout, layer, delta, layer_input, &mut gradients[layer]);
            },
        );

        let scale = gradients
            .iter()
            .flatten()
            .fold(0.0f64, |max, value| max.max(value.abs()));
        for layer in 0..layout.layers() {
            for index in 0..layout.param_count(layer) {
                let numeric = central_difference(&params, layer, index, |shifted| {
                    loss_of(&layout, shifted, &input, &case.head, &targets)
                });
                let what = format!("case {case_index} layer {layer} parameter {index}");
                assert_close(gradients[layer][index], numeric, scale, &what);
            }
        }
    }
}

#[test]
fn current_gradient_matches_finite_differences() {
    for (case_index, case) in cases().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(101 + case_index as u64);
        let layout = Layout::new(5, &[7, 6], 4, case.activation);
        let params = initialise::<f64>(&layout, &mut rng);
        let input = random_batch(&mut rng, 8, 5);

        let mut forward = Forward::new(&layout, 8);
        forward.run(&layout, &params, input.view());
        for layer in 0..layout.layers() {
            let mut gradient = vec![0.0; layout.param_count(layer)];
            current_gradient(
                &layout,
                layer,
                input.view(),
                &forward,
                &case.head,
                &mut gradient,
            );
            let scale = gradient
                .iter()
                .fold(0.0f64, |max, value| max.max(value.abs()));
            assert!(
                scale > 0.0,
                "case {case_index} layer {layer}: current gradient is identically zero"
            );

            // Only theta_l is varied: J_l's dependence on earlier layers is not part of dJ_l/dtheta_l.
            for index in 0..layout.param_count(layer) {
                let numeric = central_difference(&params, layer, index, |shifted| {
                    current_of(&layout, shifted, &input, &case.head, layer)
                });
                let what = format!("case {case_index} current of layer {layer}, parameter {index}");
                assert_close(gradient[index], numeric, scale, &what);
            }
        }
    }
}
