//! `registry.db` `recovery_keys`: one-time sign-in links for a tenant's staff account
//! (by email), kept as the SHA-256 of their secret. Single use: `mark_used` succeeds
//! once.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryKeyRow {
    pub id: i64,
    pub schema_name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub fn insert(
    tx: &WriteTx<'_>,
    schema_name: &str,
    email: &str,
    secret_hash: &[u8],
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO recovery_keys (schema_name, email, secret_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![schema_name, email, secret_hash, ts(created_at), ts(expires_at)],
    )?;
    Ok(tx.last_insert_rowid())
}

type Raw = (i64, String, String, String, String, Option<String>);

pub fn find_by_hash(tx: &ReadTx<'_>, secret_hash: &[u8]) -> Result<Option<RecoveryKeyRow>> {
    let raw: Option<Raw> = tx
        .query_row(
            "SELECT id, schema_name, email, created_at, expires_at, used_at FROM recovery_keys WHERE secret_hash = ?1",
            [secret_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    raw.map(|(id, schema_name, email, created, expires, used)| {
        Ok(RecoveryKeyRow {
            id,
            schema_name,
            email,
            created_at: parse_ts("recovery_keys.created_at", &created)?,
            expires_at: parse_ts("recovery_keys.expires_at", &expires)?,
            used_at: used
                .map(|u| parse_ts("recovery_keys.used_at", &u))
                .transpose()?,
        })
    })
    .transpose()
}

/// Marks a key used; false when it was used already.
pub fn mark_used(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let n = tx.execute(
        "UPDATE recovery_keys SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(n > 0)
}
