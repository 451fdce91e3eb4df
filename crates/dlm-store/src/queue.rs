//! The job queue: leasing runs, heartbeats, results, failures, releases and
//! the reaper's pass over expired leases.
//!
//! A lease is named by (run id, attempt). `attempt` counts the leases ever
//! granted on the run, so it only grows and fences every later write: a
//! heartbeat, failure or release is applied only while the run is still
//! leased at that attempt by that worker. Results are the exception: runs
//! are deterministic, so the first result reported under any lease ever
//! granted is stored and later ones are only counted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, FromRow, QueryBuilder};

use crate::dialect::Dialect;
use crate::{
    CompleteOutcome, FailOutcome, HeartbeatOutcome, Lease, LeaseRef, LeaseRequest, ReapOutcome,
    RunResult, Store, StoreError, seed_from_db, with_backend,
};

impl Store {
    /// Leases up to `request.max_runs` queued runs, oldest first, to one
    /// worker until the database clock passes now plus `request.duration`.
    /// Concurrent callers never receive the same run: PostgreSQL skips rows
    /// another transaction has locked, and SQLite admits one writer.
    pub async fn lease(&self, request: &LeaseRequest) -> Result<Vec<Lease>, StoreError> {
        if request.max_runs == 0 {
            return Ok(Vec::new());
        }
        let seconds = request.duration.as_secs_f64();

        with_backend!(self, |pool, dialect, Db| {
            let mut transaction = pool.begin_with(dialect.begin_write()).await?;
            let rows: Vec<LeaseRow> = sqlx::query_as(AssertSqlSafe(lease_sql(dialect)))
                .bind(&request.model_version)
                .bind(i64::from(request.max_runs))
                .bind(&request.worker_id)
                .bind(seconds)
                .fetch_all(&mut *transaction)
                .await?;
            if rows.is_empty() {
                transaction.commit().await?;
                return Ok(Vec::new());
            }

            let mut sweep_query = QueryBuilder::<Db>::new(
                "SELECT sweep_runs.run_id, min(sweep_runs.sweep_id) FROM sweep_runs \
                 JOIN sweeps ON sweeps.id = sweep_runs.sweep_id \
                 WHERE sweeps.cancelled_at IS NULL AND sweep_runs.run_id IN (",
            );
            let mut ids = sweep_query.separated(", ");
            for row in &rows {
                ids.push_bind(row.id);
            }
            sweep_query.push(") GROUP BY sweep_runs.run_id");
            let sweep_ids: HashMap<i64, i64> = sweep_query
                .build_query_as::<(i64, i64)>()
                .fetch_all(&mut *transaction)
                .await?
                .into_iter()
                .collect();

            transaction.commit().await?;
            let mut leases: Vec<Lease> = rows
                .into_iter()
                .map(|row| row.into_lease(&sweep_ids))
                .collect();
            leases.sort_by_key(|lease| lease.run_id);
            Ok(leases)
        })
    }

    /// Extends the worker's current leases among `leases` to now plus
    /// `duration`, and returns the rest as leases to abort.
    pub async fn heartbeat(
        &self,
        worker_id: &str,
        leases: &[LeaseRef],
        duration: std::time::Duration,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let seconds = duration.as_secs_f64();
        let mut outcome = HeartbeatOutcome::default();

        with_backend!(self, |pool, dialect| {
            let sql = format!(
                "UPDATE runs SET lease_expires_at = {deadline} \
                 WHERE id = $2 AND attempt = $3 AND worker_id = $4 AND state = 'leased'",
                deadline = dialect.now_plus_seconds("$1")
            );
            for lease in leases {
                let updated = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(seconds)
                    .bind(lease.run_id)
                    .bind(lease.attempt)
                    .bind(worker_id)
                    .execute(pool)
                    .await?
                    .rows_affected();
                if updated == 1 {
                    outcome.extended.push(*lease);
                } else {
                    outcome.abort.push(*lease);
                }
            }
        });
        Ok(outcome)
    }

    /// Stores a run's result, reported under `lease`, and marks the run done.
    /// A result for a run that already has one is counted in the run's
    /// `duplicate_completions` and dropped. Results under leases that were
    /// never granted are rejected.
    pub async fn complete(
        &self,
        worker_id: &str,
        lease: LeaseRef,
        result: &RunResult,
    ) -> Result<CompleteOutcome, StoreError> {
        validate_result(lease.run_id, result)?;

        with_backend!(self, |pool, dialect, Db| {
            let mut transaction = pool.begin_with(dialect.begin_write()).await?;
            let current_attempt: Option<i32> =
                sqlx::query_scalar("SELECT attempt FROM runs WHERE id = $1")
                    .bind(lease.run_id)
                    .fetch_optional(&mut *transaction)
                    .await?;
            let Some(current_attempt) = current_attempt else {
                return Err(StoreError::RunNotFound(lease.run_id));
            };
            if lease.attempt < 1 || lease.attempt > current_attempt {
                return Err(StoreError::StaleLease {
                    run_id: lease.run_id,
                    attempt: lease.attempt,
                    worker_id: worker_id.to_string(),
                });
            }

            let inserted = sqlx::query(
                "INSERT INTO results (run_id, diverged, diverged_step, accuracy, series, \
                 worker_id, attempt, duration_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (run_id) DO NOTHING",
            )
            .bind(lease.run_id)
            .bind(result.diverged)
            .bind(result.diverged_step.map(|step| step as i64))
            .bind(&result.accuracy_json)
            .bind(&result.series_json)
            .bind(worker_id)
            .bind(lease.attempt)
            .bind(result.duration_seconds)
            .execute(&mut *transaction)
            .await?
            .rows_affected();

            if inserted == 0 {
                sqlx::query(
                    "UPDATE runs SET duplicate_completions = duplicate_completions + 1 WHERE id = $1",
                )
                .bind(lease.run_id)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                return Ok(CompleteOutcome::Duplicate);
            }

            if !result.metrics.is_empty() {
                let mut insert_metrics =
                    QueryBuilder::<Db>::new("INSERT INTO run_metrics (run_id, name, value) ");
                insert_metrics.push_values(&result.metrics, |mut row, (name, value)| {
                    row.push_bind(lease.run_id)
                        .push_bind(name.clone())
                        .push_bind(*value);
                });
                insert_metrics.build().execute(&mut *transaction).await?;
            }

            let finish_sql = format!(
                "UPDATE runs SET state = 'done', worker_id = NULL, lease_expires_at = NULL, \
                 finished_at = {now} WHERE id = $1",
                now = dialect.now()
            );
            sqlx::query(AssertSqlSafe(finish_sql))
                .bind(lease.run_id)
                .execute(&mut *transaction)
                .await?;

            transaction.commit().await?;
            Ok(CompleteOutcome::Stored)
        })
    }

    /// Records a failed attempt reported by the worker holding `lease`. The
    /// run is queued again, or marked failed with `error` once it has failed
    /// `max_attempts` times.
    pub async fn fail(
        &self,
        worker_id: &str,
        lease: LeaseRef,
        error: &str,
        max_attempts: u32,
    ) -> Result<FailOutcome, StoreError> {
        let state: Option<String> = with_backend!(self, |pool, dialect| {
            let sql = format!(
                "UPDATE runs SET {failure} WHERE id = $3 AND attempt = $4 AND worker_id = $5 \
                 AND state = 'leased' RETURNING state",
                failure = failure_assignments(dialect, "$2")
            );
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(max_attempts_to_db(max_attempts))
                .bind(error)
                .bind(lease.run_id)
                .bind(lease.attempt)
                .bind(worker_id)
                .fetch_optional(pool)
                .await?
        });

        match state.as_deref() {
            Some("failed") => Ok(FailOutcome::Failed),
            Some(_) => Ok(FailOutcome::Requeued),
            None => Err(StoreError::StaleLease {
                run_id: lease.run_id,
                attempt: lease.attempt,
                worker_id: worker_id.to_string(),
            }),
        }
    }

    /// Returns the worker's current leases among `leases` to the queue
    /// without counting a failed attempt, and returns how many it returned.
    pub async fn release(&self, worker_id: &str, leases: &[LeaseRef]) -> Result<u32, StoreError> {
        let mut released = 0;
        with_backend!(self, |pool, _dialect| {
            for lease in leases {
                let updated = sqlx::query(
                    "UPDATE runs SET state = 'queued', worker_id = NULL, lease_expires_at = NULL \
                     WHERE id = $1 AND attempt = $2 AND worker_id = $3 AND state = 'leased'",
                )
                .bind(lease.run_id)
                .bind(lease.attempt)
                .bind(worker_id)
                .execute(pool)
                .await?
                .rows_affected();
                released += u32::try_from(updated).unwrap_or(0);
            }
        });
        Ok(released)
    }

    /// Ends every lease whose deadline the database clock has passed, as a
    /// failed attempt: the run is queued again, or marked failed once it has
    /// failed `max_attempts` times. Safe to run from several coordinators.
    pub async fn reap_expired_leases(&self, max_attempts: u32) -> Result<ReapOutcome, StoreError> {
        let states: Vec<String> = with_backend!(self, |pool, dialect| {
            let error = "'lease expired: worker ' || coalesce(worker_id, 'unknown') || \
                         ' sent no heartbeat before the deadline of attempt ' || attempt";
            let sql = format!(
                "UPDATE runs SET {failure} WHERE state = 'leased' AND lease_expires_at < {now} \
                 RETURNING state",
                failure = failure_assignments(dialect, error),
                now = dialect.now()
            );
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(max_attempts_to_db(max_attempts))
                .fetch_all(pool)
                .await?
        });

        let failed = states.iter().filter(|state| *state == "failed").count() as u64;
        Ok(ReapOutcome {
            requeued: states.len() as u64 - failed,
            failed,
        })
    }

    /// Moves the deadline of every lease that ends sooner than `duration`
    /// from now to now plus `duration`, and returns how many leases moved.
    /// The reaper calls it after the database was unreachable: workers
    /// could not heartbeat meanwhile, so a lease that expired during the
    /// outage tells nothing about its worker, and reaping it would count a
    /// failed attempt the run never made.
    pub async fn extend_all_leases(&self, duration: std::time::Duration) -> Result<u64, StoreError> {
        let extended = with_backend!(self, |pool, dialect| {
            let sql = format!(
                "UPDATE runs SET lease_expires_at = {deadline} \
                 WHERE state = 'leased' AND lease_expires_at < {deadline}",
                deadline = dialect.now_plus_seconds("$1")
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(duration.as_secs_f64())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(extended)
    }
}

/// The SET list that ends a lease as a failed attempt, with `$1` bound to
/// the maximum number of attempts and `error` the SQL expression of the
/// error text.
fn failure_assignments(dialect: Dialect, error: &str) -> String {
    format!(
        "state = CASE WHEN failed_attempts + 1 >= $1 THEN 'failed' ELSE 'queued' END, \
         finished_at = CASE WHEN failed_attempts + 1 >= $1 THEN {now} ELSE NULL END, \
         failed_attempts = failed_attempts + 1, last_error = {error}, \
         worker_id = NULL, lease_expires_at = NULL",
        now = dialect.now()
    )
}

/// The statement that leases runs: `$1` model version, `$2` maximum runs,
/// `$3` worker id, `$4` lease seconds. PostgreSQL locks the chosen rows and
/// skips rows locked by concurrent leasers, then updates exactly those rows
/// (the CTE keeps the LIMIT from being re-evaluated per row). SQLite runs it
/// inside `BEGIN IMMEDIATE`, so no other writer interleaves.
fn lease_sql(dialect: Dialect) -> String {
    let deadline = dialect.now_plus_seconds("$4");
    match dialect {
        Dialect::Postgres => format!(
            "WITH picked AS (\
             SELECT id FROM runs WHERE state = 'queued' AND model_version = $1 \
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE runs SET state = 'leased', attempt = runs.attempt + 1, worker_id = $3, \
             lease_expires_at = {deadline} \
             FROM picked WHERE runs.id = picked.id \
             RETURNING runs.id, runs.attempt, runs.run_key, runs.seed, runs.canonical_config, \
             runs.lease_expires_at"
        ),
        Dialect::Sqlite => format!(
            "UPDATE runs SET state = 'leased', attempt = attempt + 1, worker_id = $3, \
             lease_expires_at = {deadline} \
             WHERE id IN (SELECT id FROM runs WHERE state = 'queued' AND model_version = $1 \
             ORDER BY id LIMIT $2) \
             RETURNING id, attempt, run_key, seed, canonical_config, lease_expires_at"
        ),
    }
}

fn max_attempts_to_db(max_attempts: u32) -> i32 {
    i32::try_from(max_attempts).unwrap_or(i32::MAX)
}

/// Rejects results that would store a non-finite number or invalid JSON.
fn validate_result(run_id: i64, result: &RunResult) -> Result<(), StoreError> {
    let invalid = |reason: String| StoreError::InvalidResult { run_id, reason };

    let mut names = std::collections::HashSet::new();
    for (name, value) in &result.metrics {
        if name.is_empty() {
            return Err(invalid("a metric has an empty name".to_string()));
        }
        if !names.insert(name.as_str()) {
            return Err(invalid(format!("metric {name:?} is reported twice")));
        }
        if let Some(value) = value
            && !value.is_finite()
        {
            return Err(invalid(format!(
                "metric {name:?} is {value}; report an undefined metric as absent"
            )));
        }
    }

    if let Some(step) = result.diverged_step
        && i64::try_from(step).is_err()
    {
        return Err(invalid(format!("diverged_step {step} exceeds {}", i64::MAX)));
    }
    if !result.duration_seconds.is_finite() || result.duration_seconds < 0.0 {
        return Err(invalid(format!(
            "duration_seconds is {}; expected a finite number of seconds >= 0",
            result.duration_seconds
        )));
    }
    for (field, text) in [
        ("accuracy_json", &result.accuracy_json),
        ("series_json", &result.series_json),
    ] {
        if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return Err(invalid(format!("{field} is not valid JSON: {error}")));
        }
    }
    Ok(())
}

#[derive(FromRow)]
struct LeaseRow {
    id: i64,
    attempt: i32,
    run_key: String,
    seed: i64,
    canonical_config: String,
    lease_expires_at: DateTime<Utc>,
}

impl LeaseRow {
    fn into_lease(self, sweep_ids: &HashMap<i64, i64>) -> Lease {
        Lease {
            run_id: self.id,
            attempt: self.attempt,
            sweep_id: sweep_ids.get(&self.id).copied().unwrap_or_default(),
            run_key: self.run_key,
            seed: seed_from_db(self.seed),
            canonical_config: self.canonical_config,
            expires_at: self.lease_expires_at,
        }
    }
}
