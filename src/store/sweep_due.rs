//! When the health sweep next has work in one tenant's database: the earliest instant
//! at which time alone changes something the sweep looks at (the same conditions as
//! `licenses::sweep_candidates` and `installations::sweep_candidates`, and the moments an
//! organization's license notice falls due). A closed tenant is opened for its sweep at
//! that instant, not before.

use super::licenses::SEEN_MARK_LAG;
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
             OR EXISTS (SELECT 1 FROM licenses INDEXED BY licenses_active_seen
                        WHERE state = 'active' AND last_seen_mark IS NULL)",
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
            "SELECT min(expires_at) FROM licenses INDEXED BY licenses_organization_live_expiry
               WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired')
               AND expires_at > ?1",
            &ts(crate::domain::timestamp::later(now, window)),
        )? {
            next.push(crate::domain::timestamp::earlier(end, window));
        }
    }
    // An active license not seen for longer than the grace. The index holds marks, each
    // up to `SEEN_MARK_LAG` older than its license's last heartbeat; those marked more
    // than the lag before the limit are overdue (below). So this is the earliest mark
    // after that, plus the lag: the sweep that locks an appliance past its grace runs
    // within the lag of it (the sweep compares the exact instants, so it never locks
    // one early).
    let since = crate::domain::timestamp::earlier(now, grace);
    if let Some(mark) = min_after(
        "SELECT min(last_seen_mark) FROM licenses INDEXED BY licenses_active_seen
           WHERE state = 'active' AND last_seen_mark >= ?1",
        &ts(since - SEEN_MARK_LAG),
    )? {
        next.push(crate::domain::timestamp::later(mark + SEEN_MARK_LAG, grace));
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
             OR EXISTS (SELECT 1 FROM licenses INDEXED BY licenses_active_seen
                        WHERE state = 'active' AND last_seen_mark < ?3)
             OR EXISTS (SELECT 1 FROM licenses l INDEXED BY licenses_active_seen
                        CROSS JOIN heartbeat_state h ON h.license_id = l.id
                        WHERE l.state = 'active' AND l.last_seen_mark >= ?3
                          AND l.last_seen_mark < ?2 AND h.last_seen_at < ?2)",
        [&now_ts, &ts(since), &ts(since - SEEN_MARK_LAG)],
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

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::super::{StoreError, installations, licenses};
    use super::*;
    use chrono::TimeZone;
    use rusqlite::params;

    const ISSUED: &str = "2026-01-01T00:00:00.000000Z";
    const EXPIRES: &str = "2028-01-01T00:00:00.000000Z";
    /// Far from expiry too, but before `EXPIRES`.
    const SOONER: &str = "2027-01-01T00:00:00.000000Z";

    /// Adds `n` active licenses numbered from `from`, each with its installation, all
    /// heard from at `seen`, far from expiry (at `expires`) and of `organization` (or of
    /// none): a fleet the sweep has nothing to do for.
    fn add_fleet(
        db: &Db,
        from: usize,
        n: usize,
        seen: DateTime<Utc>,
        expires: &str,
        organization: Option<i64>,
    ) {
        db.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO signing_keys (kid, status, public_jwk, sealed_private, created_at)
                 VALUES ('k1', 'active', '{}', x'00', ?1)",
                [ISSUED],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO organizations (id, name, notification_email, created_at, updated_at)
                 VALUES (1, 'Org', 'org@example.com', ?1, ?1)",
                [ISSUED],
            )?;
            tx.execute(
                "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
                 INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
                     expires_at, issued_at, kid, state, activated_at, last_seen_mark, updated_at, organization_id)
                 SELECT 'lic-' || i, 'n', 'inst-' || i, 10, 2, ?3, ?4, ?3, 'k1', 'active', ?3, ?5, ?3, ?6
                 FROM n",
                params![from as i64, n as i64, ISSUED, expires, ts(seen), organization],
            )?;
            tx.execute(
                "INSERT INTO heartbeat_state (license_id, last_seen_at)
                 SELECT id, ?1 FROM licenses WHERE id NOT IN (SELECT license_id FROM heartbeat_state)",
                [ts(seen)],
            )?;
            tx.execute(
                "INSERT INTO installations (install_id, condition, stage, updated_at)
                 SELECT install_id, 'compliant', 'none', ?1 FROM licenses
                 WHERE install_id NOT IN (SELECT install_id FROM installations)",
                [ISSUED],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// The mark of a license (`last_seen_mark`) as stored.
    fn mark(db: &Db, id: &str) -> Option<DateTime<Utc>> {
        db.read(|tx| {
            let v: Option<String> = tx.query_row(
                "SELECT last_seen_mark FROM licenses WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            Ok::<_, StoreError>(v.map(|v| parse_ts("mark", &v).unwrap()))
        })
        .unwrap()
    }

    fn heard(db: &Db, id: &str, at: DateTime<Utc>) {
        db.write(|tx| licenses::heard(tx, id, at, 1)).unwrap();
    }

    /// A heartbeat moves its license's mark only once the mark is a lag old or of
    /// another day; the exact instant is kept on every heartbeat.
    #[test]
    fn a_heartbeat_moves_the_mark_once_a_minute_or_on_a_new_day() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 23, 57, 0).unwrap();
        let s = Duration::seconds;
        add_fleet(&db, 0, 1, t, EXPIRES, None);
        heard(&db, "lic-0", t + s(59));
        assert_eq!(mark(&db, "lic-0"), Some(t));
        heard(&db, "lic-0", t + s(60));
        assert_eq!(mark(&db, "lic-0"), Some(t + s(60)));
        heard(&db, "lic-0", t + s(110));
        assert_eq!(mark(&db, "lic-0"), Some(t + s(60)));
        heard(&db, "lic-0", t + s(170));
        assert_eq!(mark(&db, "lic-0"), Some(t + s(170)), "23:59:50");
        heard(&db, "lic-0", t + s(185));
        assert_eq!(
            mark(&db, "lic-0"),
            Some(t + s(185)),
            "00:00:05, 15 s on, a new day"
        );
        let last = db.read(|tx| licenses::find(tx, "lic-0")).unwrap().unwrap();
        assert_eq!(last.last_seen_at, Some(t + s(185)));
        assert_eq!(last.last_heartbeat_id, Some(1));
        // A clock set back: the mark is never later than the instant.
        heard(&db, "lic-0", t + s(100));
        assert_eq!(mark(&db, "lic-0"), Some(t + s(100)));
    }

    /// The index holds marks, each up to a lag older than its license's last
    /// heartbeat (tenant step 17); the decisions take the exact instant. Around a
    /// limit, those heard from before it are found and those heard from after it are
    /// not, by the sweep and the dashboard alike; when the sweep is next due is late by
    /// at most the lag, never early.
    #[test]
    fn marks_find_the_appliances_heard_from_before_a_limit_by_their_instant() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
        let s = Duration::seconds;
        add_fleet(&db, 0, 1, t - s(40), EXPIRES, None);
        heard(&db, "lic-0", t + s(10));
        add_fleet(&db, 1, 1, t + s(20), EXPIRES, None);
        heard(&db, "lic-1", t + s(50));
        add_fleet(&db, 2, 1, t - s(30), EXPIRES, None);
        add_fleet(&db, 3, 1, t - s(100), EXPIRES, None);
        let limit = t + s(30);
        assert_eq!(mark(&db, "lic-0"), Some(t - s(40)));
        assert_eq!(mark(&db, "lic-1"), Some(t + s(20)));
        let grace = Duration::days(14);
        let now = limit + grace;
        db.read(|tx| {
            let mut ids: Vec<String> = licenses::sweep_candidate_ids(tx, now, limit)?
                .iter()
                .map(str::to_owned)
                .collect();
            ids.sort();
            assert_eq!(ids, ["lic-0", "lic-2", "lic-3"]);
            let (count, listed) = super::super::fleet::silent(tx, limit, 10)?;
            assert_eq!(count, 3);
            let listed: Vec<(&str, Option<DateTime<Utc>>)> = listed
                .iter()
                .map(|l| (l.id.as_str(), l.last_seen_at))
                .collect();
            assert_eq!(
                listed,
                [
                    ("lic-3", Some(t - s(100))),
                    ("lic-2", Some(t - s(30))),
                    ("lic-0", Some(t + s(10)))
                ],
                "longest silent first, with their instants"
            );
            // Before any grace runs out: due a lag after lic-3's grace ends.
            let due = sweep_due(tx, t - s(200) + grace, grace, &Timeline::default())?;
            assert_eq!(due.next_at, Some(t - s(40) + grace));
            // Once one has run out: due at once.
            let due = sweep_due(tx, now, grace, &Timeline::default())?;
            assert_eq!(due.next_at, Some(now));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// A sweep with nothing to do reads index ranges only: twenty times the licenses
    /// cost it no more work. It used to walk every active license (through
    /// `licenses_state`) and every installation (in key order), on the writer: 0.9 s
    /// with a million licenses, every sweep interval, while heartbeats waited. So did
    /// `sweep_due` (on a reader, as a tenant closes), and its part for organizations'
    /// notices walked the licenses of no organization that expire sooner than theirs
    /// (1.3 s with a million; tenant step 16 gave it an index of its own).
    #[test]
    fn an_idle_sweep_reads_as_little_at_any_fleet_size() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let grace = Duration::days(14);
        let warning = Timeline::default().expiry_warning;
        let sweep_work = |db: &Db| -> u64 {
            db.read(|tx| {
                let (found, work) = tx.vm_work(|tx| {
                    Ok::<_, StoreError>(
                        licenses::sweep_candidates(tx, now, now - grace)?.len()
                            + licenses::sweep_candidate_ids(tx, now, now - grace)?.len()
                            + installations::sweep_candidates(
                                tx,
                                now - Duration::minutes(5),
                                now,
                                warning,
                            )?
                            .len()
                            + installations::in_violation(tx)?.len()
                            + usize::from(
                                sweep_due(tx, now, grace, &Timeline::default())?.every_run,
                            ),
                    )
                });
                assert_eq!(found?, 0, "the fleet has nothing for the sweep");
                Ok::<_, StoreError>(work)
            })
            .unwrap()
        };
        let seen = now - Duration::hours(1);
        add_fleet(&db, 0, 500, seen, EXPIRES, Some(1));
        let small = sweep_work(&db);
        add_fleet(&db, 500, 5_000, seen, EXPIRES, Some(1));
        add_fleet(&db, 5_500, 5_000, seen, SOONER, None);
        let large = sweep_work(&db);
        assert!(
            large <= small + 2,
            "an idle sweep's work grew with the fleet: {small} thousand SQLite instructions \
             with 500 licenses, {large} thousand with 10,500"
        );
    }
}
