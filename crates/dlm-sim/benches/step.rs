//! Training steps per second of one run (one thread, f32), and the rate of
//! the matrix products alone at the same shapes, for the digits network
//! (64-128-128-10, batch 32) and an MNIST-sized network (784-256-256-10,
//! batch 128). docs/benchmarks.md records the results next to the NumPy
//! reference in benches/numpy_step.py.
//!
//! A second group times the noise alone: one digits step's worth of f32
//! standard normal draws from the engine's sampler and from `rand_distr`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dlm_sim::data::Dataset;
use dlm_sim::engine::{NOISE_STREAM, StepOutcome, Trainer, stream_rng};
use dlm_sim::net::{Layout, initialise};
use dlm_sim::random::fill_standard_normal;
use dlm_sim::tasks::{Task, TaskExamples};
use dlm_sim::{Activation, Baseline, RunConfig};
use ndarray::Array2;
use ndarray::linalg::general_mat_mul;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

struct Shape {
    name: &'static str,
    inputs: usize,
    hidden: [usize; 2],
    batch: usize,
}

const SHAPES: [Shape; 2] = [
    Shape {
        name: "digits 64-128-128-10 batch 32",
        inputs: 64,
        hidden: [128, 128],
        batch: 32,
    },
    Shape {
        name: "mnist-sized 784-256-256-10 batch 128",
        inputs: 784,
        hidden: [256, 256],
        batch: 128,
    },
];

const CLASSES: usize = 10;
const EXAMPLES: usize = 2048;

/// Inputs |z| clipped to [0, 1] with cyclic labels: the cost of a step does not depend on the values.
fn synthetic_task(inputs: usize) -> (Dataset, Task) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let features = Array2::from_shape_simple_fn((EXAMPLES, inputs), || {
        let draw: f32 = StandardNormal.sample(&mut rng);
        draw.abs().min(1.0)
    });
    let labels: Vec<usize> = (0..EXAMPLES).map(|index| index % CLASSES).collect();
    let examples = TaskExamples {
        indices: (0..EXAMPLES).collect(),
        targets: labels.clone(),
    };
    let data = Dataset {
        features,
        labels,
        num_classes: CLASSES,
    };
    let task = Task {
        train: examples.clone(),
        test: examples,
        head: (0..CLASSES).collect(),
        permutation: None,
    };
    (data, task)
}

fn bench_steps(criterion: &mut Criterion) {
    for shape in &SHAPES {
        let (data, task) = synthetic_task(shape.inputs);
        let mut group = criterion.benchmark_group(shape.name);
        group.throughput(Throughput::Elements(1));

        let mut dlm = RunConfig::default();
        dlm.model.hidden = shape.hidden.to_vec();
        dlm.tasks.batch_size = shape.batch;
        let sgd = dlm.to_baseline(Baseline::Sgd);

        for (label, config) in [("dlm step", &dlm), ("sgd step", &sgd)] {
            let layout = Layout::new(shape.inputs, &shape.hidden, CLASSES, Activation::Relu);
            let params = initialise::<f32>(&layout, &mut ChaCha8Rng::seed_from_u64(1));
            let mut trainer = Trainer::new(config, layout, params, stream_rng(1, NOISE_STREAM));
            trainer.begin_task(&task);
            let batches = EXAMPLES / shape.batch;
            let mut next = 0usize;
            group.bench_function(label, |bencher| {
                bencher.iter(|| {
                    let start = (next % batches) * shape.batch;
                    next += 1;
                    let positions: Vec<usize> = (start..start + shape.batch).collect();
                    let outcome = trainer.step(&data, &task, &positions, 1.0);
                    assert!(matches!(outcome, StepOutcome::Completed(_)));
                });
            });
        }

        // The matrix products of one step: per layer the forward product, the
        // weight gradient and (except the first layer) the input gradient.
        let sizes = [shape.inputs, shape.hidden[0], shape.hidden[1], CLASSES];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut random = |rows: usize, columns: usize| {
            Array2::<f32>::from_shape_simple_fn((rows, columns), || StandardNormal.sample(&mut rng))
        };
        let activations: Vec<Array2<f32>> = sizes
            .iter()
            .map(|&units| random(shape.batch, units))
            .collect();
        let weights: Vec<Array2<f32>> = (0..3)
            .map(|layer| random(sizes[layer + 1], sizes[layer]))
            .collect();
        let mut outputs: Vec<Array2<f32>> = (0..3)
            .map(|layer| Array2::zeros((shape.batch, sizes[layer + 1])))
            .collect();
        let mut weight_gradients: Vec<Array2<f32>> = (0..3)
            .map(|layer| Array2::zeros((sizes[layer + 1], sizes[layer])))
            .collect();
        let mut input_gradients: Vec<Array2<f32>> = (0..3)
            .map(|layer| Array2::zeros((shape.batch, sizes[layer])))
            .collect();
        group.bench_function("matrix products of one step", |bencher| {
            bencher.iter(|| {
                for layer in 0..3 {
                    general_mat_mul(
                        1.0,
                        &activations[layer],
                        &weights[layer].t(),
                        0.0,
                        &mut outputs[layer],
                    );
                    general_mat_mul(
                        1.0,
                        &outputs[layer].t(),
                        &activations[layer],
                        0.0,
                        &mut weight_gradients[layer],
                    );
                    if layer > 0 {
                        general_mat_mul(
                            1.0,
                            &outputs[layer],
                            &weights[layer],
                            0.0,
                            &mut input_gradients[layer],
                        );
                    }
                }
                black_box(&weight_gradients);
            });
        });
        group.finish();
    }
}

/// Parameters of the digits network, so one DLM step draws this many normals.
const DIGITS_PARAMETERS: usize = (64 * 128 + 128) + (128 * 128 + 128) + (128 * 10 + 10);

fn bench_normal_draws(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("standard normal f32 draws");
    group.throughput(Throughput::Elements(DIGITS_PARAMETERS as u64));
    let mut values = vec![0.0f32; DIGITS_PARAMETERS];

    let mut rng = stream_rng(1, NOISE_STREAM);
    group.bench_function("dlm_sim ziggurat", |bencher| {
        bencher.iter(|| {
            fill_standard_normal(&mut rng, &mut values);
            black_box(&values);
        });
    });

    let mut rng = stream_rng(1, NOISE_STREAM);
    group.bench_function("rand_distr StandardNormal", |bencher| {
        bencher.iter(|| {
            for value in values.iter_mut() {
                *value = StandardNormal.sample(&mut rng);
            }
            black_box(&values);
        });
    });
    group.finish();
}

criterion_group!(benches, bench_steps, bench_normal_draws);
criterion_main!(benches);
