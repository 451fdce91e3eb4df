//! One step of the dynamics for one weight layer.
//!
//! Underdamped, per parameter, with g the gradient, f the force and xi a
//! fresh standard normal:
//! - `euler`: v <- v + dt (-g - gamma v + f) + sqrt(2 gamma T dt) xi
//! - `ou_exact`: v <- e^{-gamma dt} v + dt (-g + f) + sqrt(T (1 - e^{-2 gamma dt})) xi
//!
//! then theta <- theta + dt v. With T = 0 and no force this is heavy-ball
//! SGD in u = dt v: u <- mu u - dt^2 g with mu = 1 - gamma dt (euler) or
//! e^{-gamma dt} (ou_exact). Overdamped (SGLD): theta <- theta - eta g + sqrt(2 eta T) xi.

use rand::RngCore;

use crate::config::Integrator;
use crate::random::NoiseSource;

/// Everything one layer's underdamped step needs besides its state.
#[derive(Clone, Copy, Debug)]
pub struct LayerUpdate<'a> {
    pub dt: f64,
    pub gamma: f64,
    /// Scheduled temperature T_l(t).
    pub temperature: f64,
    pub integrator: Integrator,
    /// alpha_l c(J_l) / (|u_l| + eps): the force is this times u_l.
    pub force_coefficient: f64,
    /// u_l for the `current_gradient` direction; `None` means u_l = v_l.
    pub force_direction: Option<&'a [f32]>,
    /// Parameters taking part in the update; `None` means all.
    pub mask: Option<&'a [bool]>,
}

/// Stationary kinetic temperature of a free particle under the integrator:
/// T / (1 - gamma dt / 2) for `euler` (its explicit friction step heats the
/// velocity), exactly T for `ou_exact`.
pub fn kinetic_temperature(integrator: Integrator, temperature: f64, gamma: f64, dt: f64) -> f64 {
    match integrator {
        Integrator::Euler => temperature / (1.0 - gamma * dt / 2.0),
        Integrator::OuExact => temperature,
    }
}

/// Heat flow into the bath of one layer, Qdot = gamma (|v|^2 - n T*), with
/// T* the integrator's stationary kinetic temperature, so that it averages
/// to zero in equilibrium up to O(dt^2).
pub fn heat_flow(
    gamma: f64,
    velocity_norm_squared: f64,
    count: usize,
    kinetic_temperature: f64,
) -> f64 {
    gamma * (velocity_norm_squared - count as f64 * kinetic_temperature)
}

/// Advances one layer by one step. Returns false when a parameter or a
/// velocity became non-finite.
///
/// Noise is drawn first, one normal per updated parameter in index order,
/// so the arithmetic loop has no random-number calls and vectorises.
pub fn underdamped_step(
    theta: &mut [f32],
    velocity: &mut [f32],
    gradient: &[f32],
    update: &LayerUpdate,
    noise: &mut NoiseSource<impl RngCore>,
) -> bool {
    let (decay, noise_scale) = match update.integrator {
        Integrator::Euler => (
            1.0 - update.gamma * update.dt,
            (2.0 * update.gamma * update.temperature * update.dt).sqrt(),
        ),
        Integrator::OuExact => {
            let mu = (-update.gamma * update.dt).exp();
            (mu, (update.temperature * (1.0 - mu * mu)).sqrt())
        }
    };
    let coefficients = Coefficients {
        dt: update.dt as f32,
        gamma: update.gamma as f32,
        mu: decay as f32,
        force: update.force_coefficient as f32,
        integrator: update.integrator,
    };
    let noise_scale = noise_scale as f32;

    if let Some(mask) = update.mask {
        return masked_underdamped_step(
            theta,
            velocity,
            gradient,
            update,
            mask,
            &coefficients,
            noise_scale,
            noise,
        );
    }

    // Without noise the buffer is zeros: adding +0.0 leaves every value as it is.
    let noise = noise.scaled_normals(theta.len(), noise_scale);
    let direction = update.force_direction.unwrap_or(&[]);
    let along_velocity = update.force_direction.is_none();
    let mut finite = true;
    let lanes = theta
        .iter_mut()
        .zip(velocity.iter_mut())
        .zip(gradient)
        .zip(noise);
    if along_velocity {
        for (((position, v), g), xi) in lanes {
            let next = coefficients.next_velocity(*v, *g, *v) + xi;
            *v = next;
            *position += coefficients.dt * next;
            finite &= position.is_finite() & next.is_finite();
        }
    } else {
        for ((((position, v), g), xi), d) in lanes.zip(direction) {
            let next = coefficients.next_velocity(*v, *g, *d) + xi;
            *v = next;
            *position += coefficients.dt * next;
            finite &= position.is_finite() & next.is_finite();
        }
    }
    finite
}

/// Scalars of one underdamped step in the network's precision.
struct Coefficients {
    dt: f32,
    gamma: f32,
    mu: f32,
    force: f32,
    integrator: Integrator,
}

impl Coefficients {
    /// The velocity after the step, before noise.
    #[inline(always)]
    fn next_velocity(&self, v: f32, gradient: f32, direction: f32) -> f32 {
        let drive = -gradient + self.force * direction;
        match self.integrator {
            Integrator::Euler => v + self.dt * (drive - self.gamma * v),
            Integrator::OuExact => self.mu * v + self.dt * drive,
        }
    }
}

/// Number of parameters that an update moves.
fn moving_count(length: usize, mask: Option<&[bool]>) -> usize {
    mask.map_or(length, |mask| mask.iter().filter(|flag| **flag).count())
}

#[allow(clippy::too_many_arguments)]
fn masked_underdamped_step(
    theta: &mut [f32],
    velocity: &mut [f32],
    gradient: &[f32],
    update: &LayerUpdate,
    mask: &[bool],
    coefficients: &Coefficients,
    noise_scale: f32,
    noise: &mut NoiseSource<impl RngCore>,
) -> bool {
    // One draw per moving parameter, in index order, as without a mask.
    let mut draws = noise
        .scaled_normals(moving_count(theta.len(), Some(mask)), noise_scale)
        .iter();
    let mut finite = true;
    for index in 0..theta.len() {
        if !mask[index] {
            continue;
        }
        let v = velocity[index];
        let direction = match update.force_direction {
            Some(direction) => direction[index],
            None => v,
        };
        let xi = draws.next().expect("one draw per moving parameter");
        let next = coefficients.next_velocity(v, gradient[index], direction) + xi;
        velocity[index] = next;
        theta[index] += coefficients.dt * next;
        finite &= theta[index].is_finite() & next.is_finite();
    }
    finite
}

/// Advances one layer by one SGLD step. Returns false when a parameter became non-finite.
pub fn overdamped_step(
    theta: &mut [f32],
    gradient: &[f32],
    eta: f64,
    temperature: f64,
    mask: Option<&[bool]>,
    noise: &mut NoiseSource<impl RngCore>,
) -> bool {
    let step = eta as f32;
    let noise_scale = (2.0 * eta * temperature).sqrt() as f32;
    let mut draws = noise
        .scaled_normals(moving_count(theta.len(), mask), noise_scale)
        .iter();

    let mut finite = true;
    for index in 0..theta.len() {
        if let Some(mask) = mask
            && !mask[index]
        {
            continue;
        }
        let xi = draws.next().expect("one draw per moving parameter");
        let next = theta[index] - step * gradient[index] + xi;
        theta[index] = next;
        finite &= next.is_finite();
    }
    finite
}
