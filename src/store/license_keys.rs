//! Every signed key a license has had: the first, and each renewal, change or reissue.
//! The newest is the license's current key, stored only here: the license row, which
//! every heartbeat reads and rewrites, stays small (tenant step 15). A key is stored as
//! the bytes its base64 encodes (`packed_token`); a key stored before that, or one
//! packing would change, is text, and both read back as the same text.

use super::{ReadTx, Result, StoreError, WriteTx, packed_token, parse_opt_ts, parse_ts, ts};
use crate::domain::license::KeyReason;
use chrono::{DateTime, Utc};
use rusqlite::params;

const KEY_COLUMN: &str = "license_keys.license_key";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseKeyRow {
    pub id: i64,
    pub license_id: String,
    /// The key itself; its header names the signing key (`kid`), kept nowhere else
    /// since tenant step 20.
    pub license_key: String,
    pub reason: KeyReason,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    /// When a newer key replaced it; `None` for the current key.
    pub superseded_at: Option<DateTime<Utc>>,
}

/// Records a new current key: the license's earlier keys are superseded at `now`.
pub fn insert_current(
    tx: &WriteTx<'_>,
    license_id: &str,
    license_key: &str,
    reason: KeyReason,
    issued_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "UPDATE license_keys SET superseded_at = ?2 WHERE license_id = ?1 AND superseded_at IS NULL",
        params![license_id, ts(now)],
    )?;
    tx.execute(
        "INSERT INTO license_keys (license_id, license_key, reason, issued_at, issued_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            license_id,
            packed_token::stored(license_key, license_id),
            reason.as_str(),
            ts(now),
            issued_by
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The current key of the license `license_id`, which must exist: every license is
/// issued with a key, so a license without one is a damaged store.
pub fn current(tx: &ReadTx<'_>, license_id: &str) -> Result<String> {
    let mut st = tx.prepare(
        "SELECT license_key FROM license_keys WHERE license_id = ?1 ORDER BY id DESC LIMIT 1",
    )?;
    let mut rows = st.query([license_id])?;
    match rows.next()? {
        Some(r) => packed_token::read(r.get_ref(0)?, KEY_COLUMN, license_id),
        None => Err(StoreError::Corrupt {
            column: "license_keys.license_id",
            value: format!("no key for license {license_id}"),
        }),
    }
}

/// A license's keys, newest first.
pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<LicenseKeyRow>> {
    let mut st = tx.prepare(
        "SELECT id, license_id, license_key, reason, issued_at, issued_by, superseded_at
         FROM license_keys WHERE license_id = ?1 ORDER BY id DESC LIMIT 100",
    )?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let reason: String = r.get(3)?;
        out.push(LicenseKeyRow {
            id: r.get(0)?,
            license_id: r.get(1)?,
            license_key: packed_token::read(r.get_ref(2)?, KEY_COLUMN, license_id)?,
            reason: reason.parse().map_err(|_| StoreError::Corrupt {
                column: "license_keys.reason",
                value: reason,
            })?,
            issued_at: parse_ts("license_keys.issued_at", &r.get::<_, String>(4)?)?,
            issued_by: r.get(5)?,
            superseded_at: parse_opt_ts("license_keys.superseded_at", r.get(6)?)?,
        });
    }
    Ok(out)
}
