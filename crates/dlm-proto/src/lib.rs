//! Generated gRPC types for the coordinator's two services: `Sweeps`, used by
//! people and the HTTP API, and `Workers`, used by the worker processes.

/// Version 1 of the `dlm.v1` protobuf package.
pub mod v1 {
    tonic::include_proto!("dlm.v1");
}
