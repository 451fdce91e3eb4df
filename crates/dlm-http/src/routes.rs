//! The router: every route, the token check, the body limit, request spans
//! and the fallback that gives every error a problem body.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dlm_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::problem::{HttpError, PROBLEM_CONTENT_TYPE, status_problem};
use crate::{AppState, HttpSettings, auth, fit, ops, run_detail, runs, sweeps, telemetry};

/// Builds the API over `store`. Installs the process's Prometheus recorder
/// on first use, so counters recorded by a coordinator in the same process
/// appear at `/metrics`.
pub fn router(store: Store, settings: HttpSettings) -> Router {
    telemetry::prometheus_handle();
    let max_body_bytes = settings.max_body_bytes;
    let state = AppState {
        store,
        settings: std::sync::Arc::new(settings),
    };

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi_json))
        .route("/v1/sweeps", post(sweeps::submit).get(sweeps::list))
        .route("/v1/sweeps/{id}", get(sweeps::get))
        .route("/v1/sweeps/{id}/cancel", post(sweeps::cancel))
        .route("/v1/sweeps/{id}/runs", get(runs::list_runs))
        .route("/v1/sweeps/{id}/fit", get(fit::fit_json))
        .route("/v1/sweeps/{id}/fit.svg", get(fit::fit_svg))
        .route("/v1/runs/{id}", get(run_detail::get_run))
        .fallback(route_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_token))
        // The tower-http limit replaces axum's 2 MiB default for extractors.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(max_body_bytes))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            problem_for_bare_errors(max_body_bytes, request, next)
        }))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Opens the span of one request; handlers fill in the sweep and run ids.
fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = request.uri().path(),
        sweep = tracing::field::Empty,
        run = tracing::field::Empty,
    )
}

async fn route_not_found(method: Method, uri: axum::http::Uri) -> HttpError {
    HttpError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

/// Gives a problem body to error responses produced outside the handlers
/// (405 from the router, 413 from the body limit), which come with plain
/// text or nothing.
async fn problem_for_bare_errors(max_body_bytes: usize, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let has_problem_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if has_problem_body {
        return response;
    }

    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return HttpError::PayloadTooLarge { limit: max_body_bytes }.into_response();
    }
    let detail = match status.as_u16() {
        405 => format!("method {method} is not allowed on {path}; GET /openapi.json lists the methods of every route"),
        _ => format!("{method} {path} failed with status {status}"),
    };
    let mut problem = status_problem(status, detail).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}
