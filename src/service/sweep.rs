//! The fleet health sweep: applies what time alone changes (expiry, lapsed grace,
//! subscription status) to every license that may need it, re-assesses installations,
//! and writes the organizations' license notices that are due (`org_notifications`).
//! Idempotent: a second run at the same instant finds nothing to do and writes nothing.
//!
//! It writes in batches of `BATCH` licenses or installations, each a job of the group
//! commit (`Db::write_grouped`), so heartbeats queued meanwhile commit between them. One
//! transaction for everything held the writer 4.8 s when a million installations were
//! due at once (a restore, a fleet whose licenses start or end together), with every
//! heartbeat waiting. A sweep that fails part way keeps the batches before; the next one
//! does the rest, as the instant it starts from (`installations::swept`) is recorded last
//! (with the notices, also a group job).

use super::license_facts::{self, StoredLicense};
use super::licenses::apply_event;
use super::org_notifications::{self, Sender};
use super::tenant::Tenant;
use super::{Actor, App, Result, installations};
use crate::domain::lifecycle::{Event, LicenseState};
use crate::domain::timestamp;
use crate::store::WriteTx;
use crate::store::licenses::{self as store, LicenseRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// Licenses settled, or installations re-assessed, in one write transaction at most:
/// about a millisecond of the writer (re-assessing takes about 4.8 µs an installation
/// with a million of them).
const BATCH: usize = 250;

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
    tenant: &Arc<Tenant>,
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
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    actor: &Actor,
    dry_run: bool,
) -> Result<SweepReport> {
    let seen_before = timestamp::earlier(now, tenant.settings().grace());
    let sender = Sender::of(app, tenant)?;
    let (examined, transitions, installations, notices) = if dry_run {
        let candidates = tenant
            .db
            .read(|tx| store::sweep_candidates(tx, now, seen_before))?;
        let transitions: Vec<Transition> = candidates
            .iter()
            .filter_map(|l| transition(l, tenant, now))
            .collect();
        (candidates.len(), transitions, 0, 0)
    } else {
        let candidates = tenant
            .db
            .read(|tx| store::sweep_candidate_ids(tx, now, seen_before))?;
        let mut transitions = Vec::new();
        for batch in candidates.batches(BATCH) {
            let (t, actor) = (tenant.clone(), actor.clone());
            transitions.extend(
                tenant
                    .db
                    .write_grouped(move |tx| settle(tx, &t, now, &actor, &batch))?,
            );
        }
        let touched = transitions.iter().map(|t| t.install_id.clone());
        let due = installations::due_for_sweep(tenant, now, touched)?;
        let mut assessed = 0;
        for batch in due.batches(BATCH) {
            let (t, actor) = (tenant.clone(), actor.clone());
            assessed += tenant.db.write_grouped(move |tx| {
                installations::reassess_for_sweep(tx, &t, now, &actor, &batch)
            })?;
        }
        let t = tenant.clone();
        let notices = tenant.db.write_grouped(move |tx| {
            installations::swept(tx, now)?;
            Ok::<_, super::ServiceError>(
                org_notifications::expiries(tx, &t, now, &sender)?
                    + org_notifications::installation_stages(tx, &t, now, &sender)?,
            )
        })?;
        let transitions = transitions.into_iter().map(|t| t.transition).collect();
        (candidates.len(), transitions, assessed, notices)
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

/// What time alone does to the license at `now`, if anything.
fn transition(l: &LicenseRow, tenant: &Tenant, now: DateTime<Utc>) -> Option<Transition> {
    let before = l.status();
    let after = license_facts::settled(l, tenant, now);
    (after != before).then(|| Transition {
        license_id: l.id.clone(),
        from: before.state,
        to: after.state,
    })
}

/// A transition the sweep made, with the installation whose capacity it changed.
struct Settled {
    transition: Transition,
    install_id: String,
}

/// Applies what time alone changes to the licenses `ids`, each read again here: one a
/// heartbeat or a person changed since the candidates were read is settled as it is now.
/// The installations whose capacity changed are re-assessed in the same transaction, so
/// no license is left changed with its installation not (should licd stop before the
/// next batch); they are re-assessed again with the others, which changes nothing.
fn settle(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    ids: &[String],
) -> Result<Vec<Settled>> {
    let mut settled = Vec::new();
    for id in ids {
        let Some(l) = store::find(tx, id)? else {
            continue;
        };
        if let Some(transition) = transition(&l, tenant, now) {
            apply_event(tx, tenant, now, actor, &l, &Event::Sweep, None)?;
            settled.push(Settled {
                transition,
                install_id: l.install_id,
            });
        }
    }
    let mut touched: Vec<String> = settled.iter().map(|s| s.install_id.clone()).collect();
    touched.sort();
    touched.dedup();
    installations::reassess_for_sweep(tx, tenant, now, actor, &touched)?;
    Ok(settled)
}
