//! The coordinator: the gRPC services through which people submit and watch
//! sweeps and workers lease runs and report results, plus the reaper that
//! returns expired leases to the queue.
//!
//! It keeps no state of its own, so any number of coordinators can serve one
//! PostgreSQL database. Everything here is a library so the local mode can
//! run a coordinator in the same process as its workers.

mod auth;
mod config;
mod convert;
mod error;
pub mod export;
pub mod metrics;
pub mod reaper;
mod server;
mod submit;
mod sweeps_service;
mod workers_service;

pub use auth::Token;
pub use config::CoordinatorConfig;
pub use error::ApiError;
pub use server::{Coordinator, ServeError};
pub use submit::{SubmitError, submit_sweep};
