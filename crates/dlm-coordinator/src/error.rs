//! The one place that maps store and sweep errors to gRPC status codes.

use dlm_store::StoreError;
use tonic::Status;

use crate::SubmitError;

/// An error a gRPC handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Submit(#[from] SubmitError),

    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        match error {
            ApiError::Store(error) | ApiError::Submit(SubmitError::Store(error)) => {
                store_status(error)
            }
            ApiError::Submit(SubmitError::Sweep(error)) => Status::invalid_argument(error.to_string()),
            ApiError::Submit(error @ SubmitError::Expansion(_)) => {
                tracing::error!(error = %error, "sweep expansion failed");
                Status::internal(error.to_string())
            }
            ApiError::InvalidArgument { .. } => Status::invalid_argument(error.to_string()),
        }
    }
}

fn store_status(error: StoreError) -> Status {
    let message = error.to_string();
    // Lost connections and an exhausted pool pass once the database is
    // back, so clients should retry.
    if error.is_unavailable() {
        dlm_store::outage::record_unavailable("grpc", &message);
        return Status::unavailable(message);
    }
    match error {
        StoreError::SweepNotFound(_) | StoreError::RunNotFound(_) => Status::not_found(message),
        StoreError::StaleLease { .. } => Status::failed_precondition(message),
        StoreError::InvalidResult { .. } | StoreError::InvalidArgument { .. } => {
            Status::invalid_argument(message)
        }
        StoreError::Database(_) | StoreError::Migration(_) | StoreError::UnsupportedUrl { .. } => {
            tracing::error!(error = %message, "store operation failed");
            Status::internal(message)
        }
    }
}
