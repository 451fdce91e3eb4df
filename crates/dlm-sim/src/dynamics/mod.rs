//! The update rules: underdamped Langevin dynamics with the current force
//! (and heavy-ball SGD as its zero-temperature, zero-coupling case), and
//! overdamped Langevin dynamics for the SGLD baseline.

mod coupling;
mod integrator;
mod schedule;

pub use coupling::coupling_value;
pub use integrator::{
    LayerUpdate, heat_flow, kinetic_temperature, overdamped_step, underdamped_step,
};
pub use schedule::schedule_factor;

/// Regulariser of the force direction's norm, d = u / (|u| + EPSILON).
pub const DIRECTION_EPSILON: f64 = 1e-8;
