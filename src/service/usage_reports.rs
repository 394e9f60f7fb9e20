//! True-up usage reports from air-gapped appliances: ingested once per (license, box,
//! `report_seq`) (a replay is answered `duplicate` and records nothing), gaps and chain
//! breaks flagged, the reported peak fed to the installation's assessment, and answered
//! with a signed acknowledgement plus, when due, a renewal or revocation bundle, so one
//! trip across the air gap carries both directions.

use super::licenses::load;
use super::offline_bundles::{renewal_in_tx, revocation_in_tx};
use super::tenant::Tenant;
use super::transfer_files::{self, check_names, stored_key, token_of};
use super::{Actor, Result, audit, installations, license_facts, refuse};
use crate::domain::license::{audience, check_fingerprint};
use crate::domain::lifecycle::LicenseState;
use crate::domain::violation::Usage;
use crate::error::ErrorCode;
use crate::pki::jws;
use crate::store::licenses::LicenseRow;
use crate::store::offline_activations::{self, OfflineActivationRow};
use crate::store::usage_reports::{self as store, UsageReportRow};
use crate::store::{ReadTx, license_keys};
use chrono::{DateTime, NaiveDate, Utc};
use licd_client::formats::{
    Transfer, USAGE_ACK_TYP, USAGE_REPORT_TYP, UsageAckClaims, UsageReportClaims,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Most daily peaks one report may carry (ten years).
const MAX_DAYS: usize = 3660;
/// Most missing report seqs an acknowledgement lists.
const MAX_MISSING: usize = 1000;

fn invalid(why: impl Into<String>) -> super::ServiceError {
    refuse(ErrorCode::TransferInvalid, why.into())
}

/// The report's daily peaks as (day start, usage), checked.
fn days(c: &UsageReportClaims) -> Result<Vec<(DateTime<Utc>, Usage)>> {
    if c.daily.len() > MAX_DAYS {
        return Err(invalid(format!(
            "daily: at most {MAX_DAYS} days in one report"
        )));
    }
    c.daily
        .iter()
        .map(|d| {
            let day = NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
                .map_err(|_| invalid(format!("daily: {:?} is not a date (YYYY-MM-DD)", d.date)))?;
            let start = day
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .ok_or_else(|| invalid(format!("daily: {:?} is not a date", d.date)))?;
            Ok((
                start,
                Usage {
                    internal_users: d.internal_users,
                    external_users: d.external_users,
                },
            ))
        })
        .collect()
}

/// Report seqs below `seq` that licd does not hold (at most `MAX_MISSING`).
fn missing(held: &[i64], seq: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut next = 1;
    for &h in held.iter().chain(std::iter::once(&seq)) {
        while next < h && out.len() < MAX_MISSING {
            out.push(next);
            next += 1;
        }
        next = next.max(h + 1);
    }
    out
}

/// Ingests a usage report and returns the answer file (acknowledgement, and a renewal
/// or revocation bundle when due).
pub fn ingest(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license_id: &str,
    file: &Transfer,
) -> Result<Transfer> {
    tenant.db.write(|tx| {
        let license = load(tx, license_id)?;
        let report = token_of::<UsageReportClaims>(file, USAGE_REPORT_TYP)?;
        let c = &report.claims;
        let fingerprint = check_fingerprint(&c.fingerprint)?;
        check_names(&license, &c.license_id, &c.install_id)?;
        if c.report_seq < 1 {
            return Err(invalid("report_seq: must be 1 or more"));
        }
        if c.period_end < c.period_start {
            return Err(invalid("period_end: must not be before period_start"));
        }
        let days = days(c)?;
        let offline = offline_activations::latest_for_box(tx, &license.id, &fingerprint)?
            .ok_or_else(|| {
                refuse(
                    ErrorCode::OfflineActivationUnknown,
                    format!(
                        "no appliance {fingerprint} was activated offline for license {}",
                        license.id
                    ),
                )
            })?;
        report.verify_with(
            &stored_key(&offline.appliance_key)?,
            "the appliance key recorded at its offline activation",
        )?;
        let hash = jws::chain_hash(report.token);
        if let Some(held) = store::find(tx, &license.id, &fingerprint, c.report_seq)? {
            // Recorded before: the same answer, nothing recorded twice.
            let ack = ack(tenant, now, &license, &held, "duplicate")?;
            let summary = format!(
                "usage report {} of {fingerprint} was recorded before; nothing changed",
                c.report_seq
            );
            return Ok(Transfer::new("usage-ack", &summary, vec![ack]));
        }
        let row = UsageReportRow {
            license_id: license.id.clone(),
            fingerprint: fingerprint.clone(),
            report_seq: c.report_seq,
            report_hash: hash,
            prev_report: c.prev_report.clone(),
            period_start: c.period_start,
            period_end: c.period_end,
            peak_internal: c.peak.internal_users,
            peak_external: c.peak.external_users,
            daily: serde_json::to_string(&c.daily).unwrap_or_else(|_| "[]".into()),
            rollbacks: serde_json::to_string(&c.clock.rollbacks).unwrap_or_else(|_| "[]".into()),
            missing_seqs: missing(
                &store::seqs_below(tx, &license.id, &fingerprint, c.report_seq)?,
                c.report_seq,
            ),
            chain_break: chain_break(tx, &license, &fingerprint, c)?,
            received_at: now,
            received_by: actor.audit_name(),
        };
        store::insert(tx, &row)?;
        audit::record(
            tx,
            now,
            actor,
            "license.usage_report",
            &format!("license:{}", license.id),
            json!({
                "fingerprint": fingerprint, "report_seq": row.report_seq,
                "peak_internal_users": row.peak_internal, "peak_external_users": row.peak_external,
                "missing_seqs": row.missing_seqs.len(), "chain_break": row.chain_break,
                "rollbacks": c.clock.rollbacks.len(),
            }),
        )?;
        // A report without a single count says nothing about usage (the product was
        // not asked in its period): it is recorded, and the assessment stays as it was.
        if !days.is_empty() {
            installations::reassess_reported(
                tx,
                tenant,
                &license.install_id,
                now,
                actor,
                Usage {
                    internal_users: c.peak.internal_users,
                    external_users: c.peak.external_users,
                },
                &days,
            )?;
        }
        let mut tokens = vec![ack(tenant, now, &license, &row, "recorded")?];
        let mut said = vec![format!(
            "usage report {} of {fingerprint} recorded",
            row.report_seq
        )];
        if license.revoked_at.is_some() {
            tokens.push(revocation_in_tx(tx, tenant, now, actor, &license)?.0);
            said.push("the license is revoked: a revocation bundle is enclosed".into());
        } else if renewal_due(
            tenant,
            now,
            &license,
            &license_keys::current(tx, &license.id)?,
            &offline,
        ) {
            tokens.push(renewal_in_tx(tx, tenant, now, actor, &license)?.0);
            said.push("a renewal bundle is enclosed".into());
        }
        Ok(Transfer::new("usage-ack", &said.join("; "), tokens))
    })
}

/// Whether `prev_report` does not match the report licd holds before this one (the
/// first report names none). Unknown when the one before is missing (a gap says so).
fn chain_break(
    tx: &ReadTx<'_>,
    license: &LicenseRow,
    fingerprint: &str,
    c: &UsageReportClaims,
) -> Result<bool> {
    if c.report_seq == 1 {
        return Ok(!c.prev_report.is_empty());
    }
    Ok(store::find(tx, &license.id, fingerprint, c.report_seq - 1)?
        .is_some_and(|before| before.report_hash != c.prev_report))
}

/// A renewal goes back with the acknowledgement when the box still holds the license
/// and its key was renewed since the box got it, or its lease ends within a third of
/// the offline lease window.
fn renewal_due(
    tenant: &Tenant,
    now: DateTime<Utc>,
    license: &LicenseRow,
    license_key: &str,
    offline: &OfflineActivationRow,
) -> bool {
    let state = license_facts::settled(license, tenant, now).state;
    if !offline.current
        || offline.released_at.is_some()
        || matches!(state, LicenseState::Revoked | LicenseState::Expired)
    {
        return false;
    }
    let window = tenant.settings().offline_lease();
    offline.license_key != license_key || offline.lease_expires_at - now < window / 3
}

fn ack(
    tenant: &Tenant,
    now: DateTime<Utc>,
    license: &LicenseRow,
    row: &UsageReportRow,
    outcome: &str,
) -> Result<String> {
    let claims = UsageAckClaims {
        iss: tenant.issuer(),
        sub: license.id.clone(),
        aud: audience(&license.install_id),
        iat: now.timestamp(),
        license_id: license.id.clone(),
        fingerprint: row.fingerprint.clone(),
        report_seq: row.report_seq,
        report_hash: row.report_hash.clone(),
        outcome: outcome.into(),
        missing_seqs: row.missing_seqs.clone(),
        chain_break: row.chain_break,
    };
    transfer_files::sign(tenant, USAGE_ACK_TYP, &claims)
}

/// A usage report as the API and the license page show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageReportView {
    pub fingerprint: String,
    pub report_seq: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub peak_internal_users: u32,
    pub peak_external_users: u32,
    /// How many daily peaks it carried.
    pub days: usize,
    /// How many clock rollbacks the appliance saw in the period.
    pub rollbacks: usize,
    /// Report seqs below this one licd had not received when it arrived.
    pub missing_seqs: Vec<i64>,
    /// Whether it did not chain to the report licd holds before it.
    pub chain_break: bool,
    pub received_at: DateTime<Utc>,
    pub received_by: String,
}

impl From<UsageReportRow> for UsageReportView {
    fn from(r: UsageReportRow) -> Self {
        let count = |s: &str| {
            serde_json::from_str::<Vec<serde_json::Value>>(s)
                .map(|v| v.len())
                .unwrap_or(0)
        };
        UsageReportView {
            days: count(&r.daily),
            rollbacks: count(&r.rollbacks),
            fingerprint: r.fingerprint,
            report_seq: r.report_seq,
            period_start: r.period_start,
            period_end: r.period_end,
            peak_internal_users: r.peak_internal,
            peak_external_users: r.peak_external,
            missing_seqs: r.missing_seqs,
            chain_break: r.chain_break,
            received_at: r.received_at,
            received_by: r.received_by,
        }
    }
}

/// Most reports a list shows.
pub const MAX_LIST: usize = 200;

/// A license's usage reports, newest first.
pub fn list(tenant: &Tenant, license_id: &str) -> Result<Vec<UsageReportView>> {
    tenant.db.read(|tx| {
        load(tx, license_id)?;
        Ok(store::for_license(tx, license_id, MAX_LIST)?
            .into_iter()
            .map(UsageReportView::from)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn gaps_are_the_seqs_not_held_below() {
        assert_eq!(missing(&[], 1), Vec::<i64>::new());
        assert_eq!(missing(&[1], 2), Vec::<i64>::new());
        assert_eq!(missing(&[1], 4), vec![2, 3]);
        assert_eq!(missing(&[2, 5], 7), vec![1, 3, 4, 6]);
        assert_eq!(missing(&[], 5_000_000).len(), super::MAX_MISSING);
    }
}
