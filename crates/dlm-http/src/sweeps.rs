//! Submitting, listing, inspecting and cancelling sweeps.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dlm_coordinator::submit_sweep;
use dlm_sweep::{Limits, SpecFormat};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::problem::{HttpError, Problem};
use crate::views::{SubmitResponse, SweepPage, SweepView};

/// Sweeps or runs per page when the request sets no limit.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// Largest `limit` a sweep or run listing accepts; larger ones get 400.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Submits a sweep document: JSON (`application/json`), TOML
/// (`application/toml`) or YAML (`application/yaml`), in the schema of
/// docs/sweeps.md. The sweep is stored whole or, when anything in it is
/// invalid, not at all.
#[utoipa::path(post, path = "/v1/sweeps", tag = "sweeps",
    request_body(description = "The sweep document", content(
        (String = "application/json"), (String = "application/toml"), (String = "application/yaml"))),
    responses(
        (status = 201, description = "Stored", body = SubmitResponse),
        (status = 400, description = "Invalid sweep", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported content type", body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, HttpError> {
    let format = body_format(&headers)?;
    let body = body.map_err(body_rejection(state.settings.max_body_bytes))?;
    let document = String::from_utf8(body.to_vec())
        .map_err(|error| HttpError::InvalidBody(format!("the body is not UTF-8 text: {error}")))?;

    let limits = Limits {
        max_runs: state.settings.max_runs_per_sweep,
    };
    let outcome = submit_sweep(&state.store, document, format, limits).await?;
    tracing::Span::current().record("sweep", outcome.sweep_id);
    tracing::info!(
        sweep = outcome.sweep_id,
        runs = outcome.run_count,
        reused = outcome.reused_count,
        "sweep submitted"
    );

    let location = format!("/v1/sweeps/{}", outcome.sweep_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(SubmitResponse::from(outcome)),
    )
        .into_response())
}

/// Query parameters of the sweep list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Sweeps per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists sweeps, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/sweeps", tag = "sweeps", params(ListParams), responses(
    (status = 200, description = "A page of sweeps", body = SweepPage),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<SweepPage>, HttpError> {
    let Query(params) = params?;
    let limit = page_size(params.limit.as_deref())?;
    let before_id = params.cursor.as_deref().map(parse_cursor).transpose()?;

    let statuses = state.store.list_sweeps_before(before_id, limit).await?;
    let next_cursor = match statuses.last() {
        Some(last) if statuses.len() == limit as usize => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Json(SweepPage {
        sweeps: statuses.iter().map(SweepView::from).collect(),
        next_cursor,
    }))
}

/// Returns a sweep's state, run counts, progress, rate and estimated time
/// left.
#[utoipa::path(get, path = "/v1/sweeps/{id}", tag = "sweeps",
    params(("id" = i64, Path, description = "Sweep id")),
    responses(
        (status = 200, description = "The sweep", body = SweepView),
        (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sweep", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<SweepView>, HttpError> {
    let sweep_id = sweep_id(id)?;
    let status = state.store.sweep_status(sweep_id).await?;
    Ok(Json(SweepView::from(&status)))
}

/// Cancels a sweep and every queued or leased run that no other active
/// sweep needs. Cancelling twice changes nothing.
#[utoipa::path(post, path = "/v1/sweeps/{id}/cancel", tag = "sweeps",
    params(("id" = i64, Path, description = "Sweep id")),
    responses(
        (status = 200, description = "The cancelled sweep", body = SweepView),
        (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sweep", body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<SweepView>, HttpError> {
    let sweep_id = sweep_id(id)?;
    let status = state.store.cancel_sweep(sweep_id).await?;
    tracing::info!(
        sweep = sweep_id,
        cancelled_runs = status.counts.cancelled,
        "sweep cancelled"
    );
    Ok(Json(SweepView::from(&status)))
}

/// Reads the sweep id of the path and records it on the request's span.
pub(crate) fn sweep_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, HttpError> {
    let sweep_id = path_id(id)?;
    tracing::Span::current().record("sweep", sweep_id);
    Ok(sweep_id)
}

/// Reads the numeric id of the path.
pub(crate) fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, HttpError> {
    let Path(id) = id.map_err(|rejection| {
        HttpError::invalid("id", "", format!("{}; use a whole number", rejection.body_text()))
    })?;
    Ok(id)
}

/// Maps a failure to read the body to 413 (over the limit) or 400.
pub(crate) fn body_rejection(limit: usize) -> impl Fn(BytesRejection) -> HttpError {
    move |rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return HttpError::PayloadTooLarge { limit };
        }
        HttpError::InvalidBody(format!("cannot read the request body: {}", rejection.body_text()))
    }
}

fn body_format(headers: &HeaderMap) -> Result<SpecFormat, HttpError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => Ok(SpecFormat::Json),
        "application/toml" => Ok(SpecFormat::Toml),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(SpecFormat::Yaml),
        _ => Err(HttpError::UnsupportedMediaType {
            given: given.to_string(),
        }),
    }
}

/// Parses the `limit` parameter of a page.
pub(crate) fn page_size(text: Option<&str>) -> Result<u32, HttpError> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match text.parse::<u32>() {
        Ok(limit) if (1..=MAX_PAGE_SIZE).contains(&limit) => Ok(limit),
        _ => Err(HttpError::invalid(
            "limit",
            text,
            format!("expected a whole number from 1 to {MAX_PAGE_SIZE}"),
        )),
    }
}

fn parse_cursor(cursor: &str) -> Result<i64, HttpError> {
    cursor.parse::<i64>().map_err(|_| {
        HttpError::invalid(
            "cursor",
            cursor,
            "not a cursor this API returned; pass `next_cursor` from the previous page",
        )
    })
}
