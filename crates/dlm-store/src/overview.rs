//! Queries over the whole store rather than one sweep. The HTTP API's
//! readiness and metrics endpoints read the liveness probe, the run counts
//! by state and the workers holding leases.

use crate::{RunState, Store, StoreError, with_backend};

impl Store {
    /// Runs a trivial query, to check that the database responds.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_backend!(self, |pool, _dialect| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Returns the number of runs in each state, over every sweep. States
    /// without runs are listed with 0.
    pub async fn run_state_counts(&self) -> Result<Vec<(RunState, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = with_backend!(self, |pool, _dialect| {
            sqlx::query_as("SELECT state, count(*) FROM runs GROUP BY state")
                .fetch_all(pool)
                .await?
        });

        let all_states = [
            RunState::Queued,
            RunState::Leased,
            RunState::Done,
            RunState::Failed,
            RunState::Cancelled,
        ];
        let counts = all_states
            .into_iter()
            .map(|state| {
                let count = rows
                    .iter()
                    .find(|(name, _)| name == state.as_str())
                    .map_or(0, |(_, count)| u64::try_from(*count).unwrap_or(0));
                (state, count)
            })
            .collect();
        Ok(counts)
    }

    /// Returns the ids of the workers that hold at least one lease, sorted.
    pub async fn leasing_worker_ids(&self) -> Result<Vec<String>, StoreError> {
        let ids = with_backend!(self, |pool, _dialect| {
            sqlx::query_scalar(
                "SELECT DISTINCT worker_id FROM runs \
                 WHERE state = 'leased' AND worker_id IS NOT NULL ORDER BY worker_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(ids)
    }
}
