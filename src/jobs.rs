//! Scheduled work. Whether a job is due is decided by the `Clock`, never by the
//! machine's monotonic time, so tests move a manual clock and call [`run_due`] instead
//! of waiting. In the server a tokio task wakes every second (missed ticks are skipped,
//! not bunched), runs the due jobs on the blocking pool, and stops when shutdown is
//! signalled. A job's failure (or panic) is logged and recorded for `/readyz` and
//! `/metrics`; it never ends the process.

use crate::service::{self, Actor, App};
use chrono::Duration;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// A scheduled job: its name (in logs, `/readyz` and metrics), how often it is due by
/// the clock, and what it does.
struct Job {
    name: &'static str,
    every: fn() -> Duration,
    run: fn(&App) -> service::Result<String>,
}

const JOBS: &[Job] = &[
    Job {
        name: "session-cleanup",
        every: || Duration::minutes(10),
        run: session_cleanup,
    },
    Job {
        name: "heartbeat-retention",
        every: || Duration::hours(1),
        run: heartbeat_retention,
    },
    // Looks every 5 s; each tenant's own `sweep_interval_secs` decides inside.
    Job {
        name: "licensing-sweep",
        every: || Duration::seconds(5),
        run: licensing_sweep,
    },
    // Closes tenants unused for `tenancy.idle_close_minutes`.
    Job {
        name: "tenant-idle-close",
        every: || Duration::minutes(1),
        run: tenant_idle_close,
    },
    // Sends due outbox messages of open tenants; does nothing without `email.smtp_url`.
    Job {
        name: "email-delivery",
        every: || Duration::seconds(5),
        run: email_delivery,
    },
    // A comparison of the certificate's age; renewal itself is rare.
    Job {
        name: "tls-renewal",
        every: || Duration::seconds(2),
        run: tls_renewal,
    },
];

/// How often the server's scheduler task wakes (real time) to look for due jobs.
const WAKE: std::time::Duration = std::time::Duration::from_secs(1);

fn tls_renewal(app: &App) -> service::Result<String> {
    Ok(match service::tls::renew_if_due(app, app.clock.now())? {
        Some(info) => format!("renewed; valid until {}", info.not_after),
        None => "not due".into(),
    })
}

/// Sends each open tenant's due outbox messages (`service::outbox::deliver_due`). A
/// closed tenant's messages wait until it opens again. Without an SMTP server
/// (air-gapped) it does nothing: messages stay pending for staff to hand over.
fn email_delivery(app: &App) -> service::Result<String> {
    let Some(mailer) = &app.mailer else {
        return Ok("no SMTP server configured".into());
    };
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for t in app.tenants.all() {
        match service::outbox::deliver_due(&t, app.clock.as_ref(), mailer) {
            Ok(r) if r == service::outbox::DeliveryReport::default() => {}
            Ok(r) => summary.push(format!(
                "{}: {} sent, {} to retry, {} failed",
                t.schema_name, r.sent, r.retrying, r.failed
            )),
            Err(e) => failures.push(format!("{}: {}", t.schema_name, e.report())),
        }
    }
    if !failures.is_empty() {
        return Err(service::ServiceError::unexpected(format!(
            "email delivery failed for {}",
            failures.join("; ")
        )));
    }
    Ok(summary.join("; "))
}

fn session_cleanup(app: &App) -> service::Result<String> {
    let n = service::auth::purge_expired_sessions(app, app.clock.now())?;
    Ok(format!("{n} expired sessions removed"))
}

fn tenant_idle_close(app: &App) -> service::Result<String> {
    let n = app
        .tenants
        .close_idle(app.clock.now(), app.config.tenancy.idle_close())?;
    Ok(format!("{n} idle tenants closed"))
}

/// Open tenants only: a closed tenant receives no heartbeats, and its old ones are
/// removed when its scheduled work is due (`closed_tenants`, at least daily).
fn heartbeat_retention(app: &App) -> service::Result<String> {
    let mut n = 0;
    for t in app.tenants.all() {
        n += service::licenses::prune_heartbeats(&t, app.clock.now())?;
    }
    Ok(format!("{n} old heartbeats removed"))
}

/// The most closed tenants one run of the sweep job opens; the rest wait for the next
/// run (5 s later), so that a run stays short (after an upgrade every tenant is due).
const CLOSED_TENANTS_PER_RUN: usize = 64;

/// Runs each open tenant's health sweep when its `sweep_interval_secs` has passed, and
/// the scheduled work of each closed tenant whose time (in the registry) has come. One
/// tenant's failure does not stop the others' sweeps.
fn licensing_sweep(app: &App) -> service::Result<String> {
    let (mut summary, mut failures) = open_tenants_sweep(app);
    let (closed, closed_failures) = closed_tenants(app)?;
    summary.extend(closed);
    failures.extend(closed_failures);
    if !failures.is_empty() {
        return Err(service::ServiceError::unexpected(format!(
            "sweep failed for {}",
            failures.join("; ")
        )));
    }
    Ok(summary.join("; "))
}

/// The closed tenants whose scheduled work is due, each opened for it and closed again:
/// health sweep, heartbeat retention, expired sessions (removed as it closes). One
/// registry query when nothing is due. A tenant whose work fails is tried again after
/// its sweep interval.
fn closed_tenants(app: &App) -> service::Result<(Vec<String>, Vec<String>)> {
    let now = app.clock.now();
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for name in app
        .tenants
        .closed_and_due(now)?
        .into_iter()
        .take(CLOSED_TENANTS_PER_RUN)
    {
        let visited = app.tenants.visit(&name, |t| {
            let report = service::sweep::run_recorded(app, t, now, &Actor::System, false)?;
            let pruned = service::licenses::prune_heartbeats(t, now)?;
            let mail = match &app.mailer {
                Some(m) => service::outbox::deliver_due(t, app.clock.as_ref(), m)?.sent,
                None => 0,
            };
            summary.push(format!(
                "{name} (closed): {} examined, {} changed, {pruned} old heartbeats removed, {mail} emails sent",
                report.examined,
                report.transitions.len()
            ));
            Ok(())
        });
        if let Err(e) = visited {
            failures.push(format!("{name}: {}", e.report()));
            let later = now + Duration::seconds(300);
            if let Err(e) = app.tenants.postpone(&name, later) {
                failures.push(format!("{name}: {}", e.report()));
            }
        }
    }
    Ok((summary, failures))
}

fn open_tenants_sweep(app: &App) -> (Vec<String>, Vec<String>) {
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for t in app.tenants.all() {
        let now = app.clock.now();
        let every = Duration::seconds(i64::from(t.settings().sweep_interval_secs));
        let key = format!("licensing-sweep/{}", t.schema_name);
        if !app.jobs.due(&key, now, every) {
            continue;
        }
        app.jobs.mark_ran(&key, now);
        match service::sweep::run_recorded(app, &t, now, &Actor::System, false) {
            Ok(report) => {
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
            Err(e) => failures.push(format!("{}: {}", t.schema_name, e.report())),
        }
    }
    (summary, failures)
}

/// Runs, one after another, every job that is due at the clock's current time, and
/// returns their names. Runs never overlap: a second caller waits for the first.
pub fn run_due(app: &App) -> Vec<&'static str> {
    let _exclusive = app.jobs.exclusive();
    let mut ran = Vec::new();
    for Job { name, every, run } in JOBS {
        let now = app.clock.now();
        if !app.jobs.due(name, now, every()) {
            continue;
        }
        app.jobs.mark_ran(name, now);
        let outcome = match catch_unwind(AssertUnwindSafe(|| run(app))) {
            Ok(Ok(summary)) => {
                tracing::debug!(job = name, summary, "job ran");
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::error!(job = name, error = %e.report(), "job failed");
                Err(e.report().to_string())
            }
            Err(_) => {
                tracing::error!(job = name, "job panicked");
                Err("panicked (the log has the message)".to_owned())
            }
        };
        app.jobs
            .record(&app.metrics, name, app.clock.now(), outcome);
        ran.push(*name);
    }
    ran
}

/// Starts the scheduler task; it ends when `stop` turns true.
pub fn spawn(app: Arc<App>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(WAKE);
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
            if let Err(e) = tokio::task::spawn_blocking(move || run_due(&app)).await {
                tracing::error!(error = %e, "scheduler task failed");
            }
        }
        tracing::debug!("scheduler stopped");
    })
}
