//! The fleet health sweep: applies what time alone changes (expiry, lapsed grace,
//! subscription status) to every license that may need it, re-assesses installations,
//! and writes the organizations' license notices that are due (`org_notifications`).
//! Idempotent: a second run at the same instant finds nothing to do and writes nothing.

use super::license_facts::{self, StoredLicense};
use super::licenses::apply_event;
use super::org_notifications::{self, Sender};
use super::tenant::Tenant;
use super::{Actor, App, Result};
use crate::domain::lifecycle::{Event, LicenseState};
use crate::domain::timestamp;
use crate::store::licenses as store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Transition {
    pub license_id: String,
    pub from: LicenseState,
    pub to: LicenseState,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SweepReport {
    pub dry_run: bool,
    pub at: DateTime<Utc>,
    /// Licenses the sweep looked at (those time may have changed).
    pub examined: usize,
    pub transitions: Vec<Transition>,
    /// Transitions by target state.
    pub counts: BTreeMap<String, usize>,
    /// Installations re-assessed (stage changes are audited as `installation.stage_change`;
    /// a dry run does not assess them).
    pub installations_assessed: usize,
    /// License notices written to organizations' outboxes by this run (expiring,
    /// expired, an installation entering a violation stage; none in a dry run).
    pub notices_written: usize,
}

/// `run`, timed and counted in the metrics (what the scheduler and staff call).
pub fn run_recorded(
    app: &super::App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    dry_run: bool,
) -> Result<SweepReport> {
    let started = crate::metrics::Stopwatch::start();
    if !dry_run {
        // Billing first: a subscription that lapses now suspends its license in this run.
        let billed = super::subscription_billing::run_due(app, tenant, now)?;
        if !billed.is_empty() {
            tracing::info!(tenant = %tenant.schema_name, ?billed, "billing cycle");
        }
    }
    let report = run(app, tenant, now, actor, dry_run);
    app.metrics.sweep(&tenant.schema_name, started.elapsed());
    report
}

pub fn run(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    dry_run: bool,
) -> Result<SweepReport> {
    let grace = tenant.settings().grace();
    let sender = Sender::of(app, tenant)?;
    let plan = |candidates: &[store::LicenseRow]| -> Vec<Transition> {
        candidates
            .iter()
            .filter_map(|l| {
                let before = l.status();
                let after = license_facts::settled(l, tenant, now);
                (after != before).then(|| Transition {
                    license_id: l.id.clone(),
                    from: before.state,
                    to: after.state,
                })
            })
            .collect()
    };
    let (examined, transitions, installations, notices) = if dry_run {
        let candidates = tenant
            .db
            .read(|tx| store::sweep_candidates(tx, now, timestamp::earlier(now, grace)))?;
        (candidates.len(), plan(&candidates), 0, 0)
    } else {
        tenant.db.write(|tx| {
            let candidates = store::sweep_candidates(tx, now, timestamp::earlier(now, grace))?;
            let transitions = plan(&candidates);
            let moving: HashSet<&str> = transitions.iter().map(|t| t.license_id.as_str()).collect();
            let mut touched = Vec::new();
            for l in candidates.iter().filter(|l| moving.contains(l.id.as_str())) {
                apply_event(tx, tenant, now, actor, l, &Event::Sweep, None)?;
                touched.push(l.install_id.clone());
            }
            let installations = super::installations::sweep(tx, tenant, now, actor, &touched)?;
            let notices = org_notifications::expiries(tx, tenant, now, &sender)?
                + org_notifications::installation_stages(tx, tenant, now, &sender)?;
            Ok::<_, super::ServiceError>((candidates.len(), transitions, installations, notices))
        })?
    };
    if !dry_run {
        super::enterprise::refresh(tenant, now, actor)?;
    }
    let mut counts = BTreeMap::new();
    for t in &transitions {
        *counts.entry(t.to.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(SweepReport {
        installations_assessed: installations,
        notices_written: notices,
        dry_run,
        at: now,
        examined,
        transitions,
        counts,
    })
}
