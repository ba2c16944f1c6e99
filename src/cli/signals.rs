//! Shutdown on SIGTERM (Kubernetes) or SIGINT (Ctrl-C): the one signal handler of every
//! long-running command.

use tokio_util::sync::CancellationToken;

/// Resolves on SIGTERM or SIGINT. Both handlers are installed when this is called, not
/// when the future is first polled: a caller that announces it is listening and then awaits
/// is never killed by a signal sent in between (the default action of both). Call it inside
/// the Tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate()).and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
    };
    async move {
        #[cfg(unix)]
        match handlers {
            Ok((mut term, mut int)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

/// Cancels `token` on SIGTERM or SIGINT. The handlers are installed before this returns
/// (not when the spawned task first runs), so a signal right after start-up stops the
/// command cleanly instead of killing it.
pub fn cancel_on_signals(token: CancellationToken) {
    let signal = shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        token.cancel();
    });
}
