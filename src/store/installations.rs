//! Installations: latest usage, recorded violation state, and their timeline.

use super::id_set::IdSet;
use super::{
    ReadTx, Result, StoreError, WriteTx, from_micros, from_opt_micros, micros, parse_ts, ts,
};
use crate::domain::timestamp;
use crate::domain::violation::{Condition, Stage, Usage};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationRow {
    pub install_id: String,
    pub usage: Option<Usage>,
    pub usage_at: Option<DateTime<Utc>>,
    /// The condition and stage last recorded (the stage last announced).
    pub condition: Condition,
    pub violation_since: Option<DateTime<Utc>>,
    pub stage: Stage,
    pub updated_at: DateTime<Utc>,
}

fn parse<T: std::str::FromStr>(column: &'static str, s: String) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt { column, value: s })
}

const COLUMNS: &str = "install_id, internal_users, external_users, usage_at, condition, violation_since, stage, updated_at";

fn read(r: &rusqlite::Row<'_>) -> Result<InstallationRow> {
    let internal: Option<u32> = r.get(1)?;
    let external: Option<u32> = r.get(2)?;
    Ok(InstallationRow {
        install_id: r.get(0)?,
        usage: internal.zip(external).map(|(i, e)| Usage {
            internal_users: i,
            external_users: e,
        }),
        usage_at: from_opt_micros("installations.usage_at", r.get(3)?)?,
        condition: parse("installations.condition", r.get(4)?)?,
        violation_since: from_opt_micros("installations.violation_since", r.get(5)?)?,
        stage: parse("installations.stage", r.get(6)?)?,
        updated_at: from_micros("installations.updated_at", r.get(7)?)?,
    })
}

pub fn find(tx: &ReadTx<'_>, install_id: &str) -> Result<Option<InstallationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM installations WHERE install_id = ?1"
    ))?;
    let mut rows = st.query([install_id])?;
    rows.next()?.map(read).transpose()
}

/// Writes the whole row (insert or replace).
pub fn upsert(tx: &WriteTx<'_>, row: &InstallationRow) -> Result<()> {
    let mut st = tx.prepare(
        "INSERT INTO installations (install_id, internal_users, external_users, usage_at, condition, violation_since, stage, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(install_id) DO UPDATE SET internal_users = excluded.internal_users,
            external_users = excluded.external_users, usage_at = excluded.usage_at, condition = excluded.condition,
            violation_since = excluded.violation_since, stage = excluded.stage, updated_at = excluded.updated_at",
    )?;
    st.execute(params![
        row.install_id,
        row.usage.map(|u| u.internal_users),
        row.usage.map(|u| u.external_users),
        row.usage_at.map(micros),
        row.condition.as_str(),
        row.violation_since.map(micros),
        row.stage.as_str(),
        micros(row.updated_at),
    ])?;
    Ok(())
}

pub fn insert_event(
    tx: &WriteTx<'_>,
    install_id: &str,
    at: DateTime<Utc>,
    kind: &str,
    usage: Option<Usage>,
    stage_and_condition: Option<(Stage, Condition)>,
) -> Result<()> {
    let mut st = tx.prepare(
        "INSERT INTO installation_events (install_id, at, kind, internal_users, external_users, stage, condition)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    st.execute(params![
        install_id,
        ts(at),
        kind,
        usage.map(|u| u.internal_users),
        usage.map(|u| u.external_users),
        stage_and_condition.map(|s| s.0.as_str()),
        stage_and_condition.map(|s| s.1.as_str()),
    ])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    /// `usage` (a new usage report) or `stage` (a new stage or condition).
    pub kind: String,
    pub usage: Option<Usage>,
    pub stage: Option<Stage>,
    pub condition: Option<Condition>,
}

pub fn events(tx: &ReadTx<'_>, install_id: &str, limit: usize) -> Result<Vec<EventRow>> {
    let mut st = tx.prepare(
        "SELECT at, kind, internal_users, external_users, stage, condition FROM installation_events
         WHERE install_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let mut rows = st.query(params![install_id, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let internal: Option<u32> = r.get(2)?;
        let external: Option<u32> = r.get(3)?;
        out.push(EventRow {
            at: parse_ts("installation_events.at", &r.get::<_, String>(0)?)?,
            kind: r.get(1)?,
            usage: internal.zip(external).map(|(i, e)| Usage {
                internal_users: i,
                external_users: e,
            }),
            stage: r
                .get::<_, Option<String>>(4)?
                .map(|s| parse("installation_events.stage", s))
                .transpose()?,
            condition: r
                .get::<_, Option<String>>(5)?
                .map(|s| parse("installation_events.condition", s))
                .transpose()?,
        });
    }
    Ok(out)
}

/// The installations recorded in a violation, by Install ID.
pub fn in_violation(tx: &ReadTx<'_>) -> Result<Vec<InstallationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM installations INDEXED BY installations_violation
         WHERE violation_since IS NOT NULL ORDER BY install_id"
    ))?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// Every Install ID that has a license or an installation row, sorted, after `after`.
pub fn list_ids(tx: &ReadTx<'_>, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
    let mut st = tx.prepare(
        "SELECT install_id FROM (SELECT install_id FROM licenses UNION SELECT install_id FROM installations)
         WHERE install_id > ?1 ORDER BY install_id LIMIT ?2",
    )?;
    let rows = st.query_map(params![after.unwrap_or(""), limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Installations the sweep must look at for the period (`from`, `to`]: those in
/// violation (their stage advances with time), and those with a license that starts,
/// ends, or enters its expiry warning (`warning` before the end) in the period. A
/// license starts later than its issue only if it was issued to (`not_before >
/// issued_at`, tenant step 20's index): one that had started was assessed so when issued.
pub fn sweep_candidates(
    tx: &ReadTx<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    warning: chrono::Duration,
) -> Result<IdSet> {
    let mut st = tx.prepare(
        "SELECT install_id FROM installations WHERE violation_since IS NOT NULL
         UNION SELECT install_id FROM licenses WHERE expires_at > ?1 AND expires_at <= ?2
         UNION SELECT install_id FROM licenses WHERE expires_at > ?3 AND expires_at <= ?4
         UNION SELECT install_id FROM licenses
             WHERE not_before > ?1 AND not_before <= ?2 AND not_before > issued_at",
    )?;
    // A license's times are microseconds (tenant step 24).
    let rows = st.query(params![
        micros(from),
        micros(to),
        micros(timestamp::later(from, warning)),
        micros(timestamp::later(to, warning))
    ])?;
    Ok(IdSet::read(rows)?)
}

/// When the sweep last assessed installations (stored per tenant).
pub fn last_sweep(tx: &ReadTx<'_>) -> Result<Option<DateTime<Utc>>> {
    let v: Option<String> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = 'installations.last_sweep'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    v.map(|s| parse_ts("settings.installations.last_sweep", &s))
        .transpose()
}

/// Records `at` as the last sweep, unless a later one is recorded already (two sweeps
/// that overlap may end in either order).
pub fn set_last_sweep(tx: &WriteTx<'_>, at: DateTime<Utc>) -> Result<()> {
    match last_sweep(tx)? {
        Some(later) if later > at => Ok(()),
        _ => super::settings::put(tx, "installations.last_sweep", &ts(at)),
    }
}

/// The installation's usage reports from `since` on, oldest first, with the last one
/// before `since` (the count in effect then).
pub fn usage_reports(
    tx: &ReadTx<'_>,
    install_id: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, Usage)>> {
    let mut st = tx.prepare(
        "SELECT at, internal_users, external_users FROM installation_events
         WHERE install_id = ?1 AND kind = 'usage' AND id >= coalesce(
             (SELECT max(id) FROM installation_events
              WHERE install_id = ?1 AND kind = 'usage' AND at < ?2), 0)
         ORDER BY id",
    )?;
    let mut rows = st.query(params![install_id, ts(since)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let at = parse_ts("installation_events.at", &r.get::<_, String>(0)?)?;
        let (internal, external): (Option<u32>, Option<u32>) = (r.get(1)?, r.get(2)?);
        if let Some((i, e)) = internal.zip(external) {
            out.push((
                at,
                Usage {
                    internal_users: i,
                    external_users: e,
                },
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::*;
    use chrono::TimeZone;

    /// Two sweeps that overlap may end in either order: the recorded instant only moves
    /// forward, so the next sweep never skips the period between them.
    #[test]
    fn the_last_sweep_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let record = |at| db.write(|tx| set_last_sweep(tx, at)).unwrap();
        let recorded = || db.read(last_sweep).unwrap();
        assert_eq!(recorded(), None);
        record(t0 + chrono::Duration::minutes(5));
        record(t0);
        assert_eq!(recorded(), Some(t0 + chrono::Duration::minutes(5)));
        record(t0 + chrono::Duration::minutes(10));
        assert_eq!(recorded(), Some(t0 + chrono::Duration::minutes(10)));
    }
}
