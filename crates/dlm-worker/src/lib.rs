//! The worker: a stateless process that leases runs from a coordinator,
//! simulates them on a thread pool and reports their results.
//!
//! Every lease and result is stored in the coordinator's database, so a
//! worker can be killed at any time: its leases expire and other workers
//! take the runs over. It survives a coordinator or database outage by
//! retrying with capped exponential backoff.

mod backoff;
mod client;
mod execute;
mod worker;

pub use worker::{Worker, WorkerError, WorkerOptions};
