//! With zero temperature and zero coupling the DLM update is heavy-ball SGD
//! in u = dt v: u <- mu u - dt^2 g, theta <- theta + u, mu = 1 - gamma dt.
//! This file writes that optimiser separately and compares it with the
//! engine on the real digits data, with the same initial weights and the
//! same minibatches.

use dlm_sim::data::{self, Dataset};
use dlm_sim::engine::{
    BATCH_STREAM, INIT_STREAM, Minibatches, NOISE_STREAM, StepOutcome, Trainer, stream_rng,
    task_steps,
};
use dlm_sim::net::{
    Backprop, Forward, Layout, SoftmaxLoss, backpropagate, initialise, layer_gradient,
    softmax_cross_entropy,
};
use dlm_sim::tasks::{self, Task};
use dlm_sim::{Baseline, Method, PerLayer, RunConfig, simulate};
use ndarray::Array2;

const SEED: u64 = 7;

fn zero_energy_config() -> RunConfig {
    let mut config = RunConfig::default();
    config.dynamics.method = Method::Dlm;
    config.dynamics.temperature = PerLayer::Scalar(0.0);
    config.dynamics.alpha = PerLayer::Scalar(0.0);
    config
}

/// Heavy-ball SGD written from its textbook form, in f32 like the engine.
struct HeavyBall {
    layout: Layout,
    params: Vec<Vec<f32>>,
    momentum_buffer: Vec<Vec<f32>>,
    momentum: f32,
    learning_rate: f32,
}

impl HeavyBall {
    fn step(&mut self, data: &Dataset, task: &Task, positions: &[usize]) {
        let rows = positions.len();
        let mut batch = Array2::<f32>::zeros((rows, data.num_features()));
        task.gather(data, &task.train, positions, batch.view_mut());
        let targets: Vec<usize> = positions
            .iter()
            .map(|&position| task.train.targets[position])
            .collect();

        let mut forward = Forward::new(&self.layout, rows);
        forward.run(&self.layout, &self.params, batch.view());
        let mut buffers = Backprop::new(&self.layout, rows);
        softmax_cross_entropy(
            forward.logits().view(),
            &task.head,
            &targets,
            buffers.top_mut(),
            SoftmaxLoss::BatchMean,
        );
        let mut gradients = self.layout.zeros::<f32>();
        let layout = &self.layout;
        backpropagate(
            layout,
            &self.params,
            batch.view(),
            &forward,
            &mut buffers,
            |layer, delta, input| {
                layer_gradient(layout, layer, delta, input, &mut gradients[layer]);
            },
        );

        for layer in 0..self.params.len() {
            for index in 0..self.params[layer].len() {
                let buffer = &mut self.momentum_buffer[layer][index];
                *buffer = self.momentum * *buffer - self.learning_rate * gradients[layer][index];
                self.params[layer][index] += *buffer;
            }
        }
    }
}

fn relative_difference(left: &[Vec<f32>], right: &[Vec<f32>]) -> f64 {
    let mut difference = 0.0f64;
    let mut norm = 0.0f64;
    for (left_layer, right_layer) in left.iter().zip(right) {
        for (a, b) in left_layer.iter().zip(right_layer) {
            difference += ((*a as f64) - (*b as f64)).powi(2);
            norm += (*b as f64).powi(2);
        }
    }
    (difference / norm).sqrt()
}

#[test]
fn zero_energy_dlm_tracks_heavy_ball() {
    let config = zero_energy_config();
    let split = data::load(&config.data).unwrap();
    let task_list = tasks::build(&config, &split).unwrap();
    let layout = Layout::new(
        split.train.num_features(),
        &config.model.hidden,
        split.train.num_classes,
        config.model.activation,
    );
    let initial = initialise::<f32>(&layout, &mut stream_rng(SEED, INIT_STREAM));

    let mut trainer = Trainer::new(
        &config,
        layout.clone(),
        initial.clone(),
        stream_rng(SEED, NOISE_STREAM),
    );
    let dt = config.dynamics.dt;
    let mut heavy_ball = HeavyBall {
        layout: layout.clone(),
        momentum_buffer: layout.zeros(),
        params: initial,
        momentum: (1.0 - 1.0 * dt) as f32,
        learning_rate: (dt * dt) as f32,
    };

    let task = &task_list[0];
    trainer.begin_task(task);
    let mut batches = Minibatches::new(stream_rng(SEED, BATCH_STREAM), config.tasks.batch_size);
    batches.begin_task(task.train.len());
    let mut largest = 0.0f64;
    for step in 0..100 {
        let positions = batches.next_batch().to_vec();
        let outcome = trainer.step(&split.train, task, &positions, 1.0);
        assert!(
            matches!(outcome, StepOutcome::Completed(_)),
            "step {step} diverged"
        );
        heavy_ball.step(&split.train, task, &positions);

        let difference = relative_difference(&trainer.params, &heavy_ball.params);
        largest = largest.max(difference);
        assert!(
            difference <= 1e-6,
            "step {}: relative parameter difference {difference:.3e} > 1e-6",
            step + 1
        );
    }
    // The weights must actually have moved, or the comparison proves nothing.
    let moved = relative_difference(
        &heavy_ball.params,
        &initialise::<f32>(&layout, &mut stream_rng(SEED, INIT_STREAM)),
    );
    assert!(
        moved > 1e-3,
        "the parameters moved only {moved:.3e} in 100 steps"
    );
    eprintln!("largest relative difference over 100 steps: {largest:.3e}");
}

#[test]
fn zero_energy_run_matches_heavy_ball_accuracy() {
    let config = zero_energy_config();
    let report = simulate(&config, SEED, &mut ()).unwrap();
    assert!(!report.summary.diverged);

    let split = data::load(&config.data).unwrap();
    let task_list = tasks::build(&config, &split).unwrap();
    let steps = task_steps(&config, &task_list);
    let layout = Layout::new(
        split.train.num_features(),
        &config.model.hidden,
        split.train.num_classes,
        config.model.activation,
    );
    let dt = config.dynamics.dt;
    let mut heavy_ball = HeavyBall {
        layout: layout.clone(),
        momentum_buffer: layout.zeros(),
        params: initialise::<f32>(&layout, &mut stream_rng(SEED, INIT_STREAM)),
        momentum: (1.0 - 1.0 * dt) as f32,
        learning_rate: (dt * dt) as f32,
    };
    let mut batches = Minibatches::new(stream_rng(SEED, BATCH_STREAM), config.tasks.batch_size);

    let score = |params: &[Vec<f32>]| -> Vec<f64> {
        task_list
            .iter()
            .map(|task| tasks::accuracy(&layout, params, &split.test, task, 512))
            .collect()
    };
    let mut expected = vec![score(&heavy_ball.params)];
    for (task, &task_steps) in task_list.iter().zip(&steps) {
        batches.begin_task(task.train.len());
        for _ in 0..task_steps {
            let positions = batches.next_batch().to_vec();
            heavy_ball.step(&split.train, task, &positions);
        }
        expected.push(score(&heavy_ball.params));
    }

    assert_eq!(report.accuracy.len(), expected.len());
    for (row, (engine_row, heavy_row)) in report.accuracy.iter().zip(&expected).enumerate() {
        for (column, (engine, heavy)) in engine_row.iter().zip(heavy_row).enumerate() {
            let one_example = 1.0 / task_list[column].test.len() as f64;
            assert!(
                (engine - heavy).abs() <= one_example + 1e-12,
                "R[{row}][{column}]: engine {engine} vs heavy-ball {heavy} differ by more than one test example"
            );
        }
    }
}

#[test]
fn sgd_baseline_equals_zero_energy_dlm_bitwise() {
    let dlm = simulate(&zero_energy_config(), SEED, &mut ()).unwrap();
    let sgd = simulate(
        &RunConfig::default().to_baseline(Baseline::Sgd),
        SEED,
        &mut (),
    )
    .unwrap();
    assert_eq!(dlm.accuracy, sgd.accuracy);
    assert_eq!(dlm.series.loss, sgd.series.loss);
    assert_eq!(dlm.series.energy, sgd.series.energy);
}
