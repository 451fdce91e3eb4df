//! Storage for sweeps, runs and results, and the job queue workers lease
//! runs from, over PostgreSQL or SQLite behind one API.
//!
//! The coordinator keeps no state of its own: everything, including lease
//! deadlines (taken from the database clock), lives here, so several
//! coordinators can share one PostgreSQL database. SQLite serves the local
//! single-machine mode with the same semantics.
//!
//! Each operation is written once as SQL that both backends accept, with the
//! few differences (clock expressions, row locking, how a write transaction
//! starts) taken from [`dialect::Dialect`].

mod connect;
mod dialect;
mod error;
mod export;
mod model;
pub mod outage;
mod overview;
mod queue;
mod results;
mod sweeps;
#[cfg(feature = "testing")]
pub mod testing;

pub use connect::{ConnectOptions, Store};
pub use error::StoreError;
pub use export::ExportRow;
pub use model::{
    CompleteOutcome, FailOutcome, HeartbeatOutcome, Lease, LeaseRef, LeaseRequest, NewRun,
    NewSweep, ReapOutcome, RunCounts, RunRecord, RunResult, RunState, StoredResult, SubmitOutcome,
    SweepState, SweepStatus, Timestamp,
};
pub use sweeps::SweepWriter;

/// Runs `$body` with `$pool` bound to the backend's pool, `$dialect` to its
/// SQL dialect and, optionally, `$db` to its sqlx database type. The body is
/// compiled once per backend, which lets one piece of code use sqlx's
/// concrete `PgPool` and `SqlitePool` types.
macro_rules! with_backend {
    ($store:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        $crate::with_backend!($store, |$pool, $dialect, _Db| $body)
    };
    ($store:expr, |$pool:ident, $dialect:ident, $db:ident| $body:expr) => {
        match $store {
            $crate::Store::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $dialect = $crate::dialect::Dialect::Postgres;
                $body
            }
            $crate::Store::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $dialect = $crate::dialect::Dialect::Sqlite;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

/// Converts a seed to the signed 64-bit integer both databases store, bit
/// for bit, so seeds above `i64::MAX` survive the round trip.
pub(crate) fn seed_to_db(seed: u64) -> i64 {
    seed as i64
}

/// Inverts [`seed_to_db`].
pub(crate) fn seed_from_db(stored: i64) -> u64 {
    stored as u64
}
