//! `registry.db`'s `tenant_schedule`: when each closed tenant next needs its scheduled
//! work, so that the scheduler decides "nothing due" for every closed tenant with one
//! query and opens none of them. An open tenant has no row (it is looked after by the
//! jobs directly); a ready tenant without a row is due at once.

use super::{ReadTx, Result, WriteTx, ts};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// The tenant is open: its schedule is no longer known from the registry (if licd stops
/// without closing it, it is due at the next start).
pub fn forget(tx: &WriteTx<'_>, schema_name: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM tenant_schedule WHERE schema_name = ?1",
        [schema_name],
    )?;
    Ok(())
}

/// The tenant was closed and needs its scheduled work again at `due_at`.
pub fn set_due(tx: &WriteTx<'_>, schema_name: &str, due_at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO tenant_schedule (schema_name, due_at) VALUES (?1, ?2)
         ON CONFLICT (schema_name) DO UPDATE SET due_at = excluded.due_at",
        params![schema_name, ts(due_at)],
    )?;
    Ok(())
}

/// The ready tenants whose scheduled work is due at `now` (or unknown), soonest first.
pub fn due(tx: &ReadTx<'_>, now: DateTime<Utc>) -> Result<Vec<String>> {
    let mut st = tx.prepare(
        "SELECT t.schema_name FROM tenants t LEFT JOIN tenant_schedule s USING (schema_name)
         WHERE t.state = 'ready' AND (s.due_at IS NULL OR s.due_at <= ?1)
         ORDER BY s.due_at IS NOT NULL, s.due_at, t.schema_name",
    )?;
    let rows = st.query_map([ts(now)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many tenants the registry holds in state `ready`.
pub fn count_ready(tx: &ReadTx<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM tenants WHERE state = 'ready'",
        [],
        |r| r.get(0),
    )?)
}
