//! A sweep's runs: filtered, sorted pages as JSON, or every matching run as
//! streamed CSV in the layout of `dlm_coordinator::export`.
//!
//! Rows are read from the store in keyset pages of run ids and filtered
//! here, so memory stays at one store page plus one response page whatever
//! the size of the sweep. A sorted page scans the whole sweep and keeps
//! only the best `limit` rows after the cursor.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dlm_coordinator::export::{CsvLayout, EXPORT_PAGE_SIZE};
use dlm_store::{ExportRow, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::filter::{CONFIG_PREFIX, FieldValue, Filter, KnownFields, RowFields};
use crate::problem::{HttpError, Problem};
use crate::sweeps::{page_size, sweep_id};

/// One run in a page of the listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSummary {
    pub run_id: i64,
    pub run_key: String,
    pub seed: u64,
    /// `dlm` or the baseline's name.
    pub role: String,
    pub point_index: u64,
    #[schema(example = "done")]
    pub state: String,
    /// Null while the run has no result.
    pub diverged: Option<bool>,
    pub duration_seconds: Option<f64>,
    /// Summary metrics by name; null where undefined or not yet computed.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Parameters the sweep point sets on top of the base.
    #[schema(value_type = Object)]
    pub overrides: Value,
}

/// One page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Parsed query of the listing.
struct RunQuery {
    filters: Vec<Filter>,
    sort: Option<SortKey>,
    limit: u32,
    cursor: Option<Position>,
    csv: bool,
}

/// A sort field and its direction.
struct SortKey {
    key: String,
    descending: bool,
}

/// Position of a row in the listing order: its sort value and run id.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Position {
    value: FieldValue,
    run_id: i64,
}

/// Lists a sweep's runs, filtered and sorted, as JSON pages or CSV.
///
/// Query: `filter=KEY OP VALUE` (repeatable, and all must hold), `sort=KEY`
/// or `sort=-KEY` (descending), `limit` (1 to 500, default 50) and `cursor`.
/// `format=csv` (or `Accept: text/csv`) returns every matching run as CSV
/// in run id order. KEY is `metric.NAME`, `config.PATH`, or one of run_id,
/// seed, role, state, diverged.
#[utoipa::path(get, path = "/v1/sweeps/{id}/runs", tag = "runs",
    params(
        ("id" = i64, Path, description = "Sweep id"),
        ("filter" = Option<Vec<String>>, Query, description = "KEY OP VALUE, such as metric.F<0.1 or config.dynamics.temperature=0.01"),
        ("sort" = Option<String>, Query, description = "KEY or -KEY"),
        ("limit" = Option<u32>, Query, description = "Runs per page, 1 to 500 (default 50)", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "A page of runs, or CSV", content(
            (RunPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sweep", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let sweep_id = sweep_id(id)?;
    state.store.sweep_status(sweep_id).await?;
    let layout = CsvLayout::for_sweep(&state.store, sweep_id)
        .await
        .map_err(|error| HttpError::Internal(error.to_string()))?;
    let known = KnownFields {
        config_columns: layout
            .header()
            .iter()
            .filter(|name| name.starts_with(CONFIG_PREFIX))
            .cloned()
            .collect(),
    };
    let query = parse_query(query.as_deref().unwrap_or(""), &headers, &known)?;

    if query.csv {
        return Ok(csv_response(state.store.clone(), sweep_id, layout, query.filters));
    }
    let page = run_page(&state.store, sweep_id, &query).await?;
    Ok(Json(page).into_response())
}

fn parse_query(text: &str, headers: &HeaderMap, known: &KnownFields) -> Result<RunQuery, HttpError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
        .map_err(|error| HttpError::invalid("query", text, error.to_string()))?;
    let accepts_csv = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("text/csv"));
    let mut query = RunQuery {
        filters: Vec::new(),
        sort: None,
        limit: page_size(None)?,
        cursor: None,
        csv: accepts_csv,
    };

    for (name, value) in &pairs {
        match name.as_str() {
            "filter" => query.filters.push(Filter::parse(value, known)?),
            "sort" => {
                let (descending, key) = match value.strip_prefix('-') {
                    Some(key) => (true, key),
                    None => (false, value.as_str()),
                };
                known.check("sort", key)?;
                query.sort = Some(SortKey { key: key.to_string(), descending });
            }
            "limit" => query.limit = page_size(Some(value))?,
            "cursor" => query.cursor = Some(decode_cursor(value)?),
            "format" => match value.as_str() {
                "csv" => query.csv = true,
                "json" => query.csv = false,
                _ => return Err(HttpError::invalid("format", value, "expected json or csv")),
            },
            _ => {
                return Err(HttpError::invalid(
                    name,
                    value,
                    "unknown parameter; use filter, sort, limit, cursor or format",
                ));
            }
        }
    }

    let paginated = pairs.iter().any(|(name, _)| matches!(name.as_str(), "sort" | "limit" | "cursor"));
    if query.csv && paginated {
        return Err(HttpError::invalid(
            "format",
            "csv",
            "CSV holds every matching run in run id order; drop sort, limit and cursor",
        ));
    }
    Ok(query)
}

/// Scans the sweep and returns the first `limit` matching runs after the
/// cursor in the requested order.
async fn run_page(store: &Store, sweep_id: i64, query: &RunQuery) -> Result<RunPage, HttpError> {
    let sort_key = query.sort.as_ref().map_or("run_id", |sort| sort.key.as_str());
    let descending = query.sort.as_ref().is_some_and(|sort| sort.descending);
    let order = |left: &Position, right: &Position| {
        let ordering = left
            .value
            .compare(&right.value)
            .then(left.run_id.cmp(&right.run_id));
        if descending { ordering.reverse() } else { ordering }
    };

    let keep = query.limit as usize + 1;
    let mut best: Vec<(Position, ExportRow)> = Vec::new();
    let mut after = None;
    loop {
        let page = store.export_page(sweep_id, after, EXPORT_PAGE_SIZE).await?;
        let last_id = page.last().map(|row| row.run_id);
        let full = page.len() == EXPORT_PAGE_SIZE as usize;
        for row in page {
            let fields = RowFields::new(&row)?;
            if !query.filters.iter().all(|filter| filter.matches(&fields)) {
                continue;
            }
            let position = Position {
                value: fields.value(sort_key),
                run_id: row.run_id,
            };
            if let Some(cursor) = &query.cursor
                && order(&position, cursor) != Ordering::Greater
            {
                continue;
            }
            best.push((position, row));
        }
        // Trimming only once the buffer doubles keeps the sorting cost low.
        if best.len() >= 2 * keep {
            best.sort_by(|left, right| order(&left.0, &right.0));
            best.truncate(keep);
        }
        match last_id {
            Some(last) if full => after = Some(last),
            _ => break,
        }
    }

    best.sort_by(|left, right| order(&left.0, &right.0));
    let has_more = best.len() > query.limit as usize;
    best.truncate(query.limit as usize);
    let next_cursor = match best.last() {
        Some((position, _)) if has_more => Some(encode_cursor(position)),
        _ => None,
    };
    let runs = best.into_iter().map(|(_, row)| run_summary(row)).collect::<Result<_, _>>()?;
    Ok(RunPage { runs, next_cursor })
}

fn run_summary(row: ExportRow) -> Result<RunSummary, HttpError> {
    let overrides = serde_json::from_str(&row.overrides).map_err(|error| {
        HttpError::Internal(format!("run {} has invalid stored overrides: {error}", row.run_id))
    })?;
    Ok(RunSummary {
        run_id: row.run_id,
        run_key: row.run_key,
        seed: row.seed,
        role: row.role,
        point_index: row.point_index,
        state: row.state.as_str().to_string(),
        diverged: row.diverged,
        duration_seconds: row.duration_seconds,
        metrics: row.metrics.into_iter().collect(),
        overrides,
    })
}

/// Streams the header, then every matching run a store page at a time.
fn csv_response(store: Store, sweep_id: i64, layout: CsvLayout, filters: Vec<Filter>) -> Response {
    let header = match csv_header(&layout) {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let state = CsvStream { store, sweep_id, layout, filters, after: None, finished: false };
    let rows = futures::stream::unfold(state, |mut state| async move {
        if state.finished {
            return None;
        }
        let chunk = state.next_chunk().await;
        if let Err(error) = &chunk {
            tracing::error!(sweep = state.sweep_id, error = %error, "CSV export failed mid-stream");
            state.finished = true;
        }
        Some((chunk.map_err(std::io::Error::other), state))
    });
    let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(header) });
    let body = Body::from_stream(futures::StreamExt::chain(first, rows));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"sweep-{sweep_id}-runs.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

struct CsvStream {
    store: Store,
    sweep_id: i64,
    layout: CsvLayout,
    filters: Vec<Filter>,
    after: Option<i64>,
    finished: bool,
}

impl CsvStream {
    async fn next_chunk(&mut self) -> Result<Bytes, HttpError> {
        let page = self.store.export_page(self.sweep_id, self.after, EXPORT_PAGE_SIZE).await?;
        if page.len() < EXPORT_PAGE_SIZE as usize {
            self.finished = true;
        }
        self.after = page.last().map(|row| row.run_id);
        csv_rows(&self.layout, &page, &self.filters)
    }
}

/// Writes the CSV header line.
fn csv_header(layout: &CsvLayout) -> Result<Bytes, HttpError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    layout.write_header(&mut writer).map_err(export_failed)?;
    finish_chunk(writer)
}

/// Writes the rows of `rows` that pass every filter.
fn csv_rows(layout: &CsvLayout, rows: &[ExportRow], filters: &[Filter]) -> Result<Bytes, HttpError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let fields = RowFields::new(row)?;
        if filters.iter().all(|filter| filter.matches(&fields)) {
            layout.write_row(&mut writer, row).map_err(export_failed)?;
        }
    }
    finish_chunk(writer)
}

fn finish_chunk(writer: csv::Writer<Vec<u8>>) -> Result<Bytes, HttpError> {
    let bytes = writer
        .into_inner()
        .map_err(|error| HttpError::Internal(format!("failed to write CSV: {error}")))?;
    Ok(Bytes::from(bytes))
}

fn export_failed(error: dlm_coordinator::export::ExportError) -> HttpError {
    HttpError::Internal(error.to_string())
}

fn encode_cursor(position: &Position) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    hex::encode(json)
}

fn decode_cursor(text: &str) -> Result<Position, HttpError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            HttpError::invalid(
                "cursor",
                text,
                "not a cursor this API returned; pass `next_cursor` from the previous page with the same sort",
            )
        })
}
