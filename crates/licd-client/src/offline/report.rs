//! True-up usage reports from a disconnected site.

use super::{OfflineError, sign};
use crate::formats::{
    ClockObservations, DailyPeak, Transfer, USAGE_REPORT_TYP, UsageReportClaims, UserCounts,
};
use crate::jose::chain_hash;
use crate::keys::ApplianceKey;
use crate::store::LeaseStore;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Writes the next usage report, signed by `key`: `report_seq` one more than the last,
/// `prev_report` the last one's chain hash, the period from the last report's end (or
/// the activation) to `now`, the daily peaks not yet reported and their maximum, the
/// lease chain head and the clock observations (rollbacks not yet reported). Returns
/// the file and a copy for people. The peaks and rollbacks reported are moved out of
/// the store, which is saved.
pub fn usage_report(
    store: &mut LeaseStore,
    key: &ApplianceKey,
    now: DateTime<Utc>,
) -> Result<(Transfer, String), OfflineError> {
    let state = store.state();
    let (Some(license_id), Some(install_id), Some(fingerprint)) =
        (&state.license_id, &state.install_id, &state.fingerprint)
    else {
        return Err(OfflineError::NotActivated);
    };
    let daily: Vec<DailyPeak> = state.daily_peaks.clone();
    let peak = daily.iter().fold(UserCounts::default(), |m, d| UserCounts {
        internal_users: m.internal_users.max(d.internal_users),
        external_users: m.external_users.max(d.external_users),
    });
    let reported = state.rollbacks_reported.min(state.rollbacks.len());
    let claims = UsageReportClaims {
        license_id: license_id.clone(),
        install_id: install_id.clone(),
        fingerprint: fingerprint.clone(),
        report_seq: state.report_seq.saturating_add(1),
        prev_report: state.last_report_hash.clone(),
        period_start: state.last_report_end.or(state.activated_at).unwrap_or(now),
        period_end: now,
        daily,
        peak,
        lease_head: state.chain_head(),
        clock: ClockObservations {
            server_time_high_water: state.server_time_high_water,
            rollbacks: state.rollbacks[reported..].to_vec(),
        },
        iat: now.timestamp(),
    };
    let token = sign(key, USAGE_REPORT_TYP, &claims)?;
    let before = store.state().clone();
    let state = store.state_mut();
    state.report_seq = claims.report_seq;
    state.last_report_hash = chain_hash(&token);
    state.last_report_end = Some(now);
    state.daily_peaks.clear();
    state.rollbacks_reported = state.rollbacks.len();
    if let Err(e) = store.save(now) {
        *store.state_mut() = before;
        return Err(e.into());
    }
    let summary = format!(
        "usage report {} for license {} from appliance {}",
        claims.report_seq, claims.license_id, claims.fingerprint
    );
    let text = human_text(&claims);
    Ok((Transfer::new("usage-report", &summary, vec![token]), text))
}

/// The report for people (the signed file is what licd reads).
fn human_text(c: &UsageReportClaims) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "licd usage report {}", c.report_seq);
    let _ = writeln!(t, "License:     {}", c.license_id);
    let _ = writeln!(t, "Install ID:  {}", c.install_id);
    let _ = writeln!(t, "Appliance:   {}", c.fingerprint);
    let _ = writeln!(
        t,
        "Period:      {} to {}",
        c.period_start.format("%Y-%m-%d %H:%M UTC"),
        c.period_end.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(
        t,
        "Peak users:  {} internal, {} external",
        c.peak.internal_users, c.peak.external_users
    );
    let _ = writeln!(t, "Lease chain: seq {}", c.lease_head.seq);
    let _ = writeln!(t);
    if c.daily.is_empty() {
        let _ = writeln!(t, "No user counts were recorded in the period.");
    } else {
        let _ = writeln!(t, "Day          Internal  External");
        for d in &c.daily {
            let _ = writeln!(
                t,
                "{:<12} {:>8}  {:>8}",
                d.date, d.internal_users, d.external_users
            );
        }
    }
    let _ = writeln!(t);
    if c.clock.rollbacks.is_empty() {
        let _ = writeln!(t, "Clock: no rollback seen.");
    } else {
        let _ = writeln!(t, "Clock rollbacks seen:");
        for r in &c.clock.rollbacks {
            let _ = writeln!(
                t,
                "  {}: behind by {} s ({})",
                r.detected_at.format("%Y-%m-%d %H:%M UTC"),
                r.by_secs,
                r.signal
            );
        }
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "Carry the .json file to your vendor's licd (license page, \"Air-gapped appliance\"); bring back the acknowledgement and import it."
    );
    t
}
