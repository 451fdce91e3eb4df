//! Schedules, coupling forms, the EWC penalty, frozen heads and the Fisher
//! information, each against values worked out independently.

use dlm_sim::data::{Dataset, SplitData};
use dlm_sim::dynamics::{coupling_value, schedule_factor};
use dlm_sim::engine::{EwcState, NOISE_STREAM, StepOutcome, Trainer, diagonal_fisher, stream_rng};
use dlm_sim::net::{
    Backprop, Forward, Layout, SoftmaxLoss, backpropagate, initialise, layer_gradient,
    softmax_cross_entropy,
};
use dlm_sim::tasks::{Task, TaskExamples};
use dlm_sim::{
    Activation, Coupling, EwcConfig, FisherKind, InactiveHeads, PerLayer, RunConfig, Schedule,
    ScheduleKind,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn schedules_take_their_defining_values() {
    let schedule = |kind| Schedule { kind, tau: 200.0 };
    let cases = [
        (ScheduleKind::Constant, 700, 3, 10, 1.0),
        (ScheduleKind::Hyperbolic, 0, 0, 10, 1.0),
        (ScheduleKind::Hyperbolic, 200, 0, 10, 0.5),
        (ScheduleKind::Hyperbolic, 600, 0, 10, 0.25),
        (ScheduleKind::Exponential, 200, 0, 10, (-1.0f64).exp()),
        (ScheduleKind::Exponential, 400, 0, 10, (-2.0f64).exp()),
        // cyclic restarts at every task: only the step within the task counts
        (ScheduleKind::Cyclic, 999, 0, 10, 1.0),
        (ScheduleKind::Cyclic, 999, 5, 10, 0.5),
        (
            ScheduleKind::Cyclic,
            0,
            9,
            10,
            0.5 * (1.0 + (0.9 * std::f64::consts::PI).cos()),
        ),
    ];
    for (kind, run_step, task_step, task_steps, expected) in cases {
        let value = schedule_factor(&schedule(kind), run_step, task_step, task_steps);
        assert!(
            (value - expected).abs() < 1e-12,
            "{kind:?} at ({run_step}, {task_step}): {value} vs {expected}"
        );
    }
}

#[test]
fn coupling_forms() {
    let cases = [
        (Coupling::Linear, -2.0, -2.0),
        (Coupling::Linear, 0.3, 0.3),
        (Coupling::Tanh, 0.5, 0.46211715726000974),
        (Coupling::Tanh, -40.0, -1.0),
        (Coupling::Quadratic, -2.0, -4.0),
        (Coupling::Quadratic, 0.5, 0.25),
    ];
    for (coupling, current, expected) in cases {
        let value = coupling_value(coupling, current);
        assert!(
            (value - expected).abs() < 1e-15,
            "{coupling:?}({current}) = {value}, expected {expected}"
        );
    }
}

#[test]
fn ewc_penalty_and_gradient_by_hand() {
    let config = EwcConfig {
        enabled: true,
        lambda: 4.0,
        decay: 0.5,
        fisher: FisherKind::Empirical,
    };
    let mut state = EwcState::new(&config);
    let anchor = vec![vec![1.0f32, -1.0]];
    state.consolidate(vec![vec![0.5, 2.0]], &anchor);
    // second task: F = 0.5 * [0.5, 2] + [1, 0] = [1.25, 1], anchor moves to [0, 0]
    state.consolidate(vec![vec![1.0, 0.0]], &[vec![0.0, 0.0]]);

    let params = vec![vec![2.0f32, -3.0]];
    let mut gradients = vec![vec![0.1f32, 0.0]];
    let penalty = state.add_penalty(&params, &mut gradients);
    // (4/2) * (1.25 * 2^2 + 1 * 3^2) = 2 * 14 = 28
    assert!((penalty - 28.0).abs() < 1e-9, "penalty {penalty}");
    // 4 * 1.25 * 2 + 0.1 = 10.1 and 4 * 1 * (-3) = -12
    assert!((gradients[0][0] - 10.1).abs() < 1e-5, "{:?}", gradients);
    assert!((gradients[0][1] + 12.0).abs() < 1e-5, "{:?}", gradients);

    let disabled = EwcState::new(&EwcConfig::default());
    let mut untouched = vec![vec![0.0f32; 2]];
    assert_eq!(disabled.add_penalty(&params, &mut untouched), 0.0);
    assert_eq!(untouched, vec![vec![0.0f32; 2]]);
}

/// Twelve random examples of 5 features in 4 classes, one task on classes 1 and 3.
fn small_problem() -> (Layout, Vec<Vec<f32>>, Dataset, Task) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let layout = Layout::new(5, &[6], 4, Activation::Tanh);
    let params = initialise::<f32>(&layout, &mut rng);
    let features = Array2::from_shape_simple_fn((12, 5), || StandardNormal.sample(&mut rng));
    let labels: Vec<usize> = (0..12).map(|index| [1, 3][index % 2]).collect();
    let data = Dataset {
        features,
        labels: labels.clone(),
        num_classes: 4,
    };
    let examples = TaskExamples {
        indices: (0..12).collect(),
        targets: (0..12).map(|index| index % 2).collect(),
    };
    let task = Task {
        train: examples.clone(),
        test: examples,
        head: vec![1, 3],
        permutation: None,
    };
    (layout, params, data, task)
}

/// Gradient of one example's loss with `target` (an index into the head).
fn single_example_gradient(
    layout: &Layout,
    params: &[Vec<f32>],
    data: &Dataset,
    task: &Task,
    row: usize,
    target: usize,
) -> Vec<Vec<f32>> {
    let mut input = Array2::<f32>::zeros((1, 5));
    input.row_mut(0).assign(&data.features.row(row));
    let mut forward = Forward::new(layout, 1);
    forward.run(layout, params, input.view());
    let mut buffers = Backprop::new(layout, 1);
    softmax_cross_entropy(
        forward.logits().view(),
        &task.head,
        &[target],
        buffers.top_mut(),
        SoftmaxLoss::BatchMean,
    );
    let mut gradients = layout.zeros::<f32>();
    backpropagate(
        layout,
        params,
        input.view(),
        &forward,
        &mut buffers,
        |layer, delta, layer_input| {
            layer_gradient(layout, layer, delta, layer_input, &mut gradients[layer]);
        },
    );
    gradients
}

fn head_probabilities(
    layout: &Layout,
    params: &[Vec<f32>],
    data: &Dataset,
    task: &Task,
    row: usize,
) -> Vec<f64> {
    let mut input = Array2::<f32>::zeros((1, 5));
    input.row_mut(0).assign(&data.features.row(row));
    let mut forward = Forward::new(layout, 1);
    forward.run(layout, params, input.view());
    let logits: Vec<f64> = task
        .head
        .iter()
        .map(|&column| forward.logits()[[0, column]] as f64)
        .collect();
    let total: f64 = logits.iter().map(|value| value.exp()).sum();
    logits.iter().map(|value| value.exp() / total).collect()
}

fn assert_fisher_close(actual: &[Vec<f32>], expected: &[Vec<f64>], what: &str) {
    let scale = expected
        .iter()
        .flatten()
        .fold(0.0f64, |max, value| max.max(value.abs()));
    assert!(scale > 0.0);
    for (layer, (actual_layer, expected_layer)) in actual.iter().zip(expected).enumerate() {
        for (index, (a, e)) in actual_layer.iter().zip(expected_layer).enumerate() {
            // f32 sums over 12 examples: a few ulps of the largest entry.
            assert!(
                ((*a as f64) - e).abs() <= 1e-5 * scale,
                "{what} layer {layer} entry {index}: {a} vs {e}"
            );
        }
    }
}

#[test]
fn empirical_fisher_is_mean_squared_example_gradient() {
    let (layout, params, data, task) = small_problem();
    let mut expected: Vec<Vec<f64>> = (0..layout.layers())
        .map(|layer| vec![0.0; layout.param_count(layer)])
        .collect();
    for row in 0..12 {
        let gradient =
            single_example_gradient(&layout, &params, &data, &task, row, task.train.targets[row]);
        for (sum, layer) in expected.iter_mut().zip(&gradient) {
            for (slot, value) in sum.iter_mut().zip(layer) {
                *slot += (*value as f64).powi(2) / 12.0;
            }
        }
    }
    let fisher = diagonal_fisher(&layout, &params, &data, &task, FisherKind::Empirical);
    assert_fisher_close(&fisher, &expected, "empirical");
}

#[test]
fn exact_fisher_averages_over_predicted_labels() {
    let (layout, params, data, task) = small_problem();
    let mut expected: Vec<Vec<f64>> = (0..layout.layers())
        .map(|layer| vec![0.0; layout.param_count(layer)])
        .collect();
    for row in 0..12 {
        let probabilities = head_probabilities(&layout, &params, &data, &task, row);
        for (label, probability) in probabilities.iter().enumerate() {
            let gradient = single_example_gradient(&layout, &params, &data, &task, row, label);
            for (sum, layer) in expected.iter_mut().zip(&gradient) {
                for (slot, value) in sum.iter_mut().zip(layer) {
                    *slot += probability * (*value as f64).powi(2) / 12.0;
                }
            }
        }
    }
    let fisher = diagonal_fisher(&layout, &params, &data, &task, FisherKind::Exact);
    assert_fisher_close(&fisher, &expected, "exact");

    let empirical = diagonal_fisher(&layout, &params, &data, &task, FisherKind::Empirical);
    assert_ne!(fisher, empirical);
}

#[test]
fn frozen_heads_keep_inactive_output_rows() {
    for (heads, expect_frozen) in [
        (InactiveHeads::Frozen, true),
        (InactiveHeads::Diffuse, false),
    ] {
        let mut config = RunConfig::default();
        config.dynamics.inactive_heads = heads;
        config.dynamics.temperature = PerLayer::Scalar(1e-3);
        let split: SplitData = dlm_sim::data::load(&config.data).unwrap();
        let task_list = dlm_sim::tasks::build(&config, &split).unwrap();
        let layout = Layout::new(64, &config.model.hidden, 10, config.model.activation);
        let initial = initialise::<f32>(&layout, &mut ChaCha8Rng::seed_from_u64(1));
        let mut trainer = Trainer::new(
            &config,
            layout.clone(),
            initial.clone(),
            stream_rng(1, NOISE_STREAM),
        );

        let task = &task_list[0];
        trainer.begin_task(task);
        for step in 0..20 {
            let positions: Vec<usize> = (step..step + 32).collect();
            assert!(matches!(
                trainer.step(&split.train, task, &positions, 1.0),
                StepOutcome::Completed(_)
            ));
        }

        let output = layout.layers() - 1;
        let inputs = layout.inputs(output);
        for unit in 0..10 {
            let rows = unit * inputs..(unit + 1) * inputs;
            let bias = layout.bias_index(output, unit);
            let unchanged = trainer.params[output][rows.clone()] == initial[output][rows]
                && trainer.params[output][bias] == initial[output][bias];
            let active = task.head.contains(&unit);
            assert_eq!(
                unchanged,
                expect_frozen && !active,
                "{heads:?}: output unit {unit} (active {active})"
            );
        }
    }
}
