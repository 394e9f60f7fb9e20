//! When the health sweep next has work in one tenant's database: the earliest instant
//! at which time alone changes something the sweep looks at (the same conditions as
//! `licenses::sweep_candidates` and `installations::sweep_candidates`, and the moments an
//! organization's license notice falls due). A closed tenant is opened for its sweep at
//! that instant, not before.

use super::{ReadTx, Result, parse_ts, ts};
use crate::domain::violation::Timeline;
use chrono::{DateTime, Duration, Utc};

/// What the sweep has ahead in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepDue {
    /// Something is in a state the sweep re-examines on every run (a license whose
    /// subscription lapsed, an active one never seen): due every sweep interval.
    pub every_run: bool,
    /// The earliest future instant a dated condition starts to hold (an expiry, the
    /// start of an expiry warning, a license becoming valid, an offline grace running
    /// out, an installation in violation reaching its next stage); `None` if there is
    /// none.
    pub next_at: Option<DateTime<Utc>>,
}

/// `grace` is the tenant's offline grace; `timeline` its violation stages and expiry
/// warning.
pub fn sweep_due(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    grace: Duration,
    timeline: &Timeline,
) -> Result<SweepDue> {
    let warning = timeline.expiry_warning;
    let every_run: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM licenses WHERE subscription_status IN ('past_due', 'canceled')
                        AND state IN ('issued', 'active', 'locked'))
             OR EXISTS (SELECT 1 FROM licenses WHERE state = 'suspended' AND suspend_reason = 'subscription')
             OR EXISTS (SELECT 1 FROM licenses WHERE state = 'active' AND last_seen_at IS NULL)",
        [],
        |r| r.get(0),
    )?;
    let now_ts = ts(now);
    let min_after = |sql: &str, after: &str| -> Result<Option<DateTime<Utc>>> {
        let v: Option<String> = tx.query_row(sql, [after], |r| r.get(0))?;
        v.map(|s| parse_ts("sweep_due", &s)).transpose()
    };
    let mut next: Vec<DateTime<Utc>> = Vec::new();
    // Expiry (of a license still in force) and the start of a license's validity; also
    // the installation's stage when a license starts or ends.
    next.extend(min_after(
        "SELECT min(expires_at) FROM licenses WHERE expires_at > ?1",
        &now_ts,
    )?);
    next.extend(min_after(
        "SELECT min(not_before) FROM licenses WHERE not_before > ?1",
        &now_ts,
    )?);
    // The expiry warning starts `warning` before the end.
    let warned_from = ts(crate::domain::timestamp::later(now, warning));
    if let Some(end) = min_after(
        "SELECT min(expires_at) FROM licenses WHERE expires_at > ?1",
        &warned_from,
    )? {
        next.push(crate::domain::timestamp::earlier(end, warning));
    }
    // An organization's license reaches a notice window (`license_notices`: 30 and 7
    // days before its expiry); its expiry and the "expired" notice are covered above.
    for days in crate::domain::license_notices::EXPIRY_NOTICE_DAYS {
        let window = Duration::days(days);
        if let Some(end) = min_after(
            "SELECT min(expires_at) FROM licenses WHERE organization_id IS NOT NULL
               AND state NOT IN ('revoked', 'expired') AND expires_at > ?1",
            &ts(crate::domain::timestamp::later(now, window)),
        )? {
            next.push(crate::domain::timestamp::earlier(end, window));
        }
    }
    // An active license not seen for longer than the grace.
    if let Some(seen) = min_after(
        "SELECT min(last_seen_at) FROM licenses WHERE state = 'active' AND last_seen_at >= ?1",
        &ts(crate::domain::timestamp::earlier(now, grace)),
    )? {
        next.push(crate::domain::timestamp::later(seen, grace));
    }
    // An installation in violation moves to its next stage when the stage's time since
    // the violation began has passed (its stage depends on nothing else that changes
    // while the tenant is closed).
    for after in [
        timeline.admin_warning_after,
        timeline.users_warning_after,
        timeline.read_only_after,
    ] {
        if let Some(since) = min_after(
            "SELECT min(violation_since) FROM installations WHERE violation_since > ?1",
            &ts(crate::domain::timestamp::earlier(now, after)),
        )? {
            next.push(crate::domain::timestamp::later(since, after));
        }
    }
    // Overdue now (a run was missed): due at once.
    let overdue: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM licenses WHERE state NOT IN ('revoked', 'expired') AND expires_at <= ?1)
             OR EXISTS (SELECT 1 FROM licenses WHERE state = 'active' AND last_seen_at < ?2)",
        [&now_ts, &ts(crate::domain::timestamp::earlier(now, grace))],
        |r| r.get(0),
    )?;
    if overdue {
        next.push(now);
    }
    Ok(SweepDue {
        every_run,
        next_at: next.into_iter().min(),
    })
}
