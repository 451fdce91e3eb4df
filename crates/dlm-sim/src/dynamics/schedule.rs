//! Temperature schedule s(t), with T_l(t) = T_l s(t).

use crate::config::{Schedule, ScheduleKind};

/// s at a step: `run_step` counts steps since the start of the run,
/// `task_step` steps since the start of the current task of `task_steps` steps.
pub fn schedule_factor(schedule: &Schedule, run_step: u64, task_step: u64, task_steps: u64) -> f64 {
    match schedule.kind {
        ScheduleKind::Constant => 1.0,
        ScheduleKind::Hyperbolic => 1.0 / (1.0 + run_step as f64 / schedule.tau),
        ScheduleKind::Exponential => (-(run_step as f64) / schedule.tau).exp(),
        ScheduleKind::Cyclic => {
            let phase = std::f64::consts::PI * task_step as f64 / task_steps as f64;
            0.5 * (1.0 + phase.cos())
        }
    }
}
