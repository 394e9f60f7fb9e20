//! Active licenses in the order their appliances were last heard from, kept in memory:
//! the dashboard's appliances silent for longer than the heartbeat interval (how many,
//! and those silent the longest).
//!
//! On disk the order would be an index on `last_seen_at`, whose entry every heartbeat
//! moves: a write to a random page of the index besides the state row's own, about a
//! quarter of the writer's time per heartbeat (issue 17). The sweep needs far less, the
//! appliances silent for about a grace (days): tenant step 21 indexes the day they were
//! heard from (`heartbeat_state_active_day`), which a heartbeat changes once a day. An
//! exact count at the heartbeat interval needs the instant, and so this order.
//!
//! It follows the database itself, not its callers: temporary triggers on the writer's
//! connection (`install`) report every change of a state row's `active` or
//! `last_seen_at` (a heartbeat, an activation, a change of state through the trigger
//! that keeps `active`) to `licd_heard`, which notes it for the open transaction while
//! the order is in memory (before the first dashboard it does nothing). A
//! savepoint rolled back drops its notes; a commit applies them, a rollback drops them.
//! Another connection's commit (a command run beside the server) changes the writer's
//! `PRAGMA data_version`, which every write transaction and every reader that finds the
//! writer free looks at: the order is then read again from the state rows, as it is on
//! first use. A reader that finds the writer busy counts from the order as the last
//! commit left it, without waiting. Nothing of it is on disk, and nothing on disk
//! depends on it.

use super::Result;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// The order of one tenant's database, shared by its writer connection's function and
/// the readers of the order.
#[derive(Default)]
pub(super) struct Heard {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// `None` until first asked for, and after another connection wrote.
    order: Option<Order>,
    /// The writer connection's `PRAGMA data_version` at the last look.
    data_version: i64,
    /// What the writer's open transaction changed, in order.
    pending: Vec<Note>,
    /// Times the order was read from the database (for tests).
    reads: u64,
}

/// Active licenses heard from, by when (microseconds since the Unix epoch), then number
/// (`licenses.no`, which keeps their state rows since tenant step 25). A change names
/// the entry it replaces (`Note::was`), so no map from license to entry is kept: 16
/// bytes a license and the tree's own (24 while it kept UUIDs).
#[derive(Default)]
struct Order {
    heard: BTreeSet<(i64, i64)>,
}

/// How many active licenses were heard from before an instant, and the first of them
/// (license number, when), heard from longest ago first.
pub type Silent = (i64, Vec<(i64, DateTime<Utc>)>);

/// A state row's change by one statement: when its appliance was last heard from
/// before (`was`) and after (`now`) it, each `None` if the license was not active or
/// not heard from.
struct Note {
    license: i64,
    was: Option<i64>,
    now: Option<i64>,
}

/// The temporary triggers that report changes to `licd_heard` (on the writer's
/// connection only: nothing of them is in the database file).
const TRIGGERS: &str = "
    CREATE TEMP TRIGGER licd_heard_changed AFTER UPDATE OF last_seen_at, active
    ON main.heartbeat_state WHEN OLD.active = 1 OR NEW.active = 1 BEGIN
        SELECT licd_heard(NEW.license_no, OLD.active, OLD.last_seen_at, NEW.active,
            NEW.last_seen_at);
    END;
    CREATE TEMP TRIGGER licd_heard_made AFTER INSERT ON main.heartbeat_state
    WHEN NEW.active = 1 BEGIN
        SELECT licd_heard(NEW.license_no, 0, NULL, NEW.active, NEW.last_seen_at);
    END;
    CREATE TEMP TRIGGER licd_heard_removed AFTER DELETE ON main.heartbeat_state
    WHEN OLD.active = 1 BEGIN
        SELECT licd_heard(OLD.license_no, OLD.active, OLD.last_seen_at, 0, NULL);
    END;";

/// When a state row says its appliance was last heard from, as the order keeps it:
/// `None` unless the license is active and was heard from. A time that is not licd's
/// (microseconds, tenant step 25; a row edited by hand) counts as not heard from: the
/// license is left out of the order, and the sweep still finds it by its day.
fn heard_at(active: i64, seen: ValueRef<'_>) -> Option<i64> {
    seen.as_i64().ok().filter(|_| active == 1)
}

impl Heard {
    /// Sets up the order for the writer connection `conn` of a tenant's database (one
    /// with state rows); `None` for any other database.
    pub(super) fn install(conn: &Connection) -> rusqlite::Result<Option<Arc<Heard>>> {
        let tenant: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'heartbeat_state')",
            [],
            |r| r.get(0),
        )?;
        if !tenant {
            return Ok(None);
        }
        let heard = Arc::new(Heard::default());
        let noted = heard.clone();
        conn.create_scalar_function("licd_heard", 5, FunctionFlags::SQLITE_UTF8, move |ctx| {
            let mut inner = noted.lock();
            // Not in memory: the transaction's changes would be dropped at its end (the
            // order is read only between transactions), so nothing is parsed or noted.
            if inner.order.is_none() {
                return Ok(rusqlite::types::Null);
            }
            let was = heard_at(ctx.get(1)?, ctx.get_raw(2));
            let now = heard_at(ctx.get(3)?, ctx.get_raw(4));
            if was != now {
                inner.pending.push(Note {
                    license: ctx.get(0)?,
                    was,
                    now,
                });
            }
            Ok(rusqlite::types::Null)
        })?;
        conn.execute_batch(TRIGGERS)?;
        Ok(Some(heard))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A write transaction began on `conn`, the writer's connection: nothing is pending
    /// (a transaction that ended in a panic left its notes behind), and a commit by
    /// another connection since the last look makes the order be read again.
    pub(super) fn begun(&self, conn: &Connection) {
        self.lock().pending.clear();
        self.follow(conn);
    }

    /// Drops the order if another connection committed since the last look (`PRAGMA
    /// data_version` of the writer's connection changes then, and only then: not for
    /// its own commits, nor for checkpoints).
    fn follow(&self, conn: &Connection) {
        let version = conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .ok();
        let mut inner = self.lock();
        if version != Some(inner.data_version) {
            inner.order = None;
            inner.data_version = version.unwrap_or(-1);
        }
    }

    /// With the writer's connection `writer` held and no transaction open on it: the
    /// order up to date with the database, read from the state rows if it is not in
    /// memory, through a connection of its own (`reader`, opened for it), which leaves
    /// the writer's page cache to the writer. Nothing commits while the caller holds the
    /// writer, so what it reads is the last commit.
    pub(super) fn refresh(
        &self,
        writer: &Connection,
        reader: impl FnOnce() -> Result<Connection>,
    ) -> Result<()> {
        self.follow(writer);
        if self.lock().order.is_none() {
            let order = Order::read(&reader()?)?;
            let mut inner = self.lock();
            inner.order = Some(order);
            inner.reads += 1;
        }
        Ok(())
    }

    /// Where a savepoint starts, for `rolled_back_to`.
    pub(super) fn mark(&self) -> usize {
        self.lock().pending.len()
    }

    /// The savepoint begun at `mark` was rolled back: its notes are dropped.
    pub(super) fn rolled_back_to(&self, mark: usize) {
        self.lock().pending.truncate(mark);
    }

    /// The transaction committed (`true`) or rolled back.
    pub(super) fn ended(&self, committed: bool) {
        let mut inner = self.lock();
        let pending = std::mem::take(&mut inner.pending);
        if !committed {
            return;
        }
        if let Some(order) = inner.order.as_mut() {
            for note in pending {
                order.change(note);
            }
        }
    }

    /// How many active licenses were last heard from before `before`, and the `limit`
    /// heard from longest ago, with when; `None` while the order is not in memory
    /// (`refresh`).
    pub(super) fn silent(&self, before: DateTime<Utc>, limit: usize) -> Option<Silent> {
        let inner = self.lock();
        let order = inner.order.as_ref()?;
        let before_us = before.timestamp_micros();
        let when = |at: i64| DateTime::from_timestamp_micros(at).unwrap_or(before);
        let mut count = 0i64;
        let mut listed = Vec::with_capacity(limit);
        for (i, (at, license)) in order.heard.range(..(before_us, i64::MIN)).enumerate() {
            if i < limit {
                listed.push((*license, when(*at)));
            }
            count += 1;
        }
        Some((count, listed))
    }

    /// How many times the order was read from the database.
    #[cfg(test)]
    pub(super) fn reads(&self) -> u64 {
        self.lock().reads
    }
}

impl Order {
    /// The active licenses heard from, read from their state rows (one pass over the
    /// table, not its index of days: 30 ms with 100,000 licenses).
    fn read(conn: &Connection) -> Result<Order> {
        let mut st = conn.prepare(
            "SELECT last_seen_at, license_no FROM heartbeat_state
             WHERE +active = 1 AND +last_seen_at IS NOT NULL",
        )?;
        let mut heard = BTreeSet::new();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(at) = heard_at(1, r.get_ref(0)?) {
                heard.insert((at, r.get(1)?));
            }
        }
        Ok(Order { heard })
    }

    /// Applies a committed change: the entry it replaces out, its own in.
    fn change(&mut self, note: Note) {
        let Note { license, was, now } = note;
        if let Some(at) = was {
            self.heard.remove(&(at, license));
        }
        if let Some(at) = now {
            self.heard.insert((at, license));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::super::sweep_due::tests::{ISSUED, set_state, signing_key};
    use super::super::{StoreError, micros};
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use rusqlite::params;
    use std::sync::Arc;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap()
    }

    fn open(dir: &tempfile::TempDir) -> Arc<Db> {
        Arc::new(Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap())
    }

    /// License `i`'s id.
    fn license(i: u64) -> String {
        format!("lic-{i}")
    }

    /// What hearing from license `?1`'s appliance at `?2` writes.
    const HEAR: &str = "UPDATE heartbeat_state SET last_seen_at = ?2
        WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)";

    /// Licenses `license(0)`.. `license(n - 1)` in `state`, none heard from.
    fn add(db: &Db, n: usize, state: &str) {
        db.write(|tx| {
            signing_key(tx)?;
            for i in 0..n as u64 {
                tx.execute(
                    "INSERT INTO licenses (id, name, install_id, internal_users, external_users,
                         not_before, expires_at, issued_at, signed_by, state)
                     VALUES (?1, 'n', 'inst-' || ?1, 10, 2, unixepoch(?2) * 1000000,
                         unixepoch('2028-01-01') * 1000000, unixepoch(?2) * 1000000, 1, ?3)",
                    params![license(i), ISSUED, state],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    fn hear(db: &Db, id: &str, at: Option<DateTime<Utc>>) {
        db.write(|tx| {
            tx.execute(HEAR, params![id, at.map(micros)])?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// What the database says: the active licenses heard from before `before`, how
    /// many and the first `limit` by when (ties by number, as the order keeps them).
    fn truth(db: &Db, before: DateTime<Utc>, limit: usize) -> (i64, Vec<(i64, DateTime<Utc>)>) {
        db.read(|tx| {
            let mut st = tx.prepare(
                "SELECT license_no, last_seen_at FROM heartbeat_state
                 WHERE active = 1 AND last_seen_at < ?1 ORDER BY last_seen_at, license_no",
            )?;
            let rows: Vec<(i64, i64)> = st
                .query_map([micros(before)], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let count = rows.len() as i64;
            let listed = rows
                .into_iter()
                .take(limit)
                .map(|(no, at)| (no, DateTime::from_timestamp_micros(at).unwrap()))
                .collect();
            Ok::<_, StoreError>((count, listed))
        })
        .unwrap()
    }

    /// A small deterministic generator (the same sequence every run).
    struct Steps(u64);
    impl Steps {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % below
        }
    }

    /// Heartbeats, changes of state, licenses made, jobs of a group commit that fail and
    /// roll back their savepoint, whole transactions that roll back: after each round
    /// the order in memory says what the state rows say, and it was read from them once.
    #[test]
    fn the_order_follows_every_change_of_the_state_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        add(&db, 40, "active");
        let before = |i: u64| t0() + Duration::seconds(i as i64 * 7);
        assert_eq!(
            db.silent(before(1000), 5).unwrap(),
            truth(&db, before(1000), 5)
        );
        let mut steps = Steps(17);
        let states = [
            "active",
            "active",
            "locked",
            "suspended",
            "revoked",
            "issued",
        ];
        for round in 0..60u64 {
            for _ in 0..15 {
                let id = license(steps.next(40));
                match steps.next(10) {
                    0..=5 => hear(&db, &id, Some(before(steps.next(1000)))),
                    6 => hear(&db, &id, None),
                    7 | 8 => set_state(&db, &id, states[steps.next(6) as usize]),
                    _ => {
                        // A grouped job that hears from the appliance, then fails: its
                        // savepoint rolls back, the others in its group stand.
                        let at = before(steps.next(1000));
                        let failing = db.clone();
                        let (id2, at2) = (license(steps.next(40)), before(steps.next(1000)));
                        let h = std::thread::spawn(move || {
                            failing.write_grouped(move |tx| {
                                tx.execute(HEAR, params![id, micros(at)])?;
                                Err::<(), _>(StoreError::GroupAbandoned)
                            })
                        });
                        let kept = db.write_grouped(move |tx| {
                            tx.execute(HEAR, params![id2, micros(at2)])?;
                            Ok::<_, StoreError>(())
                        });
                        assert!(kept.is_ok());
                        assert!(h.join().unwrap().is_err());
                    }
                }
            }
            // One transaction that changes a row twice, and its state in between.
            let (id, first, second) = (
                license(steps.next(40)),
                before(steps.next(1000)),
                before(steps.next(1000)),
            );
            db.write(|tx| {
                let hear = |at: DateTime<Utc>| tx.execute(HEAR, params![id, micros(at)]);
                hear(first)?;
                tx.execute("UPDATE licenses SET state = 'locked' WHERE id = ?1", [&id])?;
                tx.execute("UPDATE licenses SET state = 'active' WHERE id = ?1", [&id])?;
                hear(second)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
            // A whole transaction that fails after changing rows.
            let r = db.write(|tx| {
                tx.execute(
                    "UPDATE heartbeat_state SET last_seen_at = ?1 WHERE active = 1",
                    [micros(before(round))],
                )?;
                Err::<(), _>(StoreError::GroupAbandoned)
            });
            assert!(r.is_err());
            let limit = 1 + steps.next(12) as usize;
            let at = before(steps.next(1100));
            assert_eq!(
                db.silent(at, limit).unwrap(),
                truth(&db, at, limit),
                "round {round}"
            );
        }
        assert_eq!(
            db.heard_reads(),
            1,
            "read from the state rows once, then kept"
        );
    }

    /// A command run beside the server writes through its own connection: the order is
    /// read again. Checkpoints (another connection too) do not make it read again.
    #[test]
    fn another_connections_commit_makes_it_read_again_and_a_checkpoint_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        add(&db, 3, "active");
        hear(&db, "lic-0", Some(t0()));
        let later = t0() + Duration::hours(1);
        assert_eq!(db.silent(later, 10).unwrap().0, 1);
        for i in 0..300 {
            hear(&db, "lic-1", Some(t0() + Duration::seconds(i)));
        }
        db.checkpoint().unwrap();
        hear(&db, "lic-2", Some(t0()));
        assert_eq!(db.silent(later, 10).unwrap().0, 3);
        assert_eq!(db.heard_reads(), 1);
        let other = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
        other
            .execute(
                "UPDATE licenses SET state = 'revoked' WHERE id = 'lic-0'",
                [],
            )
            .unwrap();
        assert_eq!(db.silent(later, 10).unwrap(), truth(&db, later, 10));
        assert_eq!(db.silent(later, 10).unwrap().0, 2);
        assert_eq!(db.heard_reads(), 2);
    }

    /// While a write transaction is open, the count does not wait for it: it is what the
    /// last commit left, without the open transaction's changes, which count once it
    /// commits.
    #[test]
    fn a_busy_writer_is_not_waited_for_and_its_changes_count_once_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        add(&db, 2, "active");
        hear(&db, "lic-0", Some(t0()));
        let later = t0() + Duration::hours(1);
        assert_eq!(db.silent(later, 10).unwrap().0, 1);
        let (inside, wait_inside) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let writer = db.clone();
        let h = std::thread::spawn(move || {
            writer.write(|tx| {
                tx.execute(HEAR, params!["lic-1", micros(t0())])?;
                inside.send(()).unwrap();
                released.recv().unwrap();
                Ok::<_, StoreError>(())
            })
        });
        wait_inside.recv().unwrap();
        assert_eq!(
            db.silent(later, 10).unwrap().0,
            1,
            "answered during the write"
        );
        release.send(()).unwrap();
        h.join().unwrap().unwrap();
        assert_eq!(db.silent(later, 10).unwrap(), truth(&db, later, 10));
        assert_eq!(db.silent(later, 10).unwrap().0, 2);
    }
}
