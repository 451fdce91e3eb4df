//! Endpoints for operators and tools: liveness, readiness, metrics and the
//! OpenAPI document.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{HttpError, Problem};
use crate::telemetry;

/// Maximum wait for the database in a readiness check.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Body of the health and readiness endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub(crate) async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// Readiness: the database responds to a query within two seconds.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "The database responds", body = HealthStatus),
    (status = 503, description = "The database is unreachable or timed out", body = Problem,
        content_type = "application/problem+json")))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<HealthStatus>, HttpError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {
            dlm_store::outage::record_available("readyz");
            Ok(Json(HealthStatus { status: "ready" }))
        }
        Ok(Err(error)) => Err(HttpError::Unavailable(error.to_string())),
        Err(_) => Err(HttpError::Unavailable(format!(
            "query timed out after {} s",
            READY_TIMEOUT.as_secs()
        ))),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format 0.0.4", body = String,
        content_type = "text/plain")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, HttpError> {
    let text = telemetry::render(&state.store, state.settings.lease_duration).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses(
    (status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub(crate) async fn openapi_json() -> Response {
    Json(crate::openapi_document()).into_response()
}
