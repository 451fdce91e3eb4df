//! Bearer-token checks on incoming gRPC requests.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::{Request, Status};

/// A secret bearer token. Its `Debug` output hides the value.
#[derive(Clone)]
pub struct Token {
    value: Arc<str>,
}

impl Token {
    /// Wraps a token; returns `None` for an empty or blank one.
    pub fn new(value: &str) -> Option<Token> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        Some(Token {
            value: Arc::from(value),
        })
    }

    /// Returns the secret, for a client that must send it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Returns whether `presented` equals the token. The comparison takes
    /// the same time wherever the values differ, and hashing first also
    /// hides the expected length.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.value.as_bytes());
        let presented = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&presented).into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Token(<hidden>)")
    }
}

/// Builds an interceptor that admits requests carrying
/// `authorization: Bearer <token>` when `expected` is set, and every request
/// otherwise. `service` names the service in the warning logged on rejection.
pub(crate) fn bearer_interceptor(
    expected: Option<Token>,
    service: &'static str,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
    move |request: Request<()>| {
        let Some(expected) = &expected else {
            return Ok(request);
        };

        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if presented.is_some_and(|token| expected.matches(token)) {
            return Ok(request);
        }

        let peer = request
            .remote_addr()
            .map_or_else(|| "unknown".to_string(), |address| address.to_string());
        let reason = if presented.is_some() {
            "wrong bearer token"
        } else {
            "missing bearer token"
        };
        tracing::warn!(%peer, service, reason, "rejected unauthenticated request");
        Err(Status::unauthenticated(format!(
            "{reason}: send the header `authorization: Bearer <token>` with the {service} token"
        )))
    }
}
