//! One run: its configuration, state and, once done, its result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{HttpError, Problem};

/// A run with its configuration and result.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    pub id: i64,
    pub run_key: String,
    pub config_hash: String,
    pub seed: u64,
    pub model_version: String,
    #[schema(example = "done")]
    pub state: String,
    /// Leases ever granted on the run.
    pub attempt: i32,
    pub failed_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The canonical run configuration, every default filled in.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Null until the run is done.
    pub result: Option<RunResultView>,
}

/// A stored result.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResultView {
    pub diverged: bool,
    pub diverged_step: Option<u64>,
    /// Summary metrics by name; null where undefined.
    pub summary: BTreeMap<String, Option<f64>>,
    /// Accuracy matrix: row k contains the accuracy on each task after
    /// training task k.
    #[schema(value_type = Object)]
    pub accuracy: Value,
    /// Down-sampled time series of the run.
    #[schema(value_type = Object)]
    pub series: Value,
    pub worker_id: String,
    pub attempt: i32,
    pub duration_seconds: f64,
    pub completed_at: String,
}

/// Returns a run's configuration, state, summary, accuracy matrix and
/// series.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = RunDetail),
        (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_run(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<RunDetail>, HttpError> {
    let run_id = crate::sweeps::path_id(id)?;
    tracing::Span::current().record("run", run_id);

    let run = state.store.run(run_id).await?;
    let result = state.store.result(run_id).await?;
    let config = parse_stored(run_id, "configuration", &run.canonical_config)?;
    let result = match result {
        Some(result) => Some(RunResultView {
            diverged: result.diverged,
            diverged_step: result.diverged_step,
            summary: result.metrics.into_iter().collect(),
            accuracy: parse_stored(run_id, "accuracy matrix", &result.accuracy_json)?,
            series: parse_stored(run_id, "series", &result.series_json)?,
            worker_id: result.worker_id,
            attempt: result.attempt,
            duration_seconds: result.duration_seconds,
            completed_at: result.completed_at.to_rfc3339(),
        }),
        None => None,
    };

    Ok(Json(RunDetail {
        id: run.id,
        run_key: run.run_key,
        config_hash: run.config_hash,
        seed: run.seed,
        model_version: run.model_version,
        state: run.state.as_str().to_string(),
        attempt: run.attempt,
        failed_attempts: run.failed_attempts,
        last_error: run.last_error,
        created_at: run.created_at.to_rfc3339(),
        finished_at: run.finished_at.map(|time| time.to_rfc3339()),
        config,
        result,
    }))
}

fn parse_stored(run_id: i64, part: &str, text: &str) -> Result<Value, HttpError> {
    serde_json::from_str(text).map_err(|error| {
        HttpError::Internal(format!("run {run_id} has an invalid stored {part}: {error}"))
    })
}
