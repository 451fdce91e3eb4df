//! Storing sweeps with their runs, reporting their progress, cancelling them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, FromRow, Postgres, QueryBuilder, Sqlite, Transaction};

use crate::dialect::Dialect;
use crate::{
    NewRun, NewSweep, RunCounts, Store, StoreError, SubmitOutcome, SweepState, SweepStatus,
    seed_to_db, with_backend,
};

/// Key of the PostgreSQL advisory lock that serialises the end of a
/// submission with a cancellation: without it, a cancel could miss a run
/// that a sweep being committed at the same moment also needs.
const SWEEP_MEMBERSHIP_LOCK: i64 = 0x646c_6d5f_7377_6565;

/// Completions counted for the runs-per-second rate, in seconds.
const RATE_WINDOW_SECONDS: u32 = 60;

/// A sweep being stored: its runs are added in batches inside one
/// transaction, so a sweep is stored whole by [`SweepWriter::commit`] or not
/// at all (dropping the writer rolls back).
///
/// On SQLite the transaction holds the database's write lock until it ends,
/// so workers wait (up to the busy timeout) while a sweep is being stored;
/// docs/architecture.md gives the measured wait for the largest sweep.
pub struct SweepWriter {
    transaction: WriterTransaction,
    sweep_id: i64,
}

enum WriterTransaction {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl From<Transaction<'static, Postgres>> for WriterTransaction {
    fn from(transaction: Transaction<'static, Postgres>) -> Self {
        WriterTransaction::Postgres(transaction)
    }
}

impl From<Transaction<'static, Sqlite>> for WriterTransaction {
    fn from(transaction: Transaction<'static, Sqlite>) -> Self {
        WriterTransaction::Sqlite(transaction)
    }
}

/// Like `with_backend!`, over the writer's open transaction.
macro_rules! with_transaction {
    ($transaction:expr, |$connection:ident, $dialect:ident, $db:ident| $body:expr) => {
        match $transaction {
            WriterTransaction::Postgres($connection) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $dialect = Dialect::Postgres;
                $body
            }
            WriterTransaction::Sqlite($connection) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $dialect = Dialect::Sqlite;
                $body
            }
        }
    };
}

impl Store {
    /// Starts storing a sweep. Add its runs with [`SweepWriter::add_runs`]
    /// and finish with [`SweepWriter::commit`].
    pub async fn begin_sweep(&self, sweep: &NewSweep) -> Result<SweepWriter, StoreError> {
        with_backend!(self, |pool, dialect| {
            let mut transaction = pool.begin_with(dialect.begin_write()).await?;
            let sweep_id: i64 = sqlx::query_scalar(
                "INSERT INTO sweeps (name, document, format) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&sweep.name)
            .bind(&sweep.document)
            .bind(&sweep.format)
            .fetch_one(&mut *transaction)
            .await?;
            Ok(SweepWriter {
                transaction: WriterTransaction::from(transaction),
                sweep_id,
            })
        })
    }

    /// Returns one sweep's state and progress.
    pub async fn sweep_status(&self, sweep_id: i64) -> Result<SweepStatus, StoreError> {
        with_backend!(self, |pool, dialect| {
            let sweep_sql = format!("{} WHERE id = $1", sweep_select(dialect));
            let sweep: Option<SweepRow> = sqlx::query_as(AssertSqlSafe(sweep_sql))
                .bind(sweep_id)
                .fetch_optional(pool)
                .await?;
            let Some(sweep) = sweep else {
                return Err(StoreError::SweepNotFound(sweep_id));
            };

            let counts_sql = format!(
                "{} WHERE sweep_runs.sweep_id = $1 GROUP BY sweep_runs.sweep_id",
                counts_select(dialect)
            );
            let counts: Option<CountsRow> = sqlx::query_as(AssertSqlSafe(counts_sql))
                .bind(sweep_id)
                .fetch_optional(pool)
                .await?;
            Ok(sweep.into_status(counts.unwrap_or_default()))
        })
    }

    /// Returns the newest sweeps first, at most `limit` of them.
    pub async fn list_sweeps(&self, limit: u32) -> Result<Vec<SweepStatus>, StoreError> {
        self.list_sweeps_before(None, limit).await
    }

    /// Returns up to `limit` sweeps, newest first, whose id is below
    /// `before_id` when it is set: the next page of a listing whose last
    /// sweep had id `before_id`. Two queries whatever the page size: one
    /// for the sweeps and one for the run counts of all of them.
    pub async fn list_sweeps_before(
        &self,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<SweepStatus>, StoreError> {
        with_backend!(self, |pool, dialect, Db| {
            let sweeps_sql = format!(
                "{} WHERE id < $1 ORDER BY id DESC LIMIT $2",
                sweep_select(dialect)
            );
            let sweeps: Vec<SweepRow> = sqlx::query_as(AssertSqlSafe(sweeps_sql))
                .bind(before_id.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            if sweeps.is_empty() {
                return Ok(Vec::new());
            }

            let mut counts_query = QueryBuilder::<Db>::new(counts_select(dialect));
            counts_query.push(" WHERE sweep_runs.sweep_id IN (");
            let mut ids = counts_query.separated(", ");
            for sweep in &sweeps {
                ids.push_bind(sweep.id);
            }
            counts_query.push(") GROUP BY sweep_runs.sweep_id");
            let mut counts: HashMap<i64, CountsRow> = counts_query
                .build_query_as::<CountsRow>()
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| (row.sweep_id, row))
                .collect();

            Ok(sweeps
                .into_iter()
                .map(|sweep| {
                    let row = counts.remove(&sweep.id).unwrap_or_default();
                    sweep.into_status(row)
                })
                .collect())
        })
    }

    /// Cancels a sweep and every queued or leased run of it that no other
    /// active sweep needs. Workers holding such runs learn it at their next
    /// heartbeat. Cancelling a cancelled sweep changes nothing.
    pub async fn cancel_sweep(&self, sweep_id: i64) -> Result<SweepStatus, StoreError> {
        with_backend!(self, |pool, dialect| {
            let mut transaction = pool.begin_with(dialect.begin_write()).await?;
            if dialect == Dialect::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SWEEP_MEMBERSHIP_LOCK)
                    .execute(&mut *transaction)
                    .await?;
            }

            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM sweeps WHERE id = $1")
                .bind(sweep_id)
                .fetch_optional(&mut *transaction)
                .await?;
            if exists.is_none() {
                return Err(StoreError::SweepNotFound(sweep_id));
            }

            let mark_sql = format!(
                "UPDATE sweeps SET cancelled_at = {now} WHERE id = $1 AND cancelled_at IS NULL",
                now = dialect.now()
            );
            sqlx::query(AssertSqlSafe(mark_sql))
                .bind(sweep_id)
                .execute(&mut *transaction)
                .await?;

            let cancel_runs_sql = format!(
                "UPDATE runs SET state = 'cancelled', worker_id = NULL, lease_expires_at = NULL, \
                 finished_at = {now} \
                 WHERE state IN ('queued', 'leased') \
                 AND id IN (SELECT run_id FROM sweep_runs WHERE sweep_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM sweep_runs other JOIN sweeps s ON s.id = other.sweep_id \
                 WHERE other.run_id = runs.id AND s.cancelled_at IS NULL)",
                now = dialect.now()
            );
            sqlx::query(AssertSqlSafe(cancel_runs_sql))
                .bind(sweep_id)
                .execute(&mut *transaction)
                .await?;

            transaction.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.sweep_status(sweep_id).await
    }
}

impl SweepWriter {
    /// Returns the id the sweep will have once committed.
    pub fn sweep_id(&self) -> i64 {
        self.sweep_id
    }

    /// Adds a batch of runs. A run whose `run_key` is already stored is
    /// shared with the sweeps that have it; a run listed twice in one sweep
    /// counts once. Keep batches below about 10,000 runs: each run binds five
    /// parameters in one statement, and PostgreSQL allows 65,535.
    pub async fn add_runs(&mut self, runs: &[NewRun]) -> Result<(), StoreError> {
        if runs.is_empty() {
            return Ok(());
        }
        let sweep_id = self.sweep_id;

        with_transaction!(&mut self.transaction, |transaction, _dialect, Db| {
            let mut insert_runs = QueryBuilder::<Db>::new(
                "INSERT INTO runs (run_key, config_hash, seed, model_version, canonical_config) ",
            );
            insert_runs.push_values(runs, |mut row, run| {
                row.push_bind(run.run_key.clone())
                    .push_bind(run.config_hash.clone())
                    .push_bind(seed_to_db(run.seed))
                    .push_bind(run.model_version.clone())
                    .push_bind(run.canonical_config.clone());
            });
            insert_runs.push(" ON CONFLICT (run_key) DO NOTHING");
            insert_runs.build().execute(&mut **transaction).await?;

            // SQLite needs the `WHERE true` to parse `ON CONFLICT` after a join.
            let mut link_runs =
                QueryBuilder::<Db>::new("WITH v (run_key, role, point_index, overrides) AS (");
            link_runs.push_values(runs, |mut row, run| {
                row.push_bind(run.run_key.clone())
                    .push_bind(run.role.clone())
                    .push_bind(point_index_to_db(run.point_index))
                    .push_bind(run.overrides_json.clone());
            });
            link_runs.push(
                ") INSERT INTO sweep_runs (sweep_id, run_id, role, point_index, overrides) SELECT ",
            );
            link_runs.push_bind(sweep_id);
            link_runs.push(
                ", runs.id, v.role, v.point_index, v.overrides FROM v \
                 JOIN runs ON runs.run_key = v.run_key WHERE true \
                 ON CONFLICT (sweep_id, run_id) DO NOTHING",
            );
            link_runs.build().execute(&mut **transaction).await?;
        });
        Ok(())
    }

    /// Stores the sweep. Runs that had failed or been cancelled before are
    /// queued again (with a fresh attempt budget), since this sweep needs
    /// them; runs already done are reused.
    pub async fn commit(self) -> Result<SubmitOutcome, StoreError> {
        let sweep_id = self.sweep_id;
        with_transaction!(self.transaction, |transaction, dialect, _Db| {
            let mut transaction = transaction;
            if dialect == Dialect::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SWEEP_MEMBERSHIP_LOCK)
                    .execute(&mut *transaction)
                    .await?;
            }

            sqlx::query(
                "UPDATE runs SET state = 'queued', failed_attempts = 0, last_error = NULL, \
                 finished_at = NULL \
                 WHERE state IN ('failed', 'cancelled') \
                 AND id IN (SELECT run_id FROM sweep_runs WHERE sweep_id = $1)",
            )
            .bind(sweep_id)
            .execute(&mut *transaction)
            .await?;

            let (run_count, reused_count): (i64, i64) = sqlx::query_as(
                "SELECT count(*), coalesce(sum(CASE WHEN runs.state = 'done' THEN 1 ELSE 0 END), 0) \
                 FROM sweep_runs JOIN runs ON runs.id = sweep_runs.run_id \
                 WHERE sweep_runs.sweep_id = $1",
            )
            .bind(sweep_id)
            .fetch_one(&mut *transaction)
            .await?;

            sqlx::query("UPDATE sweeps SET run_count = $1, reused_count = $2 WHERE id = $3")
                .bind(run_count)
                .bind(reused_count)
                .bind(sweep_id)
                .execute(&mut *transaction)
                .await?;

            transaction.commit().await?;
            Ok(SubmitOutcome {
                sweep_id,
                run_count: count_from_db(run_count),
                reused_count: count_from_db(reused_count),
            })
        })
    }
}

fn point_index_to_db(point_index: u64) -> i64 {
    i64::try_from(point_index).unwrap_or(i64::MAX)
}

fn count_from_db(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// Returns the query of a sweep's status columns without the run counts.
/// Callers add a WHERE or ORDER BY clause.
fn sweep_select(dialect: Dialect) -> String {
    format!(
        "SELECT id, name, run_count, reused_count, created_at, cancelled_at, {now} AS db_now \
         FROM sweeps",
        now = dialect.now()
    )
}

/// Returns the query of run counts per sweep. Callers add a WHERE clause on
/// `sweep_runs.sweep_id` and `GROUP BY sweep_runs.sweep_id`.
fn counts_select(dialect: Dialect) -> String {
    format!(
        "SELECT sweep_runs.sweep_id AS sweep_id, \
         coalesce(sum(CASE WHEN runs.state = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
         coalesce(sum(CASE WHEN runs.state = 'leased' THEN 1 ELSE 0 END), 0) AS leased, \
         coalesce(sum(CASE WHEN runs.state = 'done' THEN 1 ELSE 0 END), 0) AS done, \
         coalesce(sum(CASE WHEN runs.state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
         coalesce(sum(CASE WHEN runs.state = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled, \
         coalesce(sum(CASE WHEN results.diverged THEN 1 ELSE 0 END), 0) AS diverged, \
         coalesce(sum(CASE WHEN results.completed_at >= {window_start} \
         AND results.completed_at >= sweeps.created_at THEN 1 ELSE 0 END), 0) AS recent \
         FROM sweep_runs \
         JOIN sweeps ON sweeps.id = sweep_runs.sweep_id \
         JOIN runs ON runs.id = sweep_runs.run_id \
         LEFT JOIN results ON results.run_id = runs.id",
        window_start = dialect.seconds_ago(RATE_WINDOW_SECONDS)
    )
}

#[derive(FromRow)]
struct SweepRow {
    id: i64,
    name: String,
    run_count: i64,
    reused_count: i64,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    db_now: DateTime<Utc>,
}

#[derive(FromRow, Default)]
struct CountsRow {
    sweep_id: i64,
    queued: i64,
    leased: i64,
    done: i64,
    failed: i64,
    cancelled: i64,
    diverged: i64,
    recent: i64,
}

impl SweepRow {
    fn into_status(self, row: CountsRow) -> SweepStatus {
        let counts = RunCounts {
            queued: count_from_db(row.queued),
            leased: count_from_db(row.leased),
            done: count_from_db(row.done),
            failed: count_from_db(row.failed),
            cancelled: count_from_db(row.cancelled),
            diverged: count_from_db(row.diverged),
        };

        let state = if self.cancelled_at.is_some() {
            SweepState::Cancelled
        } else if counts.pending() == 0 {
            SweepState::Done
        } else {
            SweepState::Running
        };

        let run_count = count_from_db(self.run_count);
        let progress = if run_count == 0 {
            1.0
        } else {
            counts.finished() as f64 / run_count as f64
        };

        // The rate counts completions since the sweep started, at most over
        // the last minute, and at least over one second.
        let age_seconds = (self.db_now - self.created_at).as_seconds_f64();
        let window_seconds = age_seconds.clamp(1.0, f64::from(RATE_WINDOW_SECONDS));
        let runs_per_second = count_from_db(row.recent) as f64 / window_seconds;
        let eta_seconds = (state == SweepState::Running && runs_per_second > 0.0)
            .then(|| counts.pending() as f64 / runs_per_second);

        SweepStatus {
            id: self.id,
            name: self.name,
            state,
            run_count,
            reused_count: count_from_db(self.reused_count),
            counts,
            progress,
            runs_per_second,
            eta_seconds,
            created_at: self.created_at,
            cancelled_at: self.cancelled_at,
        }
    }
}
