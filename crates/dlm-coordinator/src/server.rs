//! Serving both gRPC services and the reaper on one listener until shutdown.

use std::future::Future;
use std::sync::Arc;

use dlm_proto::v1::sweeps_server::SweepsServer;
use dlm_proto::v1::workers_server::WorkersServer;
use dlm_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::auth::bearer_interceptor;
use crate::reaper::{self, ReaperConfig};
use crate::sweeps_service::SweepsService;
use crate::workers_service::WorkersService;
use crate::CoordinatorConfig;

/// Largest request accepted. Results carry the down-sampled series, which
/// can exceed tonic's 4 MiB default for long runs.
const MAX_REQUEST_BYTES: usize = 256 * 1024 * 1024;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A coordinator: the `Sweeps` and `Workers` services over one store.
pub struct Coordinator {
    store: Store,
    config: Arc<CoordinatorConfig>,
}

impl Coordinator {
    /// Creates a coordinator over a migrated store.
    pub fn new(store: Store, config: CoordinatorConfig) -> Coordinator {
        Coordinator {
            store,
            config: Arc::new(config),
        }
    }

    /// Serves gRPC on `listener` and runs the reaper until `shutdown`
    /// completes, then stops accepting calls, ends open watches and waits
    /// for calls in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop_sender, stop_receiver) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_sender.send(true);
        });

        let sweeps = SweepsServer::with_interceptor(
            SweepsService {
                store: self.store.clone(),
                config: self.config.clone(),
                shutdown: stop_receiver.clone(),
            },
            bearer_interceptor(self.config.api_token.clone(), "api"),
        );
        let workers = InterceptedService::new(
            WorkersServer::new(WorkersService {
                store: self.store.clone(),
                config: self.config.clone(),
            })
            .max_decoding_message_size(MAX_REQUEST_BYTES),
            bearer_interceptor(self.config.worker_token.clone(), "worker"),
        );

        let reaper = tokio::spawn(reaper::run(
            self.store.clone(),
            ReaperConfig {
                interval: self.config.reap_interval,
                max_attempts: self.config.max_attempts,
                lease_duration: self.config.lease_duration,
            },
            stopped(stop_receiver.clone()),
        ));

        // Without TCP_NODELAY, Nagle's algorithm holds back the last frame
        // of each HTTP/2 response until the client's delayed ACK, which
        // added about 40 ms to every call.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let served = Server::builder()
            .add_service(sweeps)
            .add_service(workers)
            .serve_with_incoming_shutdown(incoming, stopped(stop_receiver))
            .await;

        reaper.abort();
        let _ = reaper.await;
        served?;
        Ok(())
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}
