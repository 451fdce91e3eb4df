//! Synthetic classification data labelled by random teacher networks.
//!
//! Inputs are standard normal vectors. A teacher is a one-hidden-layer tanh
//! network with weights drawn N(0, 1/fan_in) and zero biases; its label is
//! the arg-max of its outputs. Teacher k labels the same inputs for task k of
//! a `teacher` sequence, so the tasks differ only in their labelling rule.

use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;
use crate::config::TeacherConfig;

/// Stream of the data-seed generator for the inputs; teacher k uses
/// `TEACHER_STREAM_BASE + k`.
const INPUT_STREAM: u64 = 2;
const TEACHER_STREAM_BASE: u64 = 100;

/// Generates the inputs and labels them with teacher 0.
pub fn generate(config: &TeacherConfig, data_seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    rng.set_stream(INPUT_STREAM);
    // shape: samples x inputs
    let features = Array2::from_shape_simple_fn((config.samples, config.inputs), || {
        StandardNormal.sample(&mut rng)
    });
    let labels = teacher_labels(config, data_seed, 0, &features);
    Dataset {
        features,
        labels,
        num_classes: config.classes,
    }
}

/// Labels `features` (shape: examples x inputs) with teacher `index`.
pub fn teacher_labels(
    config: &TeacherConfig,
    data_seed: u64,
    index: usize,
    features: &Array2<f32>,
) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    rng.set_stream(TEACHER_STREAM_BASE + index as u64);

    let inputs = features.ncols();
    let first_std = (1.0 / inputs as f64).sqrt() as f32;
    let second_std = (1.0 / config.hidden as f64).sqrt() as f32;
    // shape: inputs x hidden, hidden x classes
    let first = Array2::from_shape_simple_fn((inputs, config.hidden), || {
        let draw: f32 = StandardNormal.sample(&mut rng);
        first_std * draw
    });
    let second = Array2::from_shape_simple_fn((config.hidden, config.classes), || {
        let draw: f32 = StandardNormal.sample(&mut rng);
        second_std * draw
    });

    let hidden = features.dot(&first).mapv(f32::tanh);
    let outputs = hidden.dot(&second);
    outputs
        .axis_iter(Axis(0))
        .map(|row| {
            let mut best = 0;
            for (class, &value) in row.iter().enumerate() {
                if value > row[best] {
                    best = class;
                }
            }
            best
        })
        .collect()
}
