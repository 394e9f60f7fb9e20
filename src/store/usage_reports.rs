//! True-up usage reports carried back from air-gapped boxes: one row per
//! (license, box, report_seq), with the gaps and chain breaks licd saw on arrival.

use super::{ReadTx, Result, StoreError, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReportRow {
    pub license_id: String,
    pub fingerprint: String,
    pub report_seq: i64,
    pub report_hash: String,
    pub prev_report: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub peak_internal: u32,
    pub peak_external: u32,
    /// The daily peaks as reported (JSON array text).
    pub daily: String,
    /// The clock rollbacks the box saw (JSON array text).
    pub rollbacks: String,
    pub missing_seqs: Vec<i64>,
    pub chain_break: bool,
    pub received_at: DateTime<Utc>,
    pub received_by: String,
}

const COLUMNS: &str = "license_id, fingerprint, report_seq, report_hash, prev_report, period_start, \
     period_end, peak_internal, peak_external, daily, rollbacks, missing_seqs, chain_break, \
     received_at, received_by";

fn read(r: &rusqlite::Row<'_>) -> Result<UsageReportRow> {
    let missing: String = r.get(11)?;
    Ok(UsageReportRow {
        license_id: r.get(0)?,
        fingerprint: r.get(1)?,
        report_seq: r.get(2)?,
        report_hash: r.get(3)?,
        prev_report: r.get(4)?,
        period_start: parse_ts("usage_reports.period_start", &r.get::<_, String>(5)?)?,
        period_end: parse_ts("usage_reports.period_end", &r.get::<_, String>(6)?)?,
        peak_internal: r.get(7)?,
        peak_external: r.get(8)?,
        daily: r.get(9)?,
        rollbacks: r.get(10)?,
        missing_seqs: serde_json::from_str(&missing).map_err(|_| StoreError::Corrupt {
            column: "usage_reports.missing_seqs",
            value: missing,
        })?,
        chain_break: r.get(12)?,
        received_at: parse_ts("usage_reports.received_at", &r.get::<_, String>(13)?)?,
        received_by: r.get(14)?,
    })
}

pub fn insert(tx: &WriteTx<'_>, u: &UsageReportRow) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO usage_reports ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ),
        params![
            u.license_id,
            u.fingerprint,
            u.report_seq,
            u.report_hash,
            u.prev_report,
            ts(u.period_start),
            ts(u.period_end),
            u.peak_internal,
            u.peak_external,
            u.daily,
            u.rollbacks,
            serde_json::to_string(&u.missing_seqs).unwrap_or_else(|_| "[]".into()),
            u.chain_break,
            ts(u.received_at),
            u.received_by,
        ],
    )?;
    Ok(())
}

/// The report `report_seq` of a box, if licd has it.
pub fn find(
    tx: &ReadTx<'_>,
    license_id: &str,
    fingerprint: &str,
    report_seq: i64,
) -> Result<Option<UsageReportRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM usage_reports WHERE license_id = ?1 AND fingerprint = ?2 AND report_seq = ?3"
    ))?;
    st.query_row(params![license_id, fingerprint, report_seq], |r| {
        Ok(read(r))
    })
    .optional()?
    .transpose()
}

/// The report seqs licd holds of a box below `below`, ascending.
pub fn seqs_below(
    tx: &ReadTx<'_>,
    license_id: &str,
    fingerprint: &str,
    below: i64,
) -> Result<Vec<i64>> {
    let mut st = tx.prepare(
        "SELECT report_seq FROM usage_reports WHERE license_id = ?1 AND fingerprint = ?2 AND report_seq < ?3
         ORDER BY report_seq",
    )?;
    let rows = st.query_map(params![license_id, fingerprint, below], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A license's reports, newest first (at most `limit`).
pub fn for_license(tx: &ReadTx<'_>, license_id: &str, limit: usize) -> Result<Vec<UsageReportRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM usage_reports WHERE license_id = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2"
    ))?;
    let mut rows = st.query(params![license_id, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}
