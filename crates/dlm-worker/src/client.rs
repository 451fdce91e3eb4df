//! The gRPC connection to the coordinator, with the worker's bearer token.

use std::time::Duration;

use dlm_proto::v1::workers_client::WorkersClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::WorkerError;

/// Largest response or request the worker handles; results can be large.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

pub(crate) type Client = WorkersClient<InterceptedService<Channel, BearerToken>>;

/// Adds `authorization: Bearer <token>` to every call when a token is set.
#[derive(Clone)]
pub(crate) struct BearerToken {
    header: Option<MetadataValue<Ascii>>,
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(header) = &self.header {
            request.metadata_mut().insert("authorization", header.clone());
        }
        Ok(request)
    }
}

/// Builds a client for the coordinator at `url`. It connects on first use
/// and reconnects by itself after the coordinator comes back.
pub(crate) fn connect(url: &str, token: Option<&str>) -> Result<Client, WorkerError> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|error| WorkerError::InvalidCoordinator {
            url: url.to_string(),
            reason: error.to_string(),
        })?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120));

    let header = match token {
        Some(token) => Some(
            format!("Bearer {token}")
                .parse::<MetadataValue<Ascii>>()
                .map_err(|_| WorkerError::InvalidToken)?,
        ),
        None => None,
    };

    Ok(
        WorkersClient::with_interceptor(endpoint.connect_lazy(), BearerToken { header })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
    )
}
