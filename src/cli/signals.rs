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

/// How long a stopping command waits for blocking work still running (an index refresh, a
/// page render) before it exits anyway.
const BLOCKING_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs a long-running command's future to completion, then stops the runtime without
/// waiting more than [`BLOCKING_GRACE`] for blocking tasks. Dropping a runtime waits for every
/// blocking task: a full index refresh started just before SIGTERM kept a stopped operator
/// alive past the grace period Kubernetes gives it (and past the cluster test's 10 s).
pub fn run_until_stopped<T>(rt: tokio::runtime::Runtime, main: impl std::future::Future<Output = T>) -> T {
    let out = rt.block_on(main);
    rt.shutdown_timeout(BLOCKING_GRACE);
    out
}
