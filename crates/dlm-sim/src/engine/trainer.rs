//! The network state and one training step: forward and backward pass,
//! penalties, the per-step measurements and the parameter update.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::ewc::EwcState;
use crate::config::{Direction, InactiveHeads, Method, RunConfig, Scenario, TaskKind};
use crate::data::Dataset;
use crate::dynamics::{
    DIRECTION_EPSILON, LayerUpdate, coupling_value, heat_flow, kinetic_temperature,
    overdamped_step, underdamped_step,
};
use crate::net::{
    Backprop, Forward, Layout, SoftmaxLoss, backpropagate, current_gradient, currents_and_activity,
    layer_gradient, softmax_cross_entropy,
};
use crate::random::NoiseSource;
use crate::tasks::Task;

/// Per-layer dynamics parameters resolved from the configuration.
#[derive(Clone, Debug)]
pub struct LayerParameters {
    pub gamma: Vec<f64>,
    pub temperature: Vec<f64>,
    pub alpha: Vec<f64>,
}

impl LayerParameters {
    pub fn resolve(config: &RunConfig) -> Self {
        let layers = config.weight_layers();
        let dynamics = &config.dynamics;
        let (temperature, alpha) = match dynamics.method {
            Method::Dlm => (
                dynamics.temperature.resolve(layers),
                dynamics.alpha.resolve(layers),
            ),
            Method::Sgd => (vec![0.0; layers], vec![0.0; layers]),
            Method::Sgld => (dynamics.temperature.resolve(layers), vec![0.0; layers]),
        };
        Self {
            gamma: dynamics.gamma.resolve(layers),
            temperature,
            alpha,
        }
    }
}

/// Measurements of one step, all taken at the state the step starts from.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub loss: f64,
    pub currents: Vec<f64>,
    pub grad_norms: Vec<f64>,
    pub temperatures: Vec<f64>,
    pub sigma_flux: Option<f64>,
    pub sigma_heat: Option<f64>,
    pub energy: f64,
    pub p_in: Option<f64>,
    pub p_out: Option<f64>,
    pub activity: f64,
}

impl StepRecord {
    fn is_finite(&self) -> bool {
        let optional = [self.sigma_flux, self.sigma_heat, self.p_in, self.p_out];
        self.loss.is_finite()
            && self.energy.is_finite()
            && self.activity.is_finite()
            && self
                .currents
                .iter()
                .chain(&self.grad_norms)
                .all(|value| value.is_finite())
            && optional.iter().flatten().all(|value| value.is_finite())
    }
}

/// Result of a step: its measurements, or divergence.
#[derive(Clone, Debug)]
pub enum StepOutcome {
    Completed(StepRecord),
    /// The loss, a measurement, a parameter or a velocity became non-finite.
    Diverged,
}

/// The network and everything that persists across steps.
pub struct Trainer<'a> {
    pub config: &'a RunConfig,
    pub layout: Layout,
    pub params: Vec<Vec<f32>>,
    pub velocity: Vec<Vec<f32>>,
    pub layer_parameters: LayerParameters,
    pub ewc: EwcState,
    pub noise: NoiseSource<ChaCha8Rng>,
    /// Update mask of the output layer for the current task (`frozen` heads only).
    output_mask: Option<Vec<bool>>,
    forward: Forward<f32>,
    backprop: Backprop<f32>,
    batch: Array2<f32>,
    targets: Vec<usize>,
    gradients: Vec<Vec<f32>>,
    current_gradients: Vec<Vec<f32>>,
}

impl<'a> Trainer<'a> {
    pub fn new(
        config: &'a RunConfig,
        layout: Layout,
        params: Vec<Vec<f32>>,
        noise_rng: ChaCha8Rng,
    ) -> Self {
        let batch_size = config.tasks.batch_size;
        let inputs = layout.sizes[0];
        Self {
            config,
            velocity: layout.zeros(),
            gradients: layout.zeros(),
            current_gradients: layout.zeros(),
            forward: Forward::new(&layout, batch_size),
            backprop: Backprop::new(&layout, batch_size),
            batch: Array2::zeros((batch_size, inputs)),
            targets: vec![0; batch_size],
            layer_parameters: LayerParameters::resolve(config),
            ewc: EwcState::new(&config.ewc),
            output_mask: None,
            noise: NoiseSource::new(noise_rng),
            params,
            layout,
        }
    }

    /// Sets the output-layer update mask for the task that starts.
    pub fn begin_task(&mut self, task: &Task) {
        let frozen = self.config.dynamics.inactive_heads == InactiveHeads::Frozen;
        let separate_heads = self.config.tasks.kind == TaskKind::Split
            && self.config.tasks.scenario == Scenario::Task;
        if !(frozen && separate_heads) {
            self.output_mask = None;
            return;
        }

        let layer = self.layout.layers() - 1;
        let inputs = self.layout.inputs(layer);
        let mut mask = vec![false; self.layout.param_count(layer)];
        for &unit in &task.head {
            mask[unit * inputs..(unit + 1) * inputs].fill(true);
            mask[self.layout.bias_index(layer, unit)] = true;
        }
        self.output_mask = Some(mask);
    }

    /// Runs one step on the minibatch at `positions` of the task's training
    /// examples, with the schedule factor `schedule` for T_l(t).
    pub fn step(
        &mut self,
        data: &Dataset,
        task: &Task,
        positions: &[usize],
        schedule: f64,
    ) -> StepOutcome {
        task.gather(data, &task.train, positions, self.batch.view_mut());
        for (slot, &position) in self.targets.iter_mut().zip(positions) {
            *slot = task.train.targets[position];
        }

        self.forward
            .run(&self.layout, &self.params, self.batch.view());
        let mut loss = softmax_cross_entropy(
            self.forward.logits().view(),
            &task.head,
            &self.targets,
            self.backprop.top_mut(),
            SoftmaxLoss::BatchMean,
        );
        let layout = &self.layout;
        let gradients = &mut self.gradients;
        backpropagate(
            layout,
            &self.params,
            self.batch.view(),
            &self.forward,
            &mut self.backprop,
            |layer, delta, input| {
                layer_gradient(layout, layer, delta, input, &mut gradients[layer])
            },
        );
        loss += self.add_penalties();
        if !loss.is_finite() {
            return StepOutcome::Diverged;
        }

        let (currents, activity) =
            currents_and_activity(&self.layout, self.batch.view(), &self.forward, &task.head);
        let temperatures: Vec<f64> = self
            .layer_parameters
            .temperature
            .iter()
            .map(|base| base * schedule)
            .collect();
        let output_mask = self.output_mask.take();
        let record = self.measure_and_update(
            loss,
            currents,
            activity,
            temperatures,
            task,
            output_mask.as_deref(),
        );
        self.output_mask = output_mask;
        match record {
            Some(record) if record.is_finite() => StepOutcome::Completed(record),
            _ => StepOutcome::Diverged,
        }
    }

    /// Adds weight decay and the EWC penalty to the gradients; returns their loss.
    fn add_penalties(&mut self) -> f64 {
        let mut penalty = 0.0f64;
        let weight_decay = self.config.dynamics.weight_decay;
        if weight_decay > 0.0 {
            let coefficient = weight_decay as f32;
            for (theta, gradient) in self.params.iter().zip(self.gradients.iter_mut()) {
                let mut squared = 0.0f64;
                for (value, slot) in theta.iter().zip(gradient.iter_mut()) {
                    squared += (*value as f64) * (*value as f64);
                    *slot += coefficient * value;
                }
                penalty += 0.5 * weight_decay * squared;
            }
        }
        penalty += self.ewc.add_penalty(&self.params, &mut self.gradients);
        penalty
    }

    /// Takes the per-step measurements from the starting state, then updates
    /// every layer. Returns `None` when the update produced a non-finite value.
    fn measure_and_update(
        &mut self,
        loss: f64,
        currents: Vec<f64>,
        activity: f64,
        temperatures: Vec<f64>,
        task: &Task,
        output_mask: Option<&[bool]>,
    ) -> Option<StepRecord> {
        let dynamics = &self.config.dynamics;
        let layers = self.layout.layers();
        let underdamped = dynamics.method != Method::Sgld;
        let all_hot = temperatures.iter().all(|temperature| *temperature > 0.0);

        let mut grad_norms = Vec::with_capacity(layers);
        let mut kinetic = 0.0f64;
        let mut sigma_flux = 0.0f64;
        let mut sigma_heat = 0.0f64;
        let mut p_in = 0.0f64;
        let mut p_out = 0.0f64;
        let mut finite = true;

        for layer in 0..layers {
            let gamma = self.layer_parameters.gamma[layer];
            let temperature = temperatures[layer];
            let gradient_norm = norm_squared(&self.gradients[layer], None).sqrt();
            grad_norms.push(gradient_norm);
            sigma_flux += currents[layer] * gradient_norm / temperature;
            let mask = if layer + 1 == layers {
                output_mask
            } else {
                None
            };

            if !underdamped {
                let eta = dynamics.effective_sgld_eta();
                finite &= overdamped_step(
                    &mut self.params[layer],
                    &self.gradients[layer],
                    eta,
                    temperature,
                    mask,
                    &mut self.noise,
                );
                continue;
            }

            let velocity = &self.velocity[layer];
            let moving_count = mask.map_or(velocity.len(), |mask| {
                mask.iter().filter(|flag| **flag).count()
            });
            let moving_kinetic = norm_squared(velocity, mask);
            kinetic += match mask {
                None => moving_kinetic,
                Some(_) => norm_squared(velocity, None),
            };

            let strength = self.layer_parameters.alpha[layer]
                * coupling_value(dynamics.coupling, currents[layer]);
            let mut force_coefficient = 0.0;
            let mut force_power = 0.0;
            let use_gradient_direction = dynamics.direction == Direction::CurrentGradient;
            if strength != 0.0 {
                if use_gradient_direction {
                    current_gradient(
                        &self.layout,
                        layer,
                        self.batch.view(),
                        &self.forward,
                        &task.head,
                        &mut self.current_gradients[layer],
                    );
                    let direction = &self.current_gradients[layer];
                    force_coefficient =
                        strength / (norm_squared(direction, mask).sqrt() + DIRECTION_EPSILON);
                    force_power = force_coefficient * dot(direction, velocity, mask);
                } else {
                    force_coefficient = strength / (moving_kinetic.sqrt() + DIRECTION_EPSILON);
                    force_power = force_coefficient * moving_kinetic;
                }
            }

            let kinetic_target =
                kinetic_temperature(dynamics.integrator, temperature, gamma, dynamics.dt);
            sigma_heat +=
                heat_flow(gamma, moving_kinetic, moving_count, kinetic_target) / temperature;
            p_in += force_power + gamma * moving_count as f64 * temperature;
            p_out += gamma * moving_kinetic;

            let update = LayerUpdate {
                dt: dynamics.dt,
                gamma,
                temperature,
                integrator: dynamics.integrator,
                force_coefficient,
                force_direction: (use_gradient_direction && strength != 0.0)
                    .then_some(self.current_gradients[layer].as_slice()),
                mask,
            };
            finite &= underdamped_step(
                &mut self.params[layer],
                &mut self.velocity[layer],
                &self.gradients[layer],
                &update,
                &mut self.noise,
            );
        }

        if !finite {
            return None;
        }
        Some(StepRecord {
            loss,
            currents,
            grad_norms,
            temperatures,
            sigma_flux: all_hot.then_some(sigma_flux),
            sigma_heat: (all_hot && underdamped).then_some(sigma_heat),
            energy: loss + 0.5 * kinetic,
            p_in: underdamped.then_some(p_in),
            p_out: underdamped.then_some(p_out),
            activity,
        })
    }
}

/// Number of independent partial sums in the reductions below. A fixed
/// lane count keeps the summation order, and so the bits, the same on every
/// machine while letting the additions overlap.
const LANES: usize = 8;

/// Sum of squares in f64, over the masked entries only when a mask is given.
pub fn norm_squared(values: &[f32], mask: Option<&[bool]>) -> f64 {
    dot(values, values, mask)
}

/// Dot product in f64 with `LANES` partial sums, over the masked entries only when a mask is given.
fn dot(left: &[f32], right: &[f32], mask: Option<&[bool]>) -> f64 {
    let mut lanes = [0.0f64; LANES];
    match mask {
        None => {
            let left_chunks = left.chunks_exact(LANES);
            let right_chunks = right.chunks_exact(LANES);
            let left_rest = left_chunks.remainder();
            let right_rest = right_chunks.remainder();
            for (a, b) in left_chunks.zip(right_chunks) {
                for lane in 0..LANES {
                    lanes[lane] += (a[lane] as f64) * (b[lane] as f64);
                }
            }
            for (lane, (a, b)) in left_rest.iter().zip(right_rest).enumerate() {
                lanes[lane] += (*a as f64) * (*b as f64);
            }
        }
        Some(mask) => {
            for (index, ((a, b), keep)) in left.iter().zip(right).zip(mask).enumerate() {
                if *keep {
                    lanes[index % LANES] += (*a as f64) * (*b as f64);
                }
            }
        }
    }
    lanes.iter().sum()
}
