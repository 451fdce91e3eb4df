//! Coupling form c(J) of the current force f_l = alpha_l c(J_l) d_l.

use crate::config::Coupling;

pub fn coupling_value(coupling: Coupling, current: f64) -> f64 {
    match coupling {
        Coupling::Linear => current,
        Coupling::Tanh => current.tanh(),
        Coupling::Quadratic => current * current.abs(),
    }
}
