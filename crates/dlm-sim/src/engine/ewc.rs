//! The diagonal Fisher information of a task and online elastic weight
//! consolidation.
//!
//! The Fisher diagonal is the mean over the task's whole training set of
//! squared per-example gradients of the cross-entropy over the task's head:
//! with the true labels (`empirical`), or averaged over every label weighted
//! by the model's predicted probability (`exact`, computed in closed form by
//! one backward pass per head logit). Penalties and weight decay are not part
//! of it. Online EWC accumulates F <- decay F + F_task at each task end,
//! anchors theta* at the end-of-task parameters, and adds
//! (lambda/2) sum_i F_i (theta_i - theta*_i)^2 to the loss.

use ndarray::Array2;

use crate::config::{EwcConfig, FisherKind};
use crate::data::Dataset;
use crate::net::{
    Backprop, Forward, Layout, SoftmaxLoss, add_squared_gradients, backpropagate,
    softmax_cross_entropy, softmax_over_head,
};
use crate::tasks::Task;

/// Examples per forward pass while computing the Fisher information.
const FISHER_CHUNK: usize = 256;

/// Computes the task's diagonal Fisher information (flat layout per layer).
pub fn diagonal_fisher(
    layout: &Layout,
    params: &[Vec<f32>],
    data: &Dataset,
    task: &Task,
    kind: FisherKind,
) -> Vec<Vec<f32>> {
    let mut fisher = layout.zeros::<f32>();
    let examples = &task.train;
    let mut forward = Forward::new(layout, FISHER_CHUNK);
    let mut buffers = Backprop::new(layout, FISHER_CHUNK);
    let positions: Vec<usize> = (0..examples.len()).collect();

    for block in positions.chunks(FISHER_CHUNK) {
        let rows = block.len();
        let mut batch = Array2::<f32>::zeros((rows, data.num_features()));
        task.gather(data, examples, block, batch.view_mut());
        forward.run(layout, params, batch.view());
        buffers.ensure_batch(layout, rows);

        match kind {
            FisherKind::Empirical => {
                let targets: Vec<usize> = block
                    .iter()
                    .map(|&position| examples.targets[position])
                    .collect();
                softmax_cross_entropy(
                    forward.logits().view(),
                    &task.head,
                    &targets,
                    buffers.top_mut(),
                    SoftmaxLoss::PerExample,
                );
                backpropagate(
                    layout,
                    params,
                    batch.view(),
                    &forward,
                    &mut buffers,
                    |layer, delta, input| {
                        add_squared_gradients(layout, layer, delta, input, &mut fisher[layer]);
                    },
                );
            }
            FisherKind::Exact => {
                // shape: rows x head
                let probabilities = softmax_over_head(forward.logits().view(), &task.head);
                for label in 0..task.head.len() {
                    // The gradient of -log p_label is p - e_label; scaling each
                    // example's error by sqrt(p_label) weights its square by p_label.
                    let top = buffers.top_mut();
                    top.fill(0.0);
                    for row in 0..rows {
                        let weight = probabilities[[row, label]].sqrt();
                        for (slot, &column) in task.head.iter().enumerate() {
                            let indicator = if slot == label { 1.0 } else { 0.0 };
                            top[[row, column]] = weight * (probabilities[[row, slot]] - indicator);
                        }
                    }
                    backpropagate(
                        layout,
                        params,
                        batch.view(),
                        &forward,
                        &mut buffers,
                        |layer, delta, input| {
                            add_squared_gradients(layout, layer, delta, input, &mut fisher[layer]);
                        },
                    );
                }
            }
        }
    }

    let count = examples.len() as f32;
    for layer in fisher.iter_mut() {
        layer.iter_mut().for_each(|value| *value /= count);
    }
    fisher
}

/// Trace of each layer's Fisher diagonal, summed in f64.
pub fn fisher_traces(fisher: &[Vec<f32>]) -> Vec<f64> {
    fisher
        .iter()
        .map(|layer| layer.iter().map(|value| *value as f64).sum())
        .collect()
}

/// The accumulated Fisher information and anchor of online EWC.
#[derive(Clone, Debug)]
pub struct EwcState {
    enabled: bool,
    lambda: f64,
    decay: f32,
    fisher: Option<Vec<Vec<f32>>>,
    anchor: Vec<Vec<f32>>,
}

impl EwcState {
    pub fn new(config: &EwcConfig) -> Self {
        Self {
            enabled: config.enabled,
            lambda: config.lambda,
            decay: config.decay as f32,
            fisher: None,
            anchor: Vec::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Folds a finished task's Fisher into the running total and moves the anchor.
    pub fn consolidate(&mut self, task_fisher: Vec<Vec<f32>>, params: &[Vec<f32>]) {
        if !self.enabled {
            return;
        }
        let merged = match self.fisher.take() {
            None => task_fisher,
            Some(mut total) => {
                for (total_layer, task_layer) in total.iter_mut().zip(&task_fisher) {
                    for (slot, value) in total_layer.iter_mut().zip(task_layer) {
                        *slot = self.decay * *slot + value;
                    }
                }
                total
            }
        };
        self.fisher = Some(merged);
        self.anchor = params.to_vec();
    }

    /// Adds lambda F (theta - theta*) to `gradients` and returns the penalty
    /// (lambda/2) sum F (theta - theta*)^2; 0 before the first task ends.
    pub fn add_penalty(&self, params: &[Vec<f32>], gradients: &mut [Vec<f32>]) -> f64 {
        let Some(fisher) = &self.fisher else {
            return 0.0;
        };
        let lambda = self.lambda as f32;
        let mut penalty = 0.0f64;
        for layer in 0..params.len() {
            let values = params[layer]
                .iter()
                .zip(&self.anchor[layer])
                .zip(&fisher[layer]);
            for (slot, ((theta, anchor), weight)) in gradients[layer].iter_mut().zip(values) {
                let offset = theta - anchor;
                *slot += lambda * weight * offset;
                penalty += (*weight as f64) * (offset as f64) * (offset as f64);
            }
        }
        0.5 * self.lambda * penalty
    }
}
