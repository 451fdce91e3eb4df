//! Errors of the store, each naming the value that caused it.

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL {url:?}: use postgres://USER@HOST:PORT/DATABASE or sqlite:PATH"
    )]
    UnsupportedUrl { url: String },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("sweep {0} not found")]
    SweepNotFound(i64),

    #[error("run {0} not found")]
    RunNotFound(i64),

    /// The lease was never granted, or it is no longer the run's current one
    /// (expired and re-leased, released, or the run finished or was cancelled).
    #[error(
        "lease of run {run_id} at attempt {attempt} is not held by worker {worker_id:?}; lease the run again"
    )]
    StaleLease {
        run_id: i64,
        attempt: i32,
        worker_id: String,
    },

    #[error("invalid result for run {run_id}: {reason}")]
    InvalidResult { run_id: i64, reason: String },

    #[error("invalid {field} {value:?}: {reason}")]
    InvalidArgument {
        field: &'static str,
        value: String,
        reason: String,
    },
}

impl StoreError {
    /// Returns whether the database could not be reached, so the same call
    /// may succeed once it is back: a lost or refused connection, a pool
    /// that timed out or closed, or a PostgreSQL error of SQLSTATE class 08
    /// (connection exception) or 57P01 to 57P03 (the server is shutting
    /// down, crashed or is starting up).
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(error) = self else {
            return false;
        };
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(database_error) => database_error
                .code()
                .is_some_and(|code| code.starts_with("08") || is_shutdown_code(&code)),
            _ => false,
        }
    }
}

/// SQLSTATE codes of class 57 that PostgreSQL sends while it stops or
/// starts: `admin_shutdown`, `crash_shutdown` and `cannot_connect_now`.
fn is_shutdown_code(code: &str) -> bool {
    matches!(code, "57P01" | "57P02" | "57P03")
}
