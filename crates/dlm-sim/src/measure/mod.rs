//! Measurements computed from a run's records: continual-learning metrics of
//! the accuracy matrix and the power spectrum of the activity signal.

pub mod continual;
pub mod spectrum;
