//! Installations (what an Install ID names): capacity summed over the licenses valid
//! now, latest usage from heartbeats, and the violation stage. The stored row keeps what
//! must survive (usage, when the violation began, the stage last announced); every
//! answer is assessed afresh from current licenses and counts. A heartbeat keeps the
//! stage with its lease for the next one to reuse while nothing it was assessed from
//! changes (`reassess` returns it, tenant schema step 19).

use super::license_facts::{self, contribution};
use super::tenant::Tenant;
use super::{Actor, Result, audit, refuse};
use crate::domain::lifecycle::LicenseState;
use crate::domain::violation::{
    Assessment, Banner, Condition, Contribution, History, Reusable, Stage, Usage, assess,
    steady_until,
};
use crate::domain::violation_outlook::{NextStage, next_stage};
use crate::error::ErrorCode;
use crate::store::id_set::IdSet;
use crate::store::installations::{self as store, EventRow, InstallationRow};
use crate::store::licenses::{self as license_store, Filter};
use crate::store::{ReadTx, WriteTx};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Most licenses one installation is assessed over.
const MAX_LICENSES: usize = 1000;

/// A license's part in its installation's capacity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContributionView {
    pub license_id: String,
    pub name: String,
    pub state: LicenseState,
    pub internal_users: u32,
    pub external_users: u32,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether its users count now (valid dates, not revoked or suspended).
    pub counts: bool,
}

/// The capacity inputs of an installation's licenses (lean: the heartbeat path).
fn contributions(
    tx: &ReadTx<'_>,
    tenant: &Tenant,
    install_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Contribution>> {
    Ok(license_store::capacity_rows(tx, install_id)?
        .iter()
        .map(|l| contribution(l, tenant, now))
        .collect())
}

fn blank(install_id: &str, now: DateTime<Utc>) -> InstallationRow {
    InstallationRow {
        install_id: install_id.to_owned(),
        usage: None,
        usage_at: None,
        condition: Condition::Unlicensed,
        violation_since: None,
        stage: Stage::None,
        updated_at: now,
    }
}

/// Re-assesses an installation inside `tx`, recording new usage, a started or cleared
/// violation, and stage changes (with an audit entry). Writes nothing when nothing changed.
/// Returns the stage as a heartbeat may reuse it, until time or something it was
/// assessed from changes (`Reusable`).
pub(super) fn reassess(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    install_id: &str,
    now: DateTime<Utc>,
    actor: &Actor,
    usage: Option<Usage>,
) -> Result<Reusable> {
    reassess_from(tx, tenant, install_id, now, actor, usage, None)
}

/// Re-assesses an installation from a usage report carried back from an air-gapped
/// box: `peak` becomes its usage, and a violation it shows is dated from the first
/// reported day whose peak exceeded the capacity of that day (not from when the report
/// arrived), so the stage is what it would have been had the box reported daily.
pub(super) fn reassess_reported(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    install_id: &str,
    now: DateTime<Utc>,
    actor: &Actor,
    peak: Usage,
    days: &[(DateTime<Utc>, Usage)],
) -> Result<Reusable> {
    let contribs = contributions(tx, tenant, install_id, now)?;
    let timeline = tenant.settings().timeline();
    let mut days: Vec<&(DateTime<Utc>, Usage)> = days.iter().filter(|(d, _)| *d <= now).collect();
    days.sort_by_key(|(d, _)| *d);
    let over_since = days
        .into_iter()
        .find(|(day, u)| {
            assess(&contribs, Some(*u), History::since(None), *day, &timeline).condition
                == Condition::OverLimit
        })
        .map(|(day, _)| *day);
    reassess_from(tx, tenant, install_id, now, actor, Some(peak), over_since)
}

/// `reassess`, with the moment a violation began when known from elsewhere (a usage
/// report) and none is recorded.
fn reassess_from(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    install_id: &str,
    now: DateTime<Utc>,
    actor: &Actor,
    usage: Option<Usage>,
    reported_since: Option<DateTime<Utc>>,
) -> Result<Reusable> {
    let before = store::find(tx, install_id)?;
    let mut row = before.clone().unwrap_or_else(|| blank(install_id, now));
    let mut changed = before.is_none();
    if let Some(u) = usage.filter(|u| row.usage != Some(*u)) {
        row.usage = Some(u);
        row.usage_at = Some(now);
        store::insert_event(tx, install_id, now, "usage", Some(u), None)?;
        changed = true;
    }
    let contribs = contributions(tx, tenant, install_id, now)?;
    let timeline = tenant.settings().timeline();
    let a = assess(
        &contribs,
        row.usage,
        History::since(row.violation_since.or(reported_since)),
        now,
        &timeline,
    );
    let reusable = Reusable {
        at: now,
        until: steady_until(&contribs, &a, &timeline, now),
        stage: a.stage,
        usage: row.usage,
    };
    let (condition, stage) = (a.condition, a.stage);
    if stage != row.stage || condition != row.condition {
        store::insert_event(tx, install_id, now, "stage", None, Some((stage, condition)))?;
        if stage != row.stage {
            audit::record(
                tx,
                now,
                actor,
                "installation.stage_change",
                &format!("installation:{install_id}"),
                json!({"from": row.stage, "to": stage, "condition": condition, "violation_since": a.violation_since}),
            )?;
        }
        changed = true;
    }
    if a.violation_since != row.violation_since {
        changed = true;
    }
    if changed {
        row.condition = condition;
        row.stage = stage;
        row.violation_since = a.violation_since;
        row.updated_at = now;
        store::upsert(tx, &row)?;
    }
    Ok(reusable)
}

/// The installations the sweep at `now` re-assesses: those time may have moved since the
/// last sweep, and `also` (those whose licenses it just changed); sorted, each once.
pub(super) fn due_for_sweep(
    tenant: &Tenant,
    now: DateTime<Utc>,
    also: impl IntoIterator<Item = String>,
) -> Result<IdSet> {
    let warning = tenant.settings().timeline().expiry_warning;
    let mut ids = tenant.db.read(|tx| {
        let from = store::last_sweep(tx)?
            .unwrap_or(now - Duration::days(1))
            .min(now);
        store::sweep_candidates(tx, from, now, warning)
    })?;
    for id in also {
        ids.push(&id);
    }
    Ok(ids.sorted())
}

/// Re-assesses `ids` at `now`, for one of the sweep's transactions; how many it
/// re-assessed. An installation changed after `now` (by a heartbeat between two of the
/// sweep's transactions) is newer than what the sweep would write: it is left as it is,
/// rather than moved back a stage. (One assessed after `now` without a change holds
/// what an assessment at `now` gives.)
pub(super) fn reassess_for_sweep(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    ids: &[String],
) -> Result<usize> {
    let mut assessed = 0;
    for id in ids {
        if store::find(tx, id)?.is_some_and(|row| row.updated_at > now) {
            continue;
        }
        reassess(tx, tenant, id, now, actor, None)?;
        assessed += 1;
    }
    Ok(assessed)
}

/// Records that the sweep at `now` re-assessed what time had moved (the next one starts
/// from there).
pub(super) fn swept(tx: &WriteTx<'_>, now: DateTime<Utc>) -> Result<()> {
    Ok(store::set_last_sweep(tx, now)?)
}

/// An installation as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstallationView {
    pub install_id: String,
    #[serde(flatten)]
    pub assessment: Assessment,
    /// Who sees a banner at this stage.
    pub banner: Banner,
    pub read_only: bool,
    pub usage: Option<Usage>,
    pub usage_at: Option<DateTime<Utc>>,
    /// The stage it reaches next if nothing changes, and when that stage begins.
    pub next_stage: Option<NextStage>,
    /// The organizations its licenses name (usually one), sorted.
    pub organizations: Vec<String>,
    /// What "expiry" means with several licenses: `capacity_drops_at` is the next
    /// moment a license stops counting; `capacity_ends_at` the moment the last one does.
    pub licenses: Vec<ContributionView>,
}

fn view(
    tx: &ReadTx<'_>,
    tenant: &Tenant,
    install_id: &str,
    now: DateTime<Utc>,
) -> Result<InstallationView> {
    let row = store::find(tx, install_id)?;
    let filter = Filter {
        install_id: Some(install_id.to_owned()),
        ..Default::default()
    };
    let rows = license_store::list(tx, &filter, MAX_LICENSES)?;
    let contribs: Vec<Contribution> = rows.iter().map(|l| contribution(l, tenant, now)).collect();
    if row.is_none() && rows.is_empty() {
        return Err(refuse(
            ErrorCode::NotFound,
            format!("no installation has the Install ID {install_id}"),
        ));
    }
    let row = row.unwrap_or_else(|| blank(install_id, now));
    let a = assess(
        &contribs,
        row.usage,
        History::since(row.violation_since),
        now,
        &tenant.settings().timeline(),
    );
    let mut organizations: Vec<String> = rows.iter().map(|l| l.organization.clone()).collect();
    organizations.sort();
    organizations.dedup();
    let next_stage = next_stage(&a, now, &tenant.settings().timeline());
    let licenses = rows
        .iter()
        .zip(&contribs)
        .map(|(l, c)| ContributionView {
            license_id: l.id.clone(),
            name: l.name.clone(),
            state: license_facts::settled(l, tenant, now).state,
            internal_users: l.internal_users,
            external_users: l.external_users,
            not_before: l.not_before,
            expires_at: l.expires_at,
            counts: c.valid_at(now),
        })
        .collect();
    Ok(InstallationView {
        install_id: install_id.to_owned(),
        banner: a.stage.banner(),
        read_only: a.stage == Stage::ReadOnly,
        assessment: a,
        usage: row.usage,
        usage_at: row.usage_at,
        next_stage,
        organizations,
        licenses,
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = InstallationPage)]
pub struct Page {
    pub items: Vec<InstallationView>,
    pub next_cursor: Option<String>,
}

/// Which installations to list (assessed at the request); fields combined with AND.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub condition: Option<Condition>,
    pub stage: Option<Stage>,
}

impl ListFilter {
    fn matches(&self, v: &InstallationView) -> bool {
        self.condition.is_none_or(|c| v.assessment.condition == c)
            && self.stage.is_none_or(|s| v.assessment.stage == s)
    }
}

/// Install IDs read from the store at a time while filtering.
const SCAN_BATCH: usize = 200;
/// Most Install IDs one filtered page looks at; past it, the page ends early with a
/// cursor to go on (so a rare condition never makes one request read the whole fleet).
const MAX_SCAN: usize = 5000;

/// Installations in Install ID order, assessed at `now`; with a filter, only those
/// whose current assessment matches (a page may then hold fewer than `limit` and still
/// have a `next_cursor`).
pub fn list(
    tenant: &Tenant,
    now: DateTime<Utc>,
    filter: ListFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page> {
    if !(1..=500).contains(&limit) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "limit: must be between 1 and 500",
        ));
    }
    tenant.db.read(|tx| {
        let mut items = Vec::new();
        let mut after = cursor.map(str::to_owned);
        let mut scanned = 0;
        loop {
            let batch = store::list_ids(tx, after.as_deref(), SCAN_BATCH)?;
            let exhausted = batch.len() < SCAN_BATCH;
            for id in batch {
                scanned += 1;
                let v = view(tx, tenant, &id, now)?;
                after = Some(id);
                if filter.matches(&v) {
                    items.push(v);
                    if items.len() == limit {
                        // More only if some Install ID follows this one.
                        let more = !store::list_ids(tx, after.as_deref(), 1)?.is_empty();
                        return Ok(Page {
                            next_cursor: if more { after } else { None },
                            items,
                        });
                    }
                }
            }
            if exhausted {
                return Ok(Page {
                    items,
                    next_cursor: None,
                });
            }
            if scanned >= MAX_SCAN {
                return Ok(Page {
                    items,
                    next_cursor: after,
                });
            }
        }
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstallationDetail {
    #[serde(flatten)]
    pub installation: InstallationView,
    /// Usage reports and stage changes, newest first.
    pub timeline: Vec<InstallationEventView>,
}

/// A usage report or a stage change of an installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = InstallationEvent)]
pub struct InstallationEventView {
    pub at: DateTime<Utc>,
    /// `usage` (a new usage report) or `stage` (a new stage or condition).
    pub kind: String,
    pub usage: Option<Usage>,
    pub stage: Option<Stage>,
    pub condition: Option<Condition>,
}

impl From<EventRow> for InstallationEventView {
    fn from(e: EventRow) -> Self {
        InstallationEventView {
            at: e.at,
            kind: e.kind,
            usage: e.usage,
            stage: e.stage,
            condition: e.condition,
        }
    }
}

pub fn detail(tenant: &Tenant, now: DateTime<Utc>, install_id: &str) -> Result<InstallationDetail> {
    tenant.db.read(|tx| {
        Ok(InstallationDetail {
            installation: view(tx, tenant, install_id, now)?,
            timeline: store::events(tx, install_id, 200)?
                .into_iter()
                .map(InstallationEventView::from)
                .collect(),
        })
    })
}

/// The installation's user counts over the `days` days up to `now`, one point per day
/// (see `domain::usage_history`): what the purchase and upgrade pages chart and forecast.
pub fn usage_history(
    tenant: &Tenant,
    now: DateTime<Utc>,
    install_id: &str,
    days: u32,
) -> Result<Vec<crate::domain::usage_history::DailyUsage>> {
    let since = (now - chrono::Duration::days(i64::from(days)))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |d| d.and_utc());
    let reports = tenant
        .db
        .read(|tx| crate::store::installations::usage_reports(tx, install_id, since))?;
    Ok(crate::domain::usage_history::daily(
        &reports,
        now.date_naive(),
        days,
    ))
}

/// An installation's usage history and where it is heading: what the purchase and
/// upgrade pages show so the owner buys the right number of users (seed 000).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UsageForecast {
    pub install_id: String,
    /// One point per day, at the day's peak (`domain::usage_history`).
    pub history: Vec<crate::domain::usage_history::DailyUsage>,
    /// Internal users 12 months ahead (`domain::forecast`: a linear fit over the last
    /// 90 days, never below today's count).
    pub internal_users: crate::domain::forecast::Forecast,
    pub external_users: crate::domain::forecast::Forecast,
}

/// The usage forecast of `install_id` at `now` from its last `days` days of history.
pub fn usage_forecast(
    tenant: &Tenant,
    now: DateTime<Utc>,
    install_id: &str,
    days: u32,
) -> Result<UsageForecast> {
    use crate::domain::forecast::forecast;
    let history = usage_history(tenant, now, install_id, days)?;
    let series = |f: fn(&crate::domain::usage_history::DailyUsage) -> u32| {
        history
            .iter()
            .map(|d| (d.day, i64::from(f(d))))
            .collect::<Vec<_>>()
    };
    let today = now.date_naive();
    Ok(UsageForecast {
        install_id: install_id.to_owned(),
        internal_users: forecast(&series(|d| d.internal_users), today),
        external_users: forecast(&series(|d| d.external_users), today),
        history,
    })
}
