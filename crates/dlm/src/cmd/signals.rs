//! Waiting for the signals that ask a long-running command to stop.

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();

    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => tracing::info!("SIGINT received; shutting down"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
                }
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM; only SIGINT stops the command");
                let _ = interrupt.await;
            }
        }
    }

    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
        tracing::info!("interrupt received; shutting down");
    }
}
