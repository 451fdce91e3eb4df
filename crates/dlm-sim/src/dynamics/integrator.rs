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

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::config::Integrator;

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
pub fn underdamped_step(
    theta: &mut [f32],
    velocity: &mut [f32],
    gradient: &[f32],
    update: &LayerUpdate,
    rng: &mut impl Rng,
) -> bool {
    let dt = update.dt as f32;
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
    let gamma = update.gamma as f32;
    let mu = decay as f32;
    let noise_scale = noise_scale as f32;
    let force = update.force_coefficient as f32;
    let has_force = force != 0.0;
    let has_noise = noise_scale != 0.0;

    let mut finite = true;
    for index in 0..theta.len() {
        if let Some(mask) = update.mask
            && !mask[index]
        {
            continue;
        }

        let v = velocity[index];
        let mut drive = -gradient[index];
        if has_force {
            let direction = match update.force_direction {
                Some(direction) => direction[index],
                None => v,
            };
            drive += force * direction;
        }

        let mut next = match update.integrator {
            Integrator::Euler => v + dt * (drive - gamma * v),
            Integrator::OuExact => mu * v + dt * drive,
        };
        if has_noise {
            let xi: f32 = StandardNormal.sample(rng);
            next += noise_scale * xi;
        }

        velocity[index] = next;
        theta[index] += dt * next;
        finite &= theta[index].is_finite() & next.is_finite();
    }
    finite
}

/// One SGLD step of one layer. Returns false when a parameter became non-finite.
pub fn overdamped_step(
    theta: &mut [f32],
    gradient: &[f32],
    eta: f64,
    temperature: f64,
    mask: Option<&[bool]>,
    rng: &mut impl Rng,
) -> bool {
    let step = eta as f32;
    let noise_scale = (2.0 * eta * temperature).sqrt() as f32;
    let has_noise = noise_scale != 0.0;

    let mut finite = true;
    for index in 0..theta.len() {
        if let Some(mask) = mask
            && !mask[index]
        {
            continue;
        }
        let mut next = theta[index] - step * gradient[index];
        if has_noise {
            let xi: f32 = StandardNormal.sample(rng);
            next += noise_scale * xi;
        }
        theta[index] = next;
        finite &= next.is_finite();
    }
    finite
}
