//! Scheduled work on tokio: each job runs on an interval (missed ticks are skipped, not
//! bunched), stops when shutdown is signalled, and logs its errors without ever ending
//! the process.

use crate::service::{self, App};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

type JobFn = fn(&App) -> service::Result<String>;

/// The jobs and how often they run.
const JOBS: &[(&str, Duration, JobFn)] =
    &[("session-cleanup", Duration::from_secs(600), session_cleanup)];

fn session_cleanup(app: &App) -> service::Result<String> {
    let n = service::auth::purge_expired_sessions(app, app.clock.now())?;
    Ok(format!("{n} expired sessions removed"))
}

/// Starts every job; they end when `stop` turns true.
pub fn spawn(app: Arc<App>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    JOBS.iter()
        .map(|(name, period, job)| {
            tokio::spawn(every(name, *period, app.clone(), stop.clone(), *job))
        })
        .collect()
}

async fn every(
    name: &'static str,
    period: Duration,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    job: JobFn,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let app = app.clone();
        match tokio::task::spawn_blocking(move || job(&app)).await {
            Ok(Ok(summary)) => tracing::debug!(job = name, summary, "job ran"),
            Ok(Err(e)) => tracing::error!(job = name, error = %e, "job failed"),
            Err(e) => tracing::error!(job = name, error = %e, "job panicked"),
        }
    }
    tracing::debug!(job = name, "job stopped");
}
