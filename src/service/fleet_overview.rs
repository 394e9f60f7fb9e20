//! The dashboard's view of the fleet: licenses by state, appliances gone silent and the
//! grace they have left, licenses about to expire, installations by violation stage,
//! the three series the charts draw, and licd's own license. Every figure comes from
//! the small aggregate tables or one index range (`store::fleet`), so the dashboard
//! costs the same with a million heartbeats as with ten.

use super::Result;
use super::enterprise;
use super::license_facts::StoredLicense;
use super::tenant::Tenant;
use crate::domain::lifecycle::LicenseState;
use crate::domain::timestamp;
use crate::domain::violation::{Condition, Stage};
use crate::store::fleet;
use crate::store::licenses::LicenseRow;
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;

/// How many silent appliances and expiring licenses the dashboard names.
pub const LISTED: usize = 10;
/// "Expiring soon" means within this many days.
pub const EXPIRING_WITHIN_DAYS: u32 = 30;
/// The heartbeat chart's hours (7 days).
pub const HEARTBEAT_HOURS: usize = 7 * 24;
/// The issued-licenses chart's weeks.
pub const ISSUED_WEEKS: usize = 12;
/// The active-appliances chart's days.
pub const ACTIVE_DAYS: usize = 30;
/// The heartbeat aggregates are kept at least this many days (the longest chart).
pub const KEPT_DAYS: u32 = ACTIVE_DAYS as u32;

/// An appliance that has not sent a heartbeat for longer than the heartbeat interval.
#[derive(Debug, Clone, Serialize)]
pub struct SilentAppliance {
    pub license_id: String,
    pub name: String,
    pub organization: String,
    pub install_id: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// How long it has been silent, in seconds.
    pub silent_secs: i64,
    /// Seconds left before its grace window ends (it locks at the next sweep after);
    /// zero or less when the window has ended.
    pub grace_left_secs: i64,
}

/// A live license whose expiry is near.
#[derive(Debug, Clone, Serialize)]
pub struct ExpiringLicense {
    pub license_id: String,
    pub name: String,
    pub organization: String,
    pub install_id: String,
    pub state: LicenseState,
    pub expires_at: DateTime<Utc>,
    /// Seconds until it expires.
    pub left_secs: i64,
}

/// The fleet at a moment (for staff who may read licenses).
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// Every state, in life-cycle order, with its count (0 included).
    pub states: Vec<(LicenseState, i64)>,
    pub licenses: i64,
    pub heartbeat_interval_secs: u32,
    pub grace_days: u32,
    pub silent_count: i64,
    /// The `LISTED` silent the longest (the least grace left first).
    pub silent: Vec<SilentAppliance>,
    pub expiring_count: i64,
    /// The `LISTED` that expire first.
    pub expiring: Vec<ExpiringLicense>,
    /// Every stage with its count (0 included).
    pub stages: Vec<(Stage, i64)>,
    /// Heartbeats answered per hour: `HEARTBEAT_HOURS` hours, the current one last.
    pub heartbeats_per_hour: Vec<(DateTime<Utc>, i64)>,
    /// Licenses issued per week (weeks start on Monday, UTC): `ISSUED_WEEKS`, the
    /// current one last.
    pub issued_per_week: Vec<(NaiveDate, i64)>,
    /// Appliances heard from per day (UTC): `ACTIVE_DAYS`, today last.
    pub appliances_per_day: Vec<(NaiveDate, i64)>,
}

fn days_before(d: NaiveDate, n: usize) -> NaiveDate {
    d.checked_sub_days(Days::new(n as u64))
        .unwrap_or(NaiveDate::MIN)
}

/// The buckets `keys`, each with the sum of the counts given for its index (counts for
/// an index past the end are dropped).
fn fill<K: Copy>(keys: Vec<K>, counts: &[(usize, i64)]) -> Vec<(K, i64)> {
    let mut out: Vec<(K, i64)> = keys.into_iter().map(|k| (k, 0)).collect();
    for &(i, n) in counts {
        if let Some(slot) = out.get_mut(i) {
            slot.1 += n;
        }
    }
    out
}

fn silent_view(l: LicenseRow, now: DateTime<Utc>, grace: Duration) -> SilentAppliance {
    let seen = l.last_seen_at.or(l.activated_at).unwrap_or(l.issued_at);
    SilentAppliance {
        silent_secs: (now - seen).num_seconds(),
        grace_left_secs: (timestamp::later(seen, grace) - now).num_seconds(),
        last_seen_at: l.last_seen_at,
        license_id: l.id,
        name: l.name,
        organization: l.organization,
        install_id: l.install_id,
    }
}

pub fn fleet(tenant: &Tenant, now: DateTime<Utc>) -> Result<Fleet> {
    let settings = tenant.settings();
    let interval = Duration::seconds(i64::from(settings.heartbeat_interval_secs));
    let grace = settings.grace();
    let today = now.date_naive();
    let this_hour = today
        .and_hms_opt(now.hour(), 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let first_hour = timestamp::earlier(this_hour, Duration::hours(HEARTBEAT_HOURS as i64 - 1));
    let monday = days_before(today, today.weekday().num_days_from_monday() as usize);
    let first_week = days_before(monday, 7 * (ISSUED_WEEKS - 1));
    let first_day = days_before(today, ACTIVE_DAYS - 1);
    let expiring_until = timestamp::later(now, timestamp::days(EXPIRING_WITHIN_DAYS));

    let silent = fleet::silent(&tenant.db, timestamp::earlier(now, interval), LISTED)?;
    let (states, stages, hours, issued, heard, expiring) = tenant.db.read(|tx| {
        Ok::<_, super::ServiceError>((
            fleet::license_states(tx)?,
            fleet::installation_stages(tx)?,
            fleet::heartbeat_hours(tx, first_hour)?,
            fleet::license_days(tx, first_week)?,
            fleet::appliance_days(tx, first_day)?,
            fleet::expiring(tx, now, expiring_until, LISTED)?,
        ))
    })?;

    let states: Vec<(LicenseState, i64)> = LicenseState::ALL
        .iter()
        .map(|s| {
            let n = states.iter().filter(|(k, _)| k == s).map(|(_, n)| n).sum();
            (*s, n)
        })
        .collect();
    let stages: Vec<(Stage, i64)> = Stage::ALL
        .iter()
        .map(|s| {
            let n = stages.iter().filter(|(k, _)| k == s).map(|(_, n)| n).sum();
            (*s, n)
        })
        .collect();
    let hour_keys = (0..HEARTBEAT_HOURS)
        .map(|i| timestamp::later(first_hour, Duration::hours(i as i64)))
        .collect();
    let hour_counts: Vec<(usize, i64)> = hours
        .into_iter()
        .filter_map(|(h, n)| {
            usize::try_from((h - first_hour).num_hours())
                .ok()
                .map(|i| (i, n))
        })
        .collect();
    let week_keys = (0..ISSUED_WEEKS)
        .map(|i| days_before(monday, 7 * (ISSUED_WEEKS - 1 - i)))
        .collect();
    let week_counts: Vec<(usize, i64)> = issued
        .into_iter()
        .filter_map(|(d, n)| {
            usize::try_from((d - first_week).num_days() / 7)
                .ok()
                .map(|i| (i, n))
        })
        .collect();
    let day_keys = (0..ACTIVE_DAYS)
        .map(|i| days_before(today, ACTIVE_DAYS - 1 - i))
        .collect();
    let day_counts: Vec<(usize, i64)> = heard
        .into_iter()
        .filter_map(|(d, n)| {
            usize::try_from((d - first_day).num_days())
                .ok()
                .map(|i| (i, n))
        })
        .collect();

    Ok(Fleet {
        licenses: states.iter().map(|(_, n)| n).sum(),
        states,
        heartbeat_interval_secs: settings.heartbeat_interval_secs,
        grace_days: settings.grace_days,
        silent_count: silent.0,
        silent: silent
            .1
            .into_iter()
            .map(|l| {
                // An appliance activated from a request file runs on its offline lease.
                let window = l.facts(grace).grace;
                silent_view(l, now, window)
            })
            .collect(),
        expiring_count: expiring.0,
        expiring: expiring
            .1
            .into_iter()
            .map(|l| ExpiringLicense {
                left_secs: (l.expires_at - now).num_seconds(),
                state: l.state,
                expires_at: l.expires_at,
                license_id: l.id,
                name: l.name,
                organization: l.organization,
                install_id: l.install_id,
            })
            .collect(),
        stages,
        heartbeats_per_hour: fill(hour_keys, &hour_counts),
        issued_per_week: fill(week_keys, &week_counts),
        appliances_per_day: fill(day_keys, &day_counts),
    })
}

/// licd's own license, in short (for staff who may manage settings).
#[derive(Debug, Clone, Serialize)]
pub struct OwnLicense {
    pub stage: Stage,
    pub condition: Condition,
    /// How many of licd's own licenses are installed.
    pub installed: usize,
    /// When the last valid one expires (capacity reaches zero), if any is valid.
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn own_license(tenant: &Tenant, now: DateTime<Utc>) -> Result<OwnLicense> {
    let o = enterprise::overview(tenant, now)?;
    Ok(OwnLicense {
        stage: o.assessment.stage,
        condition: o.assessment.condition,
        installed: o.licenses.len(),
        expires_at: o.assessment.capacity_ends_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_filled_with_zeros_and_out_of_range_counts_are_dropped() {
        let keys = vec!['a', 'b', 'c'];
        let filled = fill(keys, &[(0, 2), (2, 5), (2, 1), (7, 9)]);
        assert_eq!(filled, vec![('a', 2), ('b', 0), ('c', 6)]);
    }

    #[test]
    fn a_silent_appliance_has_the_grace_window_minus_its_silence_left() {
        let now = DateTime::parse_from_rfc3339("2026-06-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let seen = now - Duration::days(3);
        let row = LicenseRow {
            id: "L1".into(),
            name: "Plant 7".into(),
            install_id: "I1".into(),
            organization: "Acme".into(),
            internal_users: 1,
            external_users: 0,
            features: vec![],
            flags: vec![],
            not_before: seen,
            expires_at: now + Duration::days(300),
            issued_at: seen,
            kid: "k".into(),
            state: LicenseState::Active,
            suspend_reason: None,
            suspend_note: None,
            bound_fingerprint: Some("box".into()),
            activated_at: Some(seen),
            last_seen_at: Some(seen),
            subscription: crate::domain::lifecycle::Subscription {
                status: crate::domain::lifecycle::SubscriptionStatus::None,
                period_end: None,
            },
            revoked_at: None,
            revoke_reason: None,
            organization_id: None,
            offline_until: None,
            bundle_seq: 0,
            last_heartbeat_id: None,
        };
        let v = silent_view(row, now, Duration::days(14));
        assert_eq!(v.silent_secs, 3 * 86_400);
        assert_eq!(v.grace_left_secs, 11 * 86_400);
    }
}
