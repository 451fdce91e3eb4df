//! The integrators on a quadratic loss U = k theta^2 / 2 (independent
//! particles), where the stationary distribution is known.
//!
//! In continuous time the Gibbs distribution gives Var(v) = T and
//! Var(theta) = T/k. Each discrete scheme is a linear map
//! x' = A x + b xi of x = (theta, v), so its exact stationary covariance is
//! the fixed point of Sigma = A Sigma A^T + b b^T (the discrete Lyapunov
//! equation), solved here by iteration. For `euler`
//! A = [[1 - dt^2 k, dt a], [-dt k, a]] with a = 1 - gamma dt and
//! b = [dt s, s], s = sqrt(2 gamma T dt); `ou_exact` has a = e^{-gamma dt}
//! and s = sqrt(T (1 - a^2)).
//!
//! Sampling error: each particle's run is cut into blocks much longer than
//! the correlation time (at most ~gamma/k = 100 steps here), so block means
//! are nearly independent and their spread gives the standard error with the
//! autocorrelation accounted for. Checks use 5 standard errors.

use dlm_sim::Integrator;
use dlm_sim::dynamics::{
    DIRECTION_EPSILON, LayerUpdate, heat_flow, kinetic_temperature, underdamped_step,
};
use dlm_sim::random::NoiseSource;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const GAMMA: f64 = 1.0;
const DT: f64 = 0.1;
const TEMPERATURE: f64 = 0.5;
const PARTICLES: usize = 32;
const BURN_IN: usize = 2_000;
const BLOCK: usize = 2_000;
const BLOCKS: usize = 60;

/// Stationary covariance [[Var theta, Cov], [Cov, Var v]] of the linear scheme.
fn lyapunov_covariance(integrator: Integrator, stiffness: f64) -> [[f64; 2]; 2] {
    let (a, s) = match integrator {
        Integrator::Euler => (1.0 - GAMMA * DT, (2.0 * GAMMA * TEMPERATURE * DT).sqrt()),
        Integrator::OuExact => {
            let mu = (-GAMMA * DT).exp();
            (mu, (TEMPERATURE * (1.0 - mu * mu)).sqrt())
        }
    };
    let transition = [[1.0 - DT * DT * stiffness, DT * a], [-DT * stiffness, a]];
    let noise = [DT * s, s];

    let mut sigma = [[0.0; 2]; 2];
    for _ in 0..200_000 {
        let mut next = [[0.0; 2]; 2];
        for row in 0..2 {
            for column in 0..2 {
                let mut total = noise[row] * noise[column];
                for i in 0..2 {
                    for j in 0..2 {
                        total += transition[row][i] * sigma[i][j] * transition[column][j];
                    }
                }
                next[row][column] = total;
            }
        }
        sigma = next;
    }
    sigma
}

/// Block means of a per-step statistic; returns (mean, standard error).
struct BlockMeans {
    blocks: Vec<f64>,
    current: f64,
    count: usize,
}

impl BlockMeans {
    fn new() -> Self {
        Self {
            blocks: Vec::new(),
            current: 0.0,
            count: 0,
        }
    }

    fn add(&mut self, value: f64) {
        self.current += value;
        self.count += 1;
        if self.count == BLOCK {
            self.blocks.push(self.current / BLOCK as f64);
            self.current = 0.0;
            self.count = 0;
        }
    }

    fn estimate(&self) -> (f64, f64) {
        let n = self.blocks.len() as f64;
        let mean = self.blocks.iter().sum::<f64>() / n;
        let variance = self
            .blocks
            .iter()
            .map(|block| (block - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (mean, (variance / n).sqrt())
    }
}

struct Simulation {
    theta_variance: BlockMeans,
    velocity_variance: BlockMeans,
    sigma_heat: BlockMeans,
}

/// Runs the particles and collects per-step statistics. `force_current` is
/// the fixed current J of a linear velocity coupling with strength `alpha`.
fn simulate(
    integrator: Integrator,
    stiffness: f64,
    alpha: f64,
    force_current: f64,
    seed: u64,
) -> Simulation {
    let mut noise = NoiseSource::new(ChaCha8Rng::seed_from_u64(seed));
    let mut theta = vec![0.0f32; PARTICLES];
    let mut velocity = vec![0.0f32; PARTICLES];
    let mut gradient = vec![0.0f32; PARTICLES];
    let kinetic_target = kinetic_temperature(integrator, TEMPERATURE, GAMMA, DT);

    let mut result = Simulation {
        theta_variance: BlockMeans::new(),
        velocity_variance: BlockMeans::new(),
        sigma_heat: BlockMeans::new(),
    };
    for step in 0..BURN_IN + BLOCK * BLOCKS {
        let kinetic: f64 = velocity.iter().map(|v| (*v as f64).powi(2)).sum();
        if step >= BURN_IN {
            let potential: f64 = theta.iter().map(|x| (*x as f64).powi(2)).sum();
            result.theta_variance.add(potential / PARTICLES as f64);
            result.velocity_variance.add(kinetic / PARTICLES as f64);
            result
                .sigma_heat
                .add(heat_flow(GAMMA, kinetic, PARTICLES, kinetic_target) / TEMPERATURE);
        }

        for (slot, x) in gradient.iter_mut().zip(&theta) {
            *slot = (stiffness as f32) * x;
        }
        let update = LayerUpdate {
            dt: DT,
            gamma: GAMMA,
            temperature: TEMPERATURE,
            integrator,
            force_coefficient: alpha * force_current / (kinetic.sqrt() + DIRECTION_EPSILON),
            force_direction: None,
            mask: None,
        };
        assert!(underdamped_step(
            &mut theta,
            &mut velocity,
            &gradient,
            &update,
            &mut noise
        ));
    }
    result
}

fn assert_within(name: &str, (estimate, error): (f64, f64), expected: f64) {
    assert!(
        (estimate - expected).abs() <= 5.0 * error,
        "{name}: sample {estimate:.5} vs expected {expected:.5} (standard error {error:.5})"
    );
}

#[test]
fn stationary_variances_match_discrete_lyapunov() {
    let stiffness = 1.0;
    for (index, integrator) in [Integrator::Euler, Integrator::OuExact]
        .into_iter()
        .enumerate()
    {
        let expected = lyapunov_covariance(integrator, stiffness);
        let run = simulate(integrator, stiffness, 0.0, 0.0, 21 + index as u64);
        assert_within(
            &format!("{integrator:?} Var(theta)"),
            run.theta_variance.estimate(),
            expected[0][0],
        );
        assert_within(
            &format!("{integrator:?} Var(v)"),
            run.velocity_variance.estimate(),
            expected[1][1],
        );
    }
}

#[test]
fn euler_kinetic_temperature_bias_is_detected() {
    // The continuous-time value T is off by gamma dt / 2 / (1 - gamma dt / 2),
    // about 5 %, many standard errors: the test above could tell the difference.
    let run = simulate(Integrator::Euler, 1.0, 0.0, 0.0, 31);
    let (estimate, error) = run.velocity_variance.estimate();
    assert!(
        (estimate - TEMPERATURE).abs() > 10.0 * error,
        "euler Var(v) {estimate:.5} is indistinguishable from T = {TEMPERATURE}"
    );
}

#[test]
fn free_particle_kinetic_temperature() {
    let euler = lyapunov_covariance(Integrator::Euler, 0.0)[1][1];
    let exact = lyapunov_covariance(Integrator::OuExact, 0.0)[1][1];
    let expected_euler = kinetic_temperature(Integrator::Euler, TEMPERATURE, GAMMA, DT);
    assert!(
        (euler - expected_euler).abs() < 1e-12 * expected_euler,
        "{euler} vs {expected_euler}"
    );
    assert!(
        (exact - TEMPERATURE).abs() < 1e-12,
        "{exact} vs {TEMPERATURE}"
    );

    for (index, integrator) in [Integrator::Euler, Integrator::OuExact]
        .into_iter()
        .enumerate()
    {
        let run = simulate(integrator, 0.0, 0.0, 0.0, 41 + index as u64);
        let expected = kinetic_temperature(integrator, TEMPERATURE, GAMMA, DT);
        assert_within(
            &format!("{integrator:?} free Var(v)"),
            run.velocity_variance.estimate(),
            expected,
        );
    }
}

#[test]
fn sigma_heat_vanishes_in_equilibrium() {
    // At k = 0.1 the O(dt^2) residual of the corrected heat is 0.03 % of
    // n T*, well below the standard error of this run.
    for (index, integrator) in [Integrator::Euler, Integrator::OuExact]
        .into_iter()
        .enumerate()
    {
        let run = simulate(integrator, 0.1, 0.0, 0.0, 51 + index as u64);
        let (mean, error) = run.sigma_heat.estimate();
        assert!(
            mean.abs() <= 5.0 * error,
            "{integrator:?}: mean sigma_heat {mean:.4} is not 0 within 5 standard errors ({error:.4})"
        );
    }
}

#[test]
fn sigma_heat_positive_with_velocity_coupling() {
    for (index, integrator) in [Integrator::Euler, Integrator::OuExact]
        .into_iter()
        .enumerate()
    {
        let run = simulate(integrator, 0.1, 0.5, 1.0, 61 + index as u64);
        let (mean, error) = run.sigma_heat.estimate();
        assert!(
            mean > 10.0 * error && mean > 0.0,
            "{integrator:?}: mean sigma_heat {mean:.4} is not clearly positive (standard error {error:.4})"
        );
    }
}

#[test]
fn sgld_stationary_variance_matches_discrete_value() {
    // theta' = (1 - eta k) theta + sqrt(2 eta T) xi has the stationary variance
    // 2 eta T / (1 - (1 - eta k)^2) = 2 T / (k (2 - eta k)).
    use dlm_sim::dynamics::overdamped_step;

    let stiffness = 1.0;
    let eta = 0.05;
    let expected = 2.0 * TEMPERATURE / (stiffness * (2.0 - eta * stiffness));
    let mut noise = NoiseSource::new(ChaCha8Rng::seed_from_u64(71));
    let mut theta = vec![0.0f32; PARTICLES];
    let mut gradient = vec![0.0f32; PARTICLES];
    let mut variance = BlockMeans::new();
    for step in 0..BURN_IN + BLOCK * BLOCKS {
        if step >= BURN_IN {
            let second_moment: f64 = theta.iter().map(|x| (*x as f64).powi(2)).sum();
            variance.add(second_moment / PARTICLES as f64);
        }
        for (slot, x) in gradient.iter_mut().zip(&theta) {
            *slot = (stiffness as f32) * x;
        }
        assert!(overdamped_step(
            &mut theta,
            &gradient,
            eta,
            TEMPERATURE,
            None,
            &mut noise
        ));
    }
    assert_within("sgld Var(theta)", variance.estimate(), expected);
}
