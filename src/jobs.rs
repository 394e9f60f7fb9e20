//! Scheduled work on tokio: each job runs on an interval (missed ticks are skipped, not
//! bunched), stops when shutdown is signalled, and logs its errors without ever ending
//! the process. Job bodies are synchronous service calls run on the blocking pool.

use crate::service::{self, Actor, App};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

type Job = Arc<dyn Fn(&App) -> service::Result<String> + Send + Sync>;

/// How often the sweep job wakes to see whether a tenant's sweep is due.
const SWEEP_TICK: Duration = Duration::from_secs(5);

/// How often the server certificate's age is checked (a comparison; renewal is rare).
const TLS_TICK: Duration = Duration::from_secs(2);

fn tls_renewal(app: &App) -> service::Result<String> {
    Ok(match service::tls::renew_if_due(app, app.clock.now())? {
        Some(info) => format!("renewed; valid until {}", info.not_after),
        None => "not due".into(),
    })
}

fn session_cleanup(app: &App) -> service::Result<String> {
    let n = service::auth::purge_expired_sessions(app, app.clock.now())?;
    Ok(format!("{n} expired sessions removed"))
}

fn heartbeat_retention(app: &App) -> service::Result<String> {
    let mut n = 0;
    for t in app.tenants.all() {
        n += service::licenses::prune_heartbeats(&t, app.clock.now())?;
    }
    Ok(format!("{n} old heartbeats removed"))
}

/// Runs each tenant's health sweep when its `sweep_interval_secs` has passed.
fn sweep_job() -> Job {
    let last: Mutex<HashMap<String, Instant>> = Mutex::new(HashMap::new());
    Arc::new(move |app: &App| {
        let mut summary = Vec::new();
        let mut failures = Vec::new();
        for t in app.tenants.all() {
            let every = Duration::from_secs(u64::from(t.settings().sweep_interval_secs));
            let due = last
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&t.schema_name)
                .is_none_or(|at| at.elapsed() >= every);
            if !due {
                continue;
            }
            let report =
                match service::sweep::run_recorded(app, &t, app.clock.now(), &Actor::System, false)
                {
                    Ok(r) => r,
                    Err(e) => {
                        // One tenant's failure does not stop the others' sweeps.
                        failures.push(format!("{}: {e}", t.schema_name));
                        continue;
                    }
                };
            last.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(t.schema_name.clone(), Instant::now());
            if !report.transitions.is_empty() {
                tracing::info!(tenant = %t.schema_name, transitions = report.transitions.len(), counts = ?report.counts, "health sweep");
            }
            summary.push(format!(
                "{}: {} examined, {} changed",
                t.schema_name,
                report.examined,
                report.transitions.len()
            ));
        }
        if !failures.is_empty() {
            return Err(service::ServiceError::Internal(format!(
                "sweep failed for {}",
                failures.join("; ")
            )));
        }
        Ok(summary.join("; "))
    })
}

/// Starts every job; they end when `stop` turns true.
pub fn spawn(app: Arc<App>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let jobs: Vec<(&'static str, Duration, Job)> = vec![
        (
            "session-cleanup",
            Duration::from_secs(600),
            Arc::new(session_cleanup),
        ),
        (
            "heartbeat-retention",
            Duration::from_secs(3600),
            Arc::new(heartbeat_retention),
        ),
        ("licensing-sweep", SWEEP_TICK, sweep_job()),
        ("tls-renewal", TLS_TICK, Arc::new(tls_renewal)),
    ];
    jobs.into_iter()
        .map(|(name, period, job)| {
            tokio::spawn(every(name, period, app.clone(), stop.clone(), job))
        })
        .collect()
}

async fn every(
    name: &'static str,
    period: Duration,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    job: Job,
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
        let job = job.clone();
        let run = {
            let app = app.clone();
            tokio::task::spawn_blocking(move || job(&app)).await
        };
        let outcome = match run {
            Ok(Ok(summary)) => {
                tracing::debug!(job = name, summary, "job ran");
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::error!(job = name, error = %e, "job failed");
                Err(e.to_string())
            }
            Err(e) => {
                tracing::error!(job = name, error = %e, "job panicked");
                Err(format!("panicked: {e}"))
            }
        };
        app.jobs
            .record(&app.metrics, name, app.clock.now(), outcome);
    }
    tracing::debug!(job = name, "job stopped");
}
