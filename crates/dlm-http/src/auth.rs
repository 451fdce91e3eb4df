//! The bearer-token check on mutating requests.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::problem::HttpError;

/// Admits safe requests (GET, HEAD, OPTIONS) and, when an API token is set,
/// only those mutating requests that carry `Authorization: Bearer <token>`.
/// Rejections are logged with the method and path, never the token.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.settings.api_token else {
        return next.run(request).await;
    };
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }

    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if presented.is_some_and(|token| expected.matches(token)) {
        return next.run(request).await;
    }

    let reason = if presented.is_some() {
        "wrong bearer token: send the API token set by --api-token (DLM_API_TOKEN)"
    } else {
        "missing bearer token: send the header `Authorization: Bearer <token>` with the API token"
    };
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        reason,
        "rejected unauthenticated request"
    );
    HttpError::Unauthorized(reason).into_response()
}
