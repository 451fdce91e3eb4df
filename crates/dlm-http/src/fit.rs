//! The fit of the forgetting bound over a sweep's runs, as JSON or as the
//! SVG plot. Runs become points through the export layout, exactly as
//! `dlm fit` reads them from an exported CSV file, and the fit runs on a
//! blocking thread because it is CPU work (the bootstrap above all).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dlm_coordinator::export::{CsvLayout, EXPORT_PAGE_SIZE};
use dlm_fit::{
    BaselineRatio, FitColumns, FitOptions, FitPoint, FitReport, Method, PlotOptions, XScale,
    baseline_ratio, default_label_column, fit, render_svg,
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::AppState;
use crate::problem::{HttpError, Problem};
use crate::sweeps::sweep_id;

/// Role of the runs under the dissipative dynamics; every other role is a
/// baseline.
const DLM_ROLE: &str = "dlm";

/// Metric with the forgetting measure.
const FORGETTING_METRIC: &str = "F";

/// Query parameters of the fit; each defaults to `dlm fit`'s default.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FitParams {
    /// envelope (default), quantile or ols.
    method: Option<String>,
    /// Quantile of the quantile method, strictly between 0 and 1 (default 0.95).
    #[param(value_type = Option<f64>)]
    q: Option<String>,
    /// Entropy production on the x axis: flux (default, metric
    /// sigma_flux_mean) or heat (sigma_heat_mean).
    sigma: Option<String>,
    /// linear (default), log or both.
    x_scale: Option<String>,
    /// Exclude runs whose learning accuracy is below this fraction (0 to 1).
    #[param(value_type = Option<f64>)]
    min_la: Option<String>,
    /// Bootstrap resamples behind the intervals (default 1000; 0 disables them).
    #[param(value_type = Option<u32>)]
    bootstrap: Option<String>,
    /// Seed of the bootstrap and permutation streams (default 0).
    #[param(value_type = Option<u64>)]
    seed: Option<String>,
}

/// The fit report with the comparison against each baseline.
#[derive(Debug, Serialize)]
pub struct FitResponse {
    #[serde(flatten)]
    pub report: FitReport,
    pub sigma_column: String,
    pub forgetting_column: &'static str,
    /// One entry per baseline role of the sweep; empty without baselines.
    pub baselines: Vec<BaselineComparison>,
}

/// Forgetting of one baseline against the DLM runs.
#[derive(Debug, Serialize)]
pub struct BaselineComparison {
    pub role: String,
    /// Null when the ratio is undefined, and then `error` gives the reason.
    pub comparison: Option<BaselineRatio>,
    pub error: Option<String>,
}

/// Fits the bound F <= F0 exp(-sigma/sigma0) to the sweep's DLM runs and
/// returns every field of the fit report, plus the ratio of baseline to
/// DLM forgetting for each baseline of the sweep.
#[utoipa::path(get, path = "/v1/sweeps/{id}/fit", tag = "fit",
    params(("id" = i64, Path, description = "Sweep id"), FitParams),
    responses(
        (status = 200, description = "The fit report, as `dlm fit --json` prints it, with `baselines`", content_type = "application/json"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sweep", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The runs do not allow a fit", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn fit_json(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    params: Result<Query<FitParams>, QueryRejection>,
) -> Result<Json<FitResponse>, HttpError> {
    let sweep_id = sweep_id(id)?;
    let Query(params) = params?;
    let request = FitRequest::parse(&params)?;
    let (points, _) = collect_points(&state, sweep_id, &request).await?;

    let response = tokio::task::spawn_blocking(move || fit_with_baselines(points, request))
        .await
        .map_err(|error| HttpError::Internal(format!("the fit thread failed: {error}")))??;
    Ok(Json(response))
}

/// Draws the fit as SVG.
#[utoipa::path(get, path = "/v1/sweeps/{id}/fit.svg", tag = "fit",
    params(("id" = i64, Path, description = "Sweep id"), FitParams),
    responses(
        (status = 200, description = "The plot", content_type = "image/svg+xml"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sweep", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The runs do not allow a fit", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn fit_svg(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    params: Result<Query<FitParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let sweep_id = sweep_id(id)?;
    let Query(params) = params?;
    let request = FitRequest::parse(&params)?;
    let (points, label) = collect_points(&state, sweep_id, &request).await?;

    let svg = tokio::task::spawn_blocking(move || {
        let dlm_points = points.get(DLM_ROLE).map_or(&[][..], Vec::as_slice);
        let report = fit(dlm_points, &request.options)?;
        let plot = PlotOptions {
            color_field: label.unwrap_or_else(|| "class".to_string()),
            ..PlotOptions::default()
        };
        render_svg(dlm_points, &report, &plot)
    })
    .await
    .map_err(|error| HttpError::Internal(format!("the fit thread failed: {error}")))??;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// Validated fit parameters.
struct FitRequest {
    options: FitOptions,
    sigma_column: String,
}

impl FitRequest {
    fn parse(params: &FitParams) -> Result<FitRequest, HttpError> {
        let mut options = FitOptions::default();
        if let Some(method) = &params.method {
            options.method = method
                .parse::<Method>()
                .map_err(|_| HttpError::invalid("method", method, "expected envelope, quantile or ols"))?;
        }
        if let Some(x_scale) = &params.x_scale {
            options.x_scale = x_scale
                .parse::<XScale>()
                .map_err(|_| HttpError::invalid("x_scale", x_scale, "expected linear, log or both"))?;
        }
        if let Some(q) = &params.q {
            options.q = parse_number("q", q, "a quantile strictly between 0 and 1")?;
        }
        if let Some(min_la) = &params.min_la {
            let threshold: f64 = parse_number("min_la", min_la, "a fraction from 0 to 1")?;
            if !(0.0..=1.0).contains(&threshold) {
                return Err(HttpError::invalid(
                    "min_la",
                    min_la,
                    "learning accuracy is a fraction from 0 to 1, so use for example 0.6 rather than 60",
                ));
            }
            options.min_learning_accuracy = Some(threshold);
        }
        if let Some(bootstrap) = &params.bootstrap {
            options.bootstrap = parse_number("bootstrap", bootstrap, "a whole number of resamples")?;
        }
        if let Some(seed) = &params.seed {
            options.seed = parse_number("seed", seed, "a whole number from 0 to 2^64 - 1")?;
        }
        let sigma_column = match params.sigma.as_deref() {
            None | Some("flux") => "sigma_flux_mean",
            Some("heat") => "sigma_heat_mean",
            Some(other) => return Err(HttpError::invalid("sigma", other, "expected flux or heat")),
        };
        Ok(FitRequest {
            options,
            sigma_column: sigma_column.to_string(),
        })
    }
}

fn parse_number<T: std::str::FromStr>(field: &str, text: &str, expected: &str) -> Result<T, HttpError> {
    text.parse::<T>()
        .map_err(|_| HttpError::invalid(field, text, format!("expected {expected}")))
}

/// Reads every run of the sweep as a fit point, grouped by role, and
/// returns the points with the name of the column that labels them.
async fn collect_points(
    state: &AppState,
    sweep_id: i64,
    request: &FitRequest,
) -> Result<(BTreeMap<String, Vec<FitPoint>>, Option<String>), HttpError> {
    state.store.sweep_status(sweep_id).await?;
    let export_failed = |error: dlm_coordinator::export::ExportError| HttpError::Internal(error.to_string());
    let layout = CsvLayout::for_sweep(&state.store, sweep_id)
        .await
        .map_err(export_failed)?;
    let label = default_label_column(|name| layout.header().iter().any(|column| column == name));
    let columns = FitColumns {
        sigma: request.sigma_column.clone(),
        forgetting: FORGETTING_METRIC.to_string(),
        group: None,
        label: label.map(str::to_string),
    };

    let mut points: BTreeMap<String, Vec<FitPoint>> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = state.store.export_page(sweep_id, after, EXPORT_PAGE_SIZE).await?;
        for row in &page {
            let point = layout.fit_point(row, &columns).map_err(export_failed)?;
            points.entry(row.role.clone()).or_default().push(point);
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE_SIZE as usize => after = Some(last.run_id),
            _ => break,
        }
    }
    Ok((points, label.map(str::to_string)))
}

fn fit_with_baselines(
    mut points: BTreeMap<String, Vec<FitPoint>>,
    request: FitRequest,
) -> Result<FitResponse, HttpError> {
    let dlm_points = points.remove(DLM_ROLE).unwrap_or_default();
    let report = fit(&dlm_points, &request.options)?;
    let baselines = points
        .into_iter()
        .map(|(role, baseline_points)| {
            let ratio = baseline_ratio(
                &dlm_points,
                &baseline_points,
                request.options.bootstrap,
                request.options.seed,
            );
            match ratio {
                Ok(comparison) => BaselineComparison { role, comparison: Some(comparison), error: None },
                Err(error) => BaselineComparison { role, comparison: None, error: Some(error.to_string()) },
            }
        })
        .collect();
    Ok(FitResponse {
        report,
        sigma_column: request.sigma_column,
        forgetting_column: FORGETTING_METRIC,
        baselines,
    })
}
