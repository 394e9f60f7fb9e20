//! What the dashboard reads about the fleet, each a small read: the aggregate tables of
//! schema step 7 (kept by triggers in the same transaction as the write that changes
//! them: heartbeats per hour, appliances heard from per day, licenses issued per day,
//! licenses per state, installations per stage), an index range (licenses expiring soon
//! over `licenses`) and the silent appliances, counted in memory (`heard`); never a scan
//! of every row.

use super::db::Db;
use super::licenses::{COLUMNS, HEARD, LicenseRow, read_row};
use super::{ReadTx, Result, StoreError, WriteTx, micros};
use crate::domain::lifecycle::LicenseState;
use crate::domain::violation::Stage;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::params;

/// An hour's key as stored: `2026-06-01T09`.
fn hour_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

/// A day's key as stored: `2026-06-01`.
fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_hour(column: &'static str, s: &str) -> Result<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{s}:00"), "%Y-%m-%dT%H:%M")
        .map(|t| t.and_utc())
        .map_err(|_| StoreError::Corrupt {
            column,
            value: s.to_owned(),
        })
}

fn parse_day(column: &'static str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt {
        column,
        value: s.to_owned(),
    })
}

fn counts(tx: &ReadTx<'_>, sql: &str, p: impl rusqlite::Params) -> Result<Vec<(String, i64)>> {
    let mut st = tx.prepare(sql)?;
    let rows = st.query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn parsed<T: std::str::FromStr>(
    column: &'static str,
    rows: Vec<(String, i64)>,
) -> Result<Vec<(T, i64)>> {
    rows.into_iter()
        .map(|(k, n)| match k.parse() {
            Ok(v) => Ok((v, n)),
            Err(_) => Err(StoreError::Corrupt { column, value: k }),
        })
        .collect()
}

/// Licenses per stored state (states with none may be missing or 0).
pub fn license_states(tx: &ReadTx<'_>) -> Result<Vec<(LicenseState, i64)>> {
    let rows = counts(
        tx,
        "SELECT state, licenses FROM fleet_license_states ORDER BY state",
        [],
    )?;
    parsed("fleet_license_states.state", rows)
}

/// What `/metrics` reports of a tenant's fleet at each scrape.
#[derive(Debug)]
pub struct Gauges {
    pub licenses: Vec<(LicenseState, i64)>,
    pub installations: Vec<(Stage, i64)>,
}

/// The gauges, from the aggregate tables like the dashboard.
pub fn gauges(tx: &ReadTx<'_>) -> Result<Gauges> {
    Ok(Gauges {
        licenses: license_states(tx)?,
        installations: installation_stages(tx)?,
    })
}

/// Installations per violation stage (stages with none may be missing or 0).
pub fn installation_stages(tx: &ReadTx<'_>) -> Result<Vec<(Stage, i64)>> {
    let rows = counts(
        tx,
        "SELECT stage, installations FROM fleet_installation_stages ORDER BY stage",
        [],
    )?;
    parsed("fleet_installation_stages.stage", rows)
}

/// Heartbeats answered per hour, for the hours from `from` (its hour included) on.
pub fn heartbeat_hours(tx: &ReadTx<'_>, from: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, i64)>> {
    counts(
        tx,
        "SELECT hour, heartbeats FROM fleet_heartbeat_hours WHERE hour >= ?1 ORDER BY hour",
        [hour_key(from)],
    )?
    .into_iter()
    .map(|(h, n)| Ok((parse_hour("fleet_heartbeat_hours.hour", &h)?, n)))
    .collect()
}

/// Appliances heard from per day, for the days from `from` on.
pub fn appliance_days(tx: &ReadTx<'_>, from: NaiveDate) -> Result<Vec<(NaiveDate, i64)>> {
    counts(
        tx,
        "SELECT day, appliances FROM fleet_appliance_days WHERE day >= ?1 ORDER BY day",
        [day_key(from)],
    )?
    .into_iter()
    .map(|(d, n)| Ok((parse_day("fleet_appliance_days.day", &d)?, n)))
    .collect()
}

/// Licenses issued per day, for the days from `from` on.
pub fn license_days(tx: &ReadTx<'_>, from: NaiveDate) -> Result<Vec<(NaiveDate, i64)>> {
    counts(
        tx,
        "SELECT day, issued FROM fleet_license_days WHERE day >= ?1 ORDER BY day",
        [day_key(from)],
    )?
    .into_iter()
    .map(|(d, n)| Ok((parse_day("fleet_license_days.day", &d)?, n)))
    .collect()
}

/// Removes the heartbeat aggregates of hours and days before `before`'s (the retention
/// job); returns how many rows. Licenses issued per day stay (one row a day).
pub fn prune(tx: &WriteTx<'_>, before: DateTime<Utc>) -> Result<usize> {
    let hours = tx.execute(
        "DELETE FROM fleet_heartbeat_hours WHERE hour < ?1",
        [hour_key(before)],
    )?;
    let days = tx.execute(
        "DELETE FROM fleet_appliance_days WHERE day < ?1",
        [day_key(before.date_naive())],
    )?;
    Ok(hours + days)
}

/// Active licenses whose appliance was last heard from before `seen_before`: how many,
/// and the `limit` heard from longest ago, whole and in that order. Counted in memory
/// (`heard`: no index on disk follows every heartbeat), then the listed licenses read
/// by their number; one that changed in between is left out of the list.
pub fn silent(db: &Db, seen_before: DateTime<Utc>, limit: usize) -> Result<(i64, Vec<LicenseRow>)> {
    let (count, listed) = db.silent(seen_before, limit)?;
    let rows = db.read(|tx| {
        let mut out = Vec::with_capacity(listed.len());
        for (no, _) in &listed {
            if let Some(l) = super::licenses::find_numbered(tx, *no)?
                && l.state == LicenseState::Active
                && l.last_seen_at.is_some_and(|t| t < seen_before)
            {
                out.push(l);
            }
        }
        Ok::<_, StoreError>(out)
    })?;
    Ok((count, rows))
}

/// Licenses neither revoked nor expired whose expiry falls in `[from, until)`: how many,
/// and the `limit` that expire first. One range of the partial index
/// `licenses_live_expiry` (named, so a change of statistics cannot swap it for a scan).
pub fn expiring(
    tx: &ReadTx<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<(i64, Vec<LicenseRow>)> {
    let count: i64 = tx.query_row(
        "SELECT count(*) FROM licenses INDEXED BY licenses_live_expiry
         WHERE state NOT IN ('revoked', 'expired') AND expires_at >= ?1 AND expires_at < ?2",
        [micros(from), micros(until)],
        |r| r.get(0),
    )?;
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM licenses l INDEXED BY licenses_live_expiry {HEARD}
         WHERE l.state NOT IN ('revoked', 'expired') AND l.expires_at >= ?1 AND l.expires_at < ?2
         ORDER BY l.expires_at LIMIT ?3"
    ))?;
    let mut rows = st.query(params![micros(from), micros(until), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, 0)?);
    }
    Ok((count, out))
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::*;

    /// Adds `n` installations numbered from `from`, every tenth in a violation stage.
    fn add_installations(db: &Db, from: usize, n: usize) {
        db.write(|tx| {
            tx.execute(
                "WITH RECURSIVE k(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM k WHERE i < ?2)
                 INSERT INTO installations (install_id, stage, updated_at)
                 SELECT printf('install-%08d', i),
                        CASE WHEN i % 10 = 0 THEN 'admin_warning' ELSE 'none' END,
                        unixepoch('2026-06-01') * 1000000
                 FROM k",
                params![from as i64, (from + n - 1) as i64],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    /// A `/metrics` scrape reads the aggregate tables: its work does not grow with the
    /// fleet (counting every installation took 300 ms and 50 MB of heap per scrape with
    /// 1,000,000, docs/benchmarks.md, eleventh pass), and its counts are the rows'.
    #[test]
    fn the_gauges_cost_the_same_at_any_fleet_size() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let work = |db: &Db| {
            db.read(|tx| Ok::<_, StoreError>(tx.vm_work(gauges)))
                .unwrap()
        };
        add_installations(&db, 0, 100);
        let (_, small) = work(&db);
        add_installations(&db, 100, 20_000);
        let (counted, large) = work(&db);
        let stages = counted.unwrap().installations;
        let of = |s: Stage| stages.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
        assert_eq!((of(Stage::None), of(Stage::AdminWarning)), (18_090, 2_010));
        assert!(
            large <= small + 1,
            "a scrape's work grew with the fleet: {small} thousand SQLite instructions \
             with 100 installations, {large} thousand with 20,100"
        );
    }
}
