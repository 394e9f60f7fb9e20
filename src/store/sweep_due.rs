//! When the health sweep next has work in one tenant's database: the earliest instant
//! at which time alone changes something the sweep looks at (the same conditions as
//! `licenses::sweep_candidates` and `installations::sweep_candidates`, and the moments an
//! organization's license notice falls due). A closed tenant is opened for its sweep at
//! that instant, not before; only an offline grace that runs out after the next day may
//! be named up to a day early (the index knows the day an appliance was heard from,
//! tenant step 21), and is named exactly from the sweep that finds nothing yet.

use super::{ReadTx, Result, from_micros, from_opt_micros, micros};
use crate::domain::violation::Timeline;
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

/// What the sweep has ahead in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepDue {
    /// Something is in a state the sweep re-examines on every run (a license whose
    /// subscription lapsed, an active one never seen): due every sweep interval.
    pub every_run: bool,
    /// The earliest future instant a dated condition starts to hold (an expiry, the
    /// start of an expiry warning, a license becoming valid, an offline grace running
    /// out, an installation in violation reaching its next stage), or a little before
    /// it (an offline grace, counted from the start of the day its appliance was last
    /// heard from unless that day is a grace ago); `None` if there is none.
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
             OR EXISTS (SELECT 1 FROM heartbeat_state INDEXED BY heartbeat_state_active_day
                        WHERE active = 1 AND seen_day IS NULL)",
        [],
        |r| r.get(0),
    )?;
    // The times of licenses, their state rows and installations are microseconds
    // (tenant steps 24, 25 and 22).
    let min_time_after = |sql: &str, after: DateTime<Utc>| -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = tx.query_row(sql, [micros(after)], |r| r.get(0))?;
        from_opt_micros("sweep_due", v)
    };
    let mut next: Vec<DateTime<Utc>> = Vec::new();
    // Expiry (of a license still in force) and the start of a license's validity; also
    // the installation's stage when a license starts or ends.
    next.extend(min_time_after(
        "SELECT min(expires_at) FROM licenses WHERE expires_at > ?1",
        now,
    )?);
    // Only a license issued to start after its issue starts later: one whose start is
    // at or before its issue was assessed as started then (tenant step 20's index).
    next.extend(min_time_after(
        "SELECT min(not_before) FROM licenses WHERE not_before > ?1 AND not_before > issued_at",
        now,
    )?);
    // The expiry warning starts `warning` before the end.
    let warned_from = crate::domain::timestamp::later(now, warning);
    if let Some(end) = min_time_after(
        "SELECT min(expires_at) FROM licenses WHERE expires_at > ?1",
        warned_from,
    )? {
        next.push(crate::domain::timestamp::earlier(end, warning));
    }
    // An organization's license reaches a notice window (`license_notices`: 30 and 7
    // days before its expiry); its expiry and the "expired" notice are covered above.
    for days in crate::domain::license_notices::EXPIRY_NOTICE_DAYS {
        let window = Duration::days(days);
        if let Some(end) = min_time_after(
            "SELECT min(expires_at) FROM licenses INDEXED BY licenses_organization_live_expiry
               WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired')
               AND expires_at > ?1",
            crate::domain::timestamp::later(now, window),
        )? {
            next.push(crate::domain::timestamp::earlier(end, window));
        }
    }
    // An active license not seen for longer than the grace. The index holds the day
    // each was heard from: the exact instant is read within `since`'s own day (the few
    // heard from last a grace ago), and a later day counts from its start, which may be
    // early: the tenant then opens, its sweep finds nothing yet, and this reads that day
    // exactly. (Reading a later day exactly could read the whole fleet: today's.)
    let since = crate::domain::timestamp::earlier(now, grace);
    let since_day = super::day(since);
    let in_since_day: Option<i64> = tx.query_row(
        "SELECT min(last_seen_at) FROM heartbeat_state INDEXED BY heartbeat_state_active_day
           WHERE active = 1 AND seen_day = ?1 AND last_seen_at >= ?2",
        params![since_day, micros(since)],
        |r| r.get(0),
    )?;
    let seen = match in_since_day {
        Some(t) => Some(from_micros("sweep_due", t)?),
        None => tx
            .query_row(
                "SELECT min(seen_day) FROM heartbeat_state INDEXED BY heartbeat_state_active_day
                   WHERE active = 1 AND seen_day > ?1",
                [since_day],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .and_then(|d| DateTime::from_timestamp(d.saturating_mul(86_400), 0)),
    };
    if let Some(seen) = seen {
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
        if let Some(since) = min_time_after(
            "SELECT min(violation_since) FROM installations WHERE violation_since > ?1",
            crate::domain::timestamp::earlier(now, after),
        )? {
            next.push(crate::domain::timestamp::later(since, after));
        }
    }
    // Overdue now (a run was missed): due at once.
    let overdue: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM licenses WHERE state NOT IN ('revoked', 'expired') AND expires_at <= ?1)
             OR EXISTS (SELECT 1 FROM heartbeat_state INDEXED BY heartbeat_state_active_day
                        WHERE active = 1 AND seen_day <= ?3 AND last_seen_at < ?2)",
        params![micros(now), micros(since), since_day],
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
pub(super) mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::super::{StoreError, WriteTx, installations, licenses};
    use super::*;
    use chrono::TimeZone;
    use rusqlite::params;

    pub(in crate::store) const ISSUED: &str = "2026-01-01T00:00:00.000000Z";
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
            signing_key(tx)?;
            tx.execute(
                "INSERT OR IGNORE INTO organizations (id, name, notification_email, created_at, updated_at)
                 VALUES (1, 'Org', 'org@example.com', ?1, ?1)",
                [ISSUED],
            )?;
            tx.execute(
                "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
                 INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
                     expires_at, issued_at, signed_by, state, activated_at, organization_id)
                 SELECT 'lic-' || i, 'n', 'inst-' || i, 10, 2, unixepoch(?3) * 1000000,
                     unixepoch(?4) * 1000000, unixepoch(?3) * 1000000, 1, 'active',
                     unixepoch(?3) * 1000000, ?5
                 FROM n",
                params![from as i64, n as i64, ISSUED, expires, organization],
            )?;
            tx.execute(
                "UPDATE heartbeat_state SET last_seen_at = ?1 WHERE last_seen_at IS NULL",
                [micros(seen)],
            )?;
            tx.execute(
                "INSERT INTO installations (install_id, condition, stage, updated_at)
                 SELECT install_id, 'compliant', 'none', unixepoch(?1) * 1000000 FROM licenses
                 WHERE install_id NOT IN (SELECT install_id FROM installations)",
                [ISSUED],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// What a heartbeat writes of when it was heard from, its history row taken as 1
    /// (`leases::record` with `Heard`).
    fn heard(db: &Db, id: &str, at: DateTime<Utc>) {
        db.write(|tx| {
            tx.execute(
                "UPDATE heartbeat_state SET last_seen_at = ?2, last_heartbeat_id = 1
                 WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)",
                params![id, micros(at)],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// The active signing key `k1` the test licenses name (once).
    pub(in crate::store) fn signing_key(tx: &WriteTx<'_>) -> Result<()> {
        tx.execute(
            "INSERT OR IGNORE INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no)
             VALUES ('k1', 'active', '{}', x'00', ?1, 1)",
            [ISSUED],
        )?;
        Ok(())
    }

    /// Sets a license's state (its state row's `active` follows, by trigger).
    pub(in crate::store) fn set_state(db: &Db, id: &str, state: &str) {
        db.write(|tx| {
            tx.execute(
                "UPDATE licenses SET state = ?2 WHERE id = ?1",
                params![id, state],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// Every license has its state row, made with it, whose `active` follows the
    /// license's state (the partial index of appliances by when they were heard from
    /// holds active licenses only; tenant step 17's triggers).
    #[test]
    fn a_license_has_a_state_row_that_follows_whether_it_is_active() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
        add_fleet(&db, 0, 1, t, EXPIRES, None);
        let active = |db: &Db| -> Option<i64> {
            db.read(|tx| {
                Ok::<_, StoreError>(tx.query_row(
                    "SELECT h.active FROM heartbeat_state h JOIN licenses l ON l.no = h.license_no
                     WHERE l.id = 'lic-0'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .ok()
        };
        assert_eq!(active(&db), Some(1));
        set_state(&db, "lic-0", "locked");
        assert_eq!(active(&db), Some(0));
        set_state(&db, "lic-0", "revoked");
        assert_eq!(active(&db), Some(0));
        set_state(&db, "lic-0", "active");
        assert_eq!(active(&db), Some(1));
        heard(&db, "lic-0", t + Duration::seconds(5));
        let l = db.read(|tx| licenses::find(tx, "lic-0")).unwrap().unwrap();
        assert_eq!(
            (l.last_seen_at, l.last_heartbeat_id),
            (Some(t + Duration::seconds(5)), Some(1))
        );
    }

    /// Around a limit, the sweep, `sweep_due` and the dashboard find the active
    /// licenses heard from before it, by their exact instant, and none that is not
    /// active.
    #[test]
    fn active_appliances_heard_from_before_a_limit_are_found_by_their_instant() {
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
        add_fleet(&db, 4, 1, t - s(500), EXPIRES, None);
        set_state(&db, "lic-4", "revoked");
        let limit = t + s(30);
        let grace = Duration::days(14);
        let now = limit + grace;
        db.read(|tx| {
            let mut ids: Vec<String> = licenses::sweep_candidate_ids(tx, now, limit)?
                .iter()
                .map(str::to_owned)
                .collect();
            ids.sort();
            assert_eq!(ids, ["lic-0", "lic-2", "lic-3"]);
            // Before any grace runs out: due when lic-3's does.
            let due = sweep_due(tx, t - s(200) + grace, grace, &Timeline::default())?;
            assert_eq!(due.next_at, Some(t - s(100) + grace));
            // Once one has run out: due at once.
            let due = sweep_due(tx, now, grace, &Timeline::default())?;
            assert_eq!(due.next_at, Some(now));
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let (count, listed) = super::super::fleet::silent(&db, limit, 10).unwrap();
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
    }

    /// The index holds the day each appliance was heard from (tenant step 21): around
    /// a limit in the middle of a day, the sweep still goes by the exact instant,
    /// whichever day it is in. `sweep_due` reads the exact instant in the day of
    /// `now - grace`, and counts a later day from its start (early, never late), then
    /// reads that day exactly once it is reached.
    #[test]
    fn licenses_heard_from_on_other_days_than_the_limit_are_found_by_their_instant() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let at =
            |d: u32, h: u32, m: u32, s: u32| Utc.with_ymd_and_hms(2026, 6, d, h, m, s).unwrap();
        for (n, seen) in [
            at(1, 20, 15, 0),
            at(2, 10, 29, 59),
            at(2, 10, 30, 1),
            at(3, 5, 0, 0),
        ]
        .into_iter()
        .enumerate()
        {
            add_fleet(&db, n, 1, seen, EXPIRES, None);
        }
        let grace = Duration::days(14);
        let limit = at(2, 10, 30, 0);
        let due = |db: &Db, since: DateTime<Utc>| {
            db.read(|tx| sweep_due(tx, since + grace, grace, &Timeline::default()))
                .unwrap()
                .next_at
        };
        db.read(|tx| {
            let mut ids: Vec<String> = licenses::sweep_candidate_ids(tx, limit + grace, limit)?
                .iter()
                .map(str::to_owned)
                .collect();
            ids.sort();
            assert_eq!(ids, ["lic-0", "lic-1"]);
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let (count, listed) = super::super::fleet::silent(&db, limit, 10).unwrap();
        let listed: Vec<&str> = listed.iter().map(|l| l.id.as_str()).collect();
        assert_eq!((count, listed), (2, vec!["lic-0", "lic-1"]));
        set_state(&db, "lic-0", "locked");
        set_state(&db, "lic-1", "locked");
        // lic-2, on the limit's own day: exact.
        assert_eq!(due(&db, at(2, 10, 20, 0)), Some(at(2, 10, 30, 1) + grace));
        // lic-3, on a later day: from that day's start, then exact.
        set_state(&db, "lic-2", "locked");
        assert_eq!(due(&db, at(2, 10, 20, 0)), Some(at(3, 0, 0, 0) + grace));
        assert_eq!(due(&db, at(3, 0, 0, 0)), Some(at(3, 5, 0, 0) + grace));
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
