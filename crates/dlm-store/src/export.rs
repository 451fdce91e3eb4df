//! Reading a sweep's runs with their results page by page, for CSV exports
//! and fits, so that a sweep of any size is read in bounded memory.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::FromRow;

use crate::results::state_from_db;
use crate::{RunState, Store, StoreError, seed_from_db, with_backend};

/// One run of a sweep with its result, as an export lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    pub run_id: i64,
    pub run_key: String,
    /// Hash of the canonical configuration: the runs of one configuration
    /// differ only in their seed.
    pub config_hash: String,
    pub seed: u64,
    /// `dlm` or the baseline's name (`sgd`, `sgld`, `ewc`).
    pub role: String,
    pub point_index: u64,
    pub state: RunState,
    /// The run's configuration with every default filled in, as JSON text.
    pub canonical_config: String,
    /// The parameters the run's point sets on top of the base, as JSON text.
    pub overrides: String,
    /// Whether the dynamics diverged; `None` while the run has no result.
    pub diverged: Option<bool>,
    pub diverged_step: Option<u64>,
    /// Summary metrics by name, sorted by name; empty while the run has no
    /// result, and `None` where a metric is undefined.
    pub metrics: Vec<(String, Option<f64>)>,
    /// Seconds the simulation took; `None` while the run has no result.
    pub duration_seconds: Option<f64>,
}

impl ExportRow {
    /// Returns the value of the metric `name`, or `None` when it is missing
    /// or undefined.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(metric, _)| metric == name)
            .and_then(|(_, value)| *value)
    }
}

impl Store {
    /// Returns up to `limit` runs of a sweep with their results, in
    /// ascending run id, starting after the run `after_run_id` (from the
    /// first run when `None`).
    ///
    /// Pass the last row's `run_id` as `after_run_id` to read the next page;
    /// a page shorter than `limit` is the last. The page's metrics come in
    /// one query. A sweep id that does not exist gives an empty page.
    pub async fn export_page(
        &self,
        sweep_id: i64,
        after_run_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExportRow>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let after = after_run_id.unwrap_or(i64::MIN);

        let (runs, metrics): (Vec<ExportRunRow>, Vec<MetricRow>) =
            with_backend!(self, |pool, _dialect| {
                let runs: Vec<ExportRunRow> = sqlx::query_as(
                    "SELECT r.id, r.run_key, r.config_hash, r.seed, sr.role, sr.point_index, \
                     r.state, r.canonical_config, sr.overrides, res.diverged, \
                     res.diverged_step, res.duration_seconds \
                     FROM sweep_runs sr \
                     JOIN runs r ON r.id = sr.run_id \
                     LEFT JOIN results res ON res.run_id = sr.run_id \
                     WHERE sr.sweep_id = $1 AND sr.run_id > $2 \
                     ORDER BY sr.run_id LIMIT $3",
                )
                .bind(sweep_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
                let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
                    return Ok(Vec::new());
                };

                // The page is a contiguous range of this sweep's run ids, so
                // its metrics are the sweep's metrics within that range.
                let metrics: Vec<MetricRow> = sqlx::query_as(
                    "SELECT m.run_id, m.name, m.value \
                     FROM run_metrics m \
                     JOIN sweep_runs sr ON sr.run_id = m.run_id AND sr.sweep_id = $1 \
                     WHERE m.run_id BETWEEN $2 AND $3 \
                     ORDER BY m.run_id, m.name",
                )
                .bind(sweep_id)
                .bind(first.id)
                .bind(last.id)
                .fetch_all(pool)
                .await?;
                (runs, metrics)
            });

        let mut metrics_by_run: HashMap<i64, Vec<(String, Option<f64>)>> = HashMap::new();
        for metric in metrics {
            metrics_by_run
                .entry(metric.run_id)
                .or_default()
                .push((metric.name, metric.value));
        }
        runs.into_iter()
            .map(|run| {
                let metrics = metrics_by_run.remove(&run.id).unwrap_or_default();
                run.into_export_row(metrics)
            })
            .collect()
    }
}

#[derive(FromRow)]
struct ExportRunRow {
    id: i64,
    run_key: String,
    config_hash: String,
    seed: i64,
    role: String,
    point_index: i64,
    state: String,
    canonical_config: String,
    overrides: String,
    diverged: Option<bool>,
    diverged_step: Option<i64>,
    duration_seconds: Option<f64>,
}

#[derive(FromRow)]
struct MetricRow {
    run_id: i64,
    name: String,
    value: Option<f64>,
}

impl ExportRunRow {
    fn into_export_row(self, metrics: Vec<(String, Option<f64>)>) -> Result<ExportRow, StoreError> {
        let state = state_from_db(self.id, &self.state)?;
        Ok(ExportRow {
            run_id: self.id,
            run_key: self.run_key,
            config_hash: self.config_hash,
            seed: seed_from_db(self.seed),
            role: self.role,
            point_index: self.point_index as u64,
            state,
            canonical_config: self.canonical_config,
            overrides: self.overrides,
            diverged: self.diverged,
            diverged_step: self.diverged_step.map(|step| step as u64),
            metrics,
            duration_seconds: self.duration_seconds,
        })
    }
}
