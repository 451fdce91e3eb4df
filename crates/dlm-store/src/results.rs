//! Reading runs and their stored results.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{RunRecord, RunState, Store, StoreError, StoredResult, seed_from_db, with_backend};

impl Store {
    /// Returns one run as stored.
    pub async fn run(&self, run_id: i64) -> Result<RunRecord, StoreError> {
        let row: Option<RunRow> = with_backend!(self, |pool, _dialect| {
            sqlx::query_as(
                "SELECT id, run_key, config_hash, seed, model_version, canonical_config, state, \
                 attempt, failed_attempts, worker_id, lease_expires_at, last_error, \
                 duplicate_completions, created_at, finished_at FROM runs WHERE id = $1",
            )
            .bind(run_id)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Err(StoreError::RunNotFound(run_id));
        };
        row.into_record()
    }

    /// Returns the ids of a sweep's runs in ascending order.
    pub async fn sweep_run_ids(&self, sweep_id: i64) -> Result<Vec<i64>, StoreError> {
        let ids = with_backend!(self, |pool, _dialect| {
            sqlx::query_scalar(
                "SELECT run_id FROM sweep_runs WHERE sweep_id = $1 ORDER BY run_id",
            )
            .bind(sweep_id)
            .fetch_all(pool)
            .await?
        });
        Ok(ids)
    }

    /// Returns a run's stored result, or `None` while it has none.
    pub async fn result(&self, run_id: i64) -> Result<Option<StoredResult>, StoreError> {
        with_backend!(self, |pool, _dialect| {
            let row: Option<ResultRow> = sqlx::query_as(
                "SELECT run_id, diverged, diverged_step, accuracy, series, worker_id, attempt, \
                 duration_seconds, completed_at FROM results WHERE run_id = $1",
            )
            .bind(run_id)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };

            let metrics: Vec<(String, Option<f64>)> = sqlx::query_as(
                "SELECT name, value FROM run_metrics WHERE run_id = $1 ORDER BY name",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await?;
            Ok(Some(row.into_result(metrics)))
        })
    }
}

#[derive(FromRow)]
struct RunRow {
    id: i64,
    run_key: String,
    config_hash: String,
    seed: i64,
    model_version: String,
    canonical_config: String,
    state: String,
    attempt: i32,
    failed_attempts: i32,
    worker_id: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    duplicate_completions: i32,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl RunRow {
    fn into_record(self) -> Result<RunRecord, StoreError> {
        let state = state_from_db(self.id, &self.state)?;
        Ok(RunRecord {
            id: self.id,
            run_key: self.run_key,
            config_hash: self.config_hash,
            seed: seed_from_db(self.seed),
            model_version: self.model_version,
            canonical_config: self.canonical_config,
            state,
            attempt: self.attempt,
            failed_attempts: self.failed_attempts,
            worker_id: self.worker_id,
            lease_expires_at: self.lease_expires_at,
            last_error: self.last_error,
            duplicate_completions: self.duplicate_completions,
            created_at: self.created_at,
            finished_at: self.finished_at,
        })
    }
}

/// Parses a run's `state` column, which the schema restricts to the known
/// states.
pub(crate) fn state_from_db(run_id: i64, text: &str) -> Result<RunState, StoreError> {
    RunState::parse(text).ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(
            format!("run {run_id} has unknown state {text:?}").into(),
        ))
    })
}

#[derive(FromRow)]
struct ResultRow {
    run_id: i64,
    diverged: bool,
    diverged_step: Option<i64>,
    accuracy: String,
    series: String,
    worker_id: String,
    attempt: i32,
    duration_seconds: f64,
    completed_at: DateTime<Utc>,
}

impl ResultRow {
    fn into_result(self, metrics: Vec<(String, Option<f64>)>) -> StoredResult {
        StoredResult {
            run_id: self.run_id,
            metrics,
            diverged: self.diverged,
            diverged_step: self.diverged_step.map(|step| step as u64),
            accuracy_json: self.accuracy,
            series_json: self.series,
            worker_id: self.worker_id,
            attempt: self.attempt,
            duration_seconds: self.duration_seconds,
            completed_at: self.completed_at,
        }
    }
}
