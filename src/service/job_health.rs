//! The scheduled jobs' book: when each last ran (by the `Clock`, so tests drive it) and
//! how each is doing, so that a job that keeps failing shows in `/readyz` and in
//! `/metrics` instead of only in the log.

use crate::metrics::Metrics;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use utoipa::ToSchema;

/// One job's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobStatus {
    pub job: String,
    /// Whether its last run succeeded.
    pub ok: bool,
    pub last_run_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Since when it has been failing, while it fails.
    pub failing_since: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// The last failure's message, while it fails: for the log and staff, never served on
    /// the open `/readyz`.
    #[serde(skip)]
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct JobHealth {
    jobs: Mutex<BTreeMap<&'static str, JobStatus>>,
    /// When each job (or per-tenant part of one) last started, by the clock.
    last_started: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Held while jobs run, so two runs never overlap.
    running: Mutex<()>,
}

impl JobHealth {
    /// Whether `key` is due at `now`: never run, `every` has passed since it last
    /// started, or the clock went back past its last start.
    pub fn due(&self, key: &str, now: DateTime<Utc>, every: Duration) -> bool {
        let last = self.last_started.lock().unwrap_or_else(|p| p.into_inner());
        last.get(key)
            .is_none_or(|&at| at > now || now.signed_duration_since(at) >= every)
    }

    pub fn mark_ran(&self, key: &str, now: DateTime<Utc>) {
        self.last_started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned(), now);
    }

    /// Held by whoever runs jobs, so that runs never overlap.
    pub fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a run's outcome (`Err` holds the failure's message) and counts it in the
    /// metrics.
    pub fn record(
        &self,
        metrics: &Metrics,
        job: &'static str,
        now: DateTime<Utc>,
        outcome: Result<(), String>,
    ) {
        metrics.job_run(job, outcome.is_ok());
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let entry = jobs.entry(job).or_insert_with(|| JobStatus {
            job: job.to_owned(),
            ok: true,
            last_run_at: now,
            last_success_at: None,
            failing_since: None,
            consecutive_failures: 0,
            error: None,
        });
        entry.last_run_at = now;
        match outcome {
            Ok(()) => {
                entry.ok = true;
                entry.last_success_at = Some(now);
                entry.failing_since = None;
                entry.consecutive_failures = 0;
                entry.error = None;
            }
            Err(message) => {
                entry.ok = false;
                entry.failing_since.get_or_insert(now);
                entry.consecutive_failures = entry.consecutive_failures.saturating_add(1);
                entry.error = Some(message);
            }
        }
    }

    /// Every job that has run, by name.
    pub fn snapshot(&self) -> Vec<JobStatus> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.values().cloned().collect()
    }

    /// The jobs whose last run failed.
    pub fn failing(&self) -> Vec<JobStatus> {
        self.snapshot().into_iter().filter(|j| !j.ok).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_follows_the_clock() {
        let h = JobHealth::default();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let every = Duration::minutes(10);
        assert!(h.due("j", t, every));
        h.mark_ran("j", t);
        assert!(!h.due("j", t + Duration::minutes(9), every));
        assert!(h.due("j", t + Duration::minutes(10), every));
        assert!(
            h.due("j", t - Duration::seconds(1), every),
            "clock went back"
        );
    }

    #[test]
    fn failures_are_kept_until_a_run_succeeds() {
        let m = Metrics::new();
        let h = JobHealth::default();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        h.record(&m, "sweep", t, Err("boom".into()));
        h.record(
            &m,
            "sweep",
            t + chrono::Duration::seconds(5),
            Err("boom".into()),
        );
        let f = h.failing();
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].consecutive_failures, f[0].failing_since),
            (2, Some(t))
        );
        h.record(&m, "sweep", t + chrono::Duration::seconds(10), Ok(()));
        assert!(h.failing().is_empty());
        let text = m.encode().unwrap();
        assert!(text.contains("licd_job_runs_total{job=\"sweep\",outcome=\"failed\"} 2"));
        assert!(text.contains("licd_job_failing{job=\"sweep\"} 0"));
    }
}
