//! Wiring: the HTTP(S) server, the scheduler, and a clean shutdown. `run` takes an open
//! `App`, bound listeners and a shutdown signal, so tests can start a real server on
//! `127.0.0.1:0` with a temp data dir and a clock of their choosing.

use crate::config::ApplianceMtls;
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
    #[error("TLS: {0}")]
    Tls(String),
    #[error("configuration: {0}")]
    Config(String),
}

/// The sockets to serve on, bound by the caller (so it can report the real ports).
#[derive(Debug, Default)]
pub struct Sockets {
    /// Plain HTTP: the whole app without TLS, or only redirects when `https` is set.
    pub http: Option<TcpListener>,
    /// HTTPS, with the certificate from `App::tls` (call `App::enable_tls` first).
    pub https: Option<TcpListener>,
    /// With both: plain HTTP only redirects to HTTPS (what `licd serve` does). `false`
    /// serves the whole app on both (benchmarks compare them).
    pub redirect_plain: bool,
    /// No scheduler task: jobs run only when the caller calls `jobs::run_due` (tests
    /// that move a manual clock).
    pub manual_jobs: bool,
}

/// Serves until `shutdown` completes, then lets in-flight requests finish, stops the
/// jobs and checkpoints every database. Must run inside an actix/tokio runtime.
pub async fn run(
    app: Arc<App>,
    sockets: Sockets,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    // One server per data directory; `licd tenant ...` refuses to run beside it.
    let _data_lock = app
        .tenants
        .data_dir()
        .try_lock()
        .map_err(|e| ServeError::Config(e.to_string()))?
        .ok_or_else(|| {
            ServeError::Config(format!(
                "another licd holds {} (a server, or a `licd tenant` command): one at a time",
                app.tenants.data_dir().root().display()
            ))
        })?;
    let https = match (sockets.https, &app.tls) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ServeError::Tls(
                "an HTTPS socket was given but TLS was not prepared".into(),
            ));
        }
        (Some(l), Some(tls)) => {
            let client_ca =
                (app.config.tls.appliance_mtls != ApplianceMtls::Off).then(|| app.ca.cert_der());
            let config = crate::pki::tls::server_config(tls.slot.clone(), client_ca)
                .map_err(|e| ServeError::Tls(e.to_string()))?;
            Some((l, config))
        }
    };
    let https_port = match &https {
        Some((l, _)) if sockets.redirect_plain => Some(l.local_addr()?.port()),
        _ => None,
    };
    let state = web::Data::new(AppState {
        app: app.clone(),
        templates: Templates::load()?,
        secure_cookies: https_port.is_some() || app.config.behind_https_proxy(),
        behind_https_proxy: app.config.behind_https_proxy(),
        https_port,
        metrics_token: app
            .config
            .metrics
            .bearer_token()
            .map_err(|e| ServeError::Config(e.to_string()))?,
        flash: Default::default(),
    });
    let (stop_jobs, stop_rx) = watch::channel(false);
    let scheduler = (!sockets.manual_jobs).then(|| jobs::spawn(app.clone(), stop_rx));

    let listeners = crate::http::Listeners {
        http: sockets.http,
        https,
    };
    let server = crate::http::server(state, listeners)?;
    let handle = server.handle();
    let mut running = actix_web::rt::spawn(server);
    // Under systemd (Type=notify): the sockets are bound and the jobs run.
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let result = tokio::select! {
        r = &mut running => r,
        _ = shutdown => {
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
            handle.stop(true).await;
            running.await
        }
    };
    let _ = stop_jobs.send(true);
    if let Some(task) = scheduler {
        let _ = task.await;
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
