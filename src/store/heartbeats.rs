//! Heartbeat history: one row per heartbeat answered, pruned past the retention
//! setting. The table is append-only, without a secondary index: each row points at
//! its license's heartbeat before it (`prev_id`), and the license's `heartbeat_state`
//! row at its newest (`last_heartbeat_id`, written with `last_seen_at`), so a license's
//! history is a chain walked from its head (tenant schema steps 14, 16 and 17).

use super::{ReadTx, Result, StoreError, WriteTx, parse_ts, ts};
use crate::domain::lifecycle::LicenseState;
use chrono::{DateTime, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRow {
    pub license_id: String,
    pub at: DateTime<Utc>,
    pub fingerprint: String,
    pub seq: i64,
    pub internal_users: Option<u32>,
    pub external_users: Option<u32>,
    /// The license's state the heartbeat was answered with.
    pub state: LicenseState,
}

/// Appends a heartbeat, chained to `prev` (its license's newest heartbeat before it,
/// `LicenseRow::last_heartbeat_id`); returns its id, the license's new head
/// (`leases::record` with `Heard`, `licenses::chain_heartbeat`).
pub fn insert(tx: &WriteTx<'_>, h: &HeartbeatRow, prev: Option<i64>) -> Result<i64> {
    let mut st = tx.prepare(
        "INSERT INTO heartbeats (license_id, at, fingerprint, seq, internal_users, external_users, state, prev_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    st.execute(params![
        h.license_id,
        ts(h.at),
        h.fingerprint,
        h.seq,
        h.internal_users,
        h.external_users,
        h.state.as_str(),
        prev
    ])?;
    Ok(tx.last_insert_rowid())
}

const SELECT: &str = "SELECT license_id, at, fingerprint, seq, internal_users, external_users, state FROM heartbeats";

fn read_all(
    st: &mut rusqlite::CachedStatement<'_>,
    p: impl rusqlite::Params,
) -> Result<Vec<HeartbeatRow>> {
    let mut rows = st.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(6)?;
        out.push(HeartbeatRow {
            license_id: r.get(0)?,
            at: parse_ts("heartbeats.at", &r.get::<_, String>(1)?)?,
            fingerprint: r.get(2)?,
            seq: r.get(3)?,
            internal_users: r.get(4)?,
            external_users: r.get(5)?,
            state: state.parse().map_err(|_| StoreError::Corrupt {
                column: "heartbeats.state",
                value: state.clone(),
            })?,
        });
    }
    Ok(out)
}

/// A license's latest heartbeats, newest first: its chain, walked from its head until
/// `limit` rows or the first one pruned.
pub fn for_license(tx: &ReadTx<'_>, license_id: &str, limit: usize) -> Result<Vec<HeartbeatRow>> {
    let mut st = tx.prepare(&format!(
        "WITH RECURSIVE chain(id, n) AS (
             SELECT last_heartbeat_id, 1 FROM heartbeat_state
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)
             UNION ALL
             SELECT h.prev_id, c.n + 1 FROM chain c JOIN heartbeats h ON h.id = c.id
             WHERE c.n < ?2)
         {SELECT} WHERE id IN (SELECT id FROM chain) ORDER BY id DESC"
    ))?;
    read_all(&mut st, params![license_id, limit as i64])
}

/// The latest heartbeats across every license, newest first.
pub fn recent(tx: &ReadTx<'_>, limit: usize) -> Result<Vec<HeartbeatRow>> {
    let mut st = tx.prepare(&format!("{SELECT} ORDER BY id DESC LIMIT ?1"))?;
    read_all(&mut st, params![limit as i64])
}

/// The id below which every heartbeat is older than `before` (ids grow with time, so
/// those are the rows to prune): the first recent enough, or one past the newest; `None`
/// when there are none. Rows added later have larger ids, so the answer stays right
/// for as long as the caller deletes below it.
pub fn first_kept(tx: &ReadTx<'_>, before: DateTime<Utc>) -> Result<Option<i64>> {
    Ok(tx.query_row(
        "SELECT coalesce(
            (SELECT id FROM heartbeats WHERE at >= ?1 ORDER BY id LIMIT 1),
            (SELECT max(id) + 1 FROM heartbeats))",
        [ts(before)],
        |r| r.get(0),
    )?)
}

/// Deletes the oldest heartbeats below id `kept`, at most `limit` of them (an id
/// range, so that one transaction stays short however much is due); returns how many.
pub fn prune(tx: &WriteTx<'_>, kept: i64, limit: usize) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM heartbeats WHERE id < min(?1, (SELECT min(id) FROM heartbeats) + ?2)",
        params![kept, limit as i64],
    )?)
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::*;
    use chrono::{Duration, TimeZone};

    /// A large history is pruned a bounded number of rows at a time, oldest first, and
    /// never a row from `before` on, even one added while the pruning goes on.
    #[test]
    fn pruning_goes_a_bounded_batch_at_a_time_and_keeps_recent_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let add = |at: DateTime<Utc>, n: i64| {
            db.write(|tx| {
                tx.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
                     INSERT INTO heartbeats (license_id, at, fingerprint, seq, state)
                     SELECT 'lic', ?1, 'fp', i, 'active' FROM n",
                    params![ts(at), n],
                )?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        };
        let count = || -> i64 {
            db.read(|tx| {
                Ok::<_, StoreError>(
                    tx.query_row("SELECT count(*) FROM heartbeats", [], |r| r.get(0))?,
                )
            })
            .unwrap()
        };
        let before = t0 + Duration::days(1);
        assert_eq!(db.read(|tx| first_kept(tx, before)).unwrap(), None);
        add(t0, 250);
        add(before, 30);
        let kept = db.read(|tx| first_kept(tx, before)).unwrap().unwrap();
        add(before + Duration::hours(1), 5);
        let mut batches = Vec::new();
        loop {
            let n = db.write(|tx| prune(tx, kept, 100)).unwrap();
            if n == 0 {
                break;
            }
            batches.push(n);
        }
        assert_eq!(batches, [100, 100, 50]);
        assert_eq!(count(), 35, "the recent rows stay");
        assert_eq!(db.read(|tx| first_kept(tx, before)).unwrap(), Some(kept));
    }
}
