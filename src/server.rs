//! Wiring: the HTTP server, the scheduler, and a clean shutdown. `run` takes an open
//! `App`, a bound listener and a shutdown signal, so tests can start a real server on
//! `127.0.0.1:0` with a temp data dir and a clock of their choosing.

use crate::http::state::AppState;
use crate::http::ui::templates::Templates;
use crate::jobs;
use crate::service::App;
use actix_web::web;
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the embedded templates do not parse: {0}")]
    Templates(#[from] minijinja::Error),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until `shutdown` completes, then lets in-flight requests finish, stops the
/// jobs and checkpoints every database. Must run inside an actix/tokio runtime.
pub async fn run(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let state = web::Data::new(AppState {
        app: app.clone(),
        templates: Templates::load()?,
        secure_cookies: false,
    });
    let (stop_jobs, stop_rx) = watch::channel(false);
    let job_handles = jobs::spawn(app.clone(), stop_rx);

    let server = crate::http::server(state, listener)?;
    let handle = server.handle();
    let mut running = actix_web::rt::spawn(server);
    let result = tokio::select! {
        r = &mut running => r,
        _ = shutdown => {
            tracing::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
            running.await
        }
    };
    let _ = stop_jobs.send(true);
    for h in job_handles {
        let _ = h.await;
    }
    app.tenants.checkpoint_all();
    tracing::info!("stopped");
    match result {
        Ok(r) => r.map_err(ServeError::Io),
        Err(e) => Err(ServeError::Io(std::io::Error::other(e))),
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
