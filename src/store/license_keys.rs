//! Every signed key a license has had: the first, and each renewal, change or reissue.
//! The newest is the license's current key, stored only here: the license row, which
//! every heartbeat reads and rewrites, stays small (tenant step 15). A key is stored as
//! the bytes its base64 encodes (`packed_token`); a key stored before that, or one
//! packing would change, is text, and both read back as the same text.
//!
//! A license names its current key (`licenses.key_id`) and each key the one it replaced
//! (`prev_id`), so no index of keys by license is kept (tenant step 22): the current key
//! is one lookup by rowid, a license's history a walk back from it.

use super::{
    ReadTx, Result, StoreError, WriteTx, from_micros, from_opt_micros, micros, packed_token,
};
use crate::domain::license::KeyReason;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

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

/// Records a new current key of the license `license_id`, whose row must exist: the key
/// it replaces is superseded at `now`.
pub fn insert_current(
    tx: &WriteTx<'_>,
    license_id: &str,
    license_key: &str,
    reason: KeyReason,
    issued_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let prev: Option<i64> = tx
        .query_row(
            "SELECT key_id FROM licenses WHERE id = ?1",
            [license_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::Corrupt {
            column: "licenses.id",
            value: format!("a key for license {license_id}, which has no row"),
        })?;
    if let Some(prev) = prev {
        tx.execute(
            "UPDATE license_keys SET superseded_at = ?2 WHERE id = ?1 AND superseded_at IS NULL",
            params![prev, micros(now)],
        )?;
    }
    tx.execute(
        "INSERT INTO license_keys (prev_id, license_key, reason, issued_at, issued_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            prev,
            packed_token::stored(license_key, license_id),
            reason.as_str(),
            micros(now),
            issued_by
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE licenses SET key_id = ?2 WHERE id = ?1",
        params![license_id, id],
    )?;
    Ok(id)
}

/// The error for a license without a key: every license is issued with one, so a
/// license without one is a damaged store.
fn no_key(license_id: &str) -> StoreError {
    StoreError::Corrupt {
        column: "licenses.key_id",
        value: format!("no key for license {license_id}"),
    }
}

/// The current key of the license `license_id`, which must exist.
pub fn current(tx: &ReadTx<'_>, license_id: &str) -> Result<String> {
    let mut st = tx.prepare(
        "SELECT k.license_key FROM licenses l JOIN license_keys k ON k.id = l.key_id
         WHERE l.id = ?1",
    )?;
    let mut rows = st.query([license_id])?;
    match rows.next()? {
        Some(r) => packed_token::read(r.get_ref(0)?, KEY_COLUMN, license_id),
        None => Err(no_key(license_id)),
    }
}

/// A license's keys, newest first (at most the newest 100).
pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<LicenseKeyRow>> {
    let mut st = tx.prepare(
        "WITH RECURSIVE chain (id, n) AS (
             SELECT key_id, 1 FROM licenses WHERE id = ?1 AND key_id IS NOT NULL
             UNION ALL
             SELECT k.prev_id, chain.n + 1 FROM chain JOIN license_keys k ON k.id = chain.id
             WHERE k.prev_id IS NOT NULL AND chain.n < 100
         )
         SELECT k.id, k.license_key, k.reason, k.issued_at, k.issued_by, k.superseded_at
         FROM chain JOIN license_keys k ON k.id = chain.id ORDER BY chain.n",
    )?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let reason: String = r.get(2)?;
        out.push(LicenseKeyRow {
            id: r.get(0)?,
            license_id: license_id.to_owned(),
            license_key: packed_token::read(r.get_ref(1)?, KEY_COLUMN, license_id)?,
            reason: reason.parse().map_err(|_| StoreError::Corrupt {
                column: "license_keys.reason",
                value: reason,
            })?,
            issued_at: from_micros("license_keys.issued_at", r.get(3)?)?,
            issued_by: r.get(4)?,
            superseded_at: from_opt_micros("license_keys.superseded_at", r.get(5)?)?,
        });
    }
    Ok(out)
}
