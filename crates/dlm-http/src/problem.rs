//! The one place that turns errors into HTTP responses: RFC 9457 problem
//! details (`application/problem+json`) with `type`, `title`, `status`,
//! `detail`, and `field` and `value` where the failing input is known.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dlm_coordinator::SubmitError;
use dlm_store::StoreError;
use dlm_sweep::SweepError;
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub(crate) const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error body as RFC 9457 defines it, plus the input at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem, such as `urn:dlm:problem:invalid-request`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of the failure: the operation, the value and the fix.
    pub detail: String,
    /// The request field, parameter or sweep path at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rejected value, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Submit(#[from] SubmitError),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Fit(#[from] dlm_fit::FitError),

    /// A query or path parameter with an invalid value.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidParameter {
        field: String,
        value: String,
        reason: String,
    },

    /// The request body could not be read or decoded.
    #[error("{0}")]
    InvalidBody(String),

    #[error("{0}")]
    Unauthorized(&'static str),

    #[error("no route for {method} {path}; GET /openapi.json lists every route")]
    RouteNotFound { method: String, path: String },

    #[error("request body larger than the limit of {limit} bytes; send a smaller document")]
    PayloadTooLarge { limit: usize },

    #[error(
        "unsupported content type {given:?}: send the sweep as application/json, \
         application/toml or application/yaml"
    )]
    UnsupportedMediaType { given: String },

    /// The database timed out or could not be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// A failure that is the server's fault; the detail is logged.
    #[error("{0}")]
    Internal(String),
}

impl HttpError {
    /// Builds an [`HttpError::InvalidParameter`].
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> HttpError {
        HttpError::InvalidParameter {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// Returns the problem body this error is sent as.
    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            HttpError::Submit(SubmitError::Sweep(error)) => sweep_problem(error, detail),
            HttpError::Submit(SubmitError::Store(error)) | HttpError::Store(error) => {
                store_problem(error, detail)
            }
            HttpError::Submit(SubmitError::Expansion(_)) | HttpError::Internal(_) => {
                tracing::error!(error = %detail, "request failed inside the server");
                problem(StatusCode::INTERNAL_SERVER_ERROR, "internal-error", detail)
            }
            HttpError::InvalidParameter { field, value, .. } => {
                problem(StatusCode::BAD_REQUEST, "invalid-parameter", detail)
                    .with_input(Some(field.clone()), Some(value.clone()))
            }
            HttpError::Fit(dlm_fit::FitError::InvalidOption { field, value, .. }) => {
                problem(StatusCode::BAD_REQUEST, "invalid-parameter", detail)
                    .with_input(Some(field.to_string()), Some(value.clone()))
            }
            HttpError::Fit(_) => problem(StatusCode::UNPROCESSABLE_ENTITY, "fit-failed", detail),
            HttpError::InvalidBody(_) => problem(StatusCode::BAD_REQUEST, "invalid-body", detail),
            HttpError::Unauthorized(_) => problem(StatusCode::UNAUTHORIZED, "unauthorized", detail),
            HttpError::RouteNotFound { .. } => problem(StatusCode::NOT_FOUND, "not-found", detail),
            HttpError::PayloadTooLarge { .. } => {
                problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", detail)
            }
            HttpError::UnsupportedMediaType { given } => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                detail,
            )
            .with_input(Some("content-type".to_string()), Some(given.clone())),
            HttpError::Unavailable(_) => {
                dlm_store::outage::record_unavailable("http", &detail);
                problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        response
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> HttpError {
        HttpError::invalid("query", "", rejection.body_text())
    }
}

impl From<PathRejection> for HttpError {
    fn from(rejection: PathRejection) -> HttpError {
        HttpError::invalid("path", "", rejection.body_text())
    }
}

impl Problem {
    fn with_input(mut self, field: Option<String>, value: Option<String>) -> Problem {
        self.field = field;
        self.value = value;
        self
    }
}

/// Builds the problem for a status that has no more specific error, such as
/// 405 from the router.
pub(crate) fn status_problem(status: StatusCode, detail: String) -> Problem {
    problem(status, "http-error", detail)
}

fn problem(status: StatusCode, kind: &str, detail: String) -> Problem {
    Problem {
        problem_type: format!("urn:dlm:problem:{kind}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        field: None,
        value: None,
    }
}

fn sweep_problem(error: &SweepError, detail: String) -> Problem {
    let (field, value) = match error {
        SweepError::UnknownFormat { given, .. } => (Some("format".to_string()), Some(given.clone())),
        SweepError::UnknownKey { section, key, .. } => (Some(key_path(section, key)), Some(key.clone())),
        SweepError::MissingField { field, .. } => (Some(field.clone()), None),
        SweepError::InvalidField { field, value, .. } => (Some(field.clone()), Some(value.clone())),
        SweepError::UnknownPath { path, .. } | SweepError::PathBelowValue { path, .. } => {
            (Some(path.clone()), None)
        }
        SweepError::TooManyRuns { count, .. } => (Some("runs".to_string()), Some(count.to_string())),
        SweepError::InvalidPoint { field, point, .. } => (Some(field.clone()), Some(point.clone())),
        _ => (None, None),
    };
    problem(StatusCode::BAD_REQUEST, "invalid-sweep", detail).with_input(field, value)
}

/// Joins a section as `SweepError` describes it (`the sweep file` or a
/// quoted path such as `` `base.tasks` ``) and a key into a dotted path.
fn key_path(section: &str, key: &str) -> String {
    let section = section.trim_matches('`');
    if section.is_empty() || section == "the sweep file" {
        return key.to_string();
    }
    format!("{section}.{key}")
}

fn store_problem(error: &StoreError, detail: String) -> Problem {
    match error {
        StoreError::SweepNotFound(id) => problem(StatusCode::NOT_FOUND, "not-found", detail)
            .with_input(Some("sweep_id".to_string()), Some(id.to_string())),
        StoreError::RunNotFound(id) => problem(StatusCode::NOT_FOUND, "not-found", detail)
            .with_input(Some("run_id".to_string()), Some(id.to_string())),
        StoreError::InvalidArgument { field, value, .. } => {
            problem(StatusCode::BAD_REQUEST, "invalid-parameter", detail)
                .with_input(Some(field.to_string()), Some(value.clone()))
        }
        // Lost connections and an exhausted pool pass once the database is
        // back, so clients should retry.
        error if error.is_unavailable() => {
            dlm_store::outage::record_unavailable("http", error);
            problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
        }
        _ => {
            tracing::error!(error = %detail, "store operation failed");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "internal-error", detail)
        }
    }
}
