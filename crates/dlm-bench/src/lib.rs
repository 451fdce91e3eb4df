//! The parts of dlm-bench that tests of other crates reuse: the synthetic
//! sweep and the synthetic result a worker reports without simulating.

pub mod sweep;
