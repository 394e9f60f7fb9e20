//! Single-use links sent to customers by email (verify an address, reset a password),
//! found by the SHA-256 of their token. A new link of a purpose replaces the account's
//! unused one of that purpose.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::customer::LinkPurpose;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub id: i64,
    pub customer_id: i64,
    pub purpose: LinkPurpose,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, customer_id, purpose, created_at, expires_at, used_at";

type Raw = (i64, i64, String, String, String, Option<String>);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn parse((id, customer_id, purpose, created, expires, used): Raw) -> Result<LinkRow> {
    Ok(LinkRow {
        id,
        customer_id,
        purpose: purpose.parse().map_err(|_| StoreError::Corrupt {
            column: "customer_links.purpose",
            value: purpose.clone(),
        })?,
        created_at: parse_ts("customer_links.created_at", &created)?,
        expires_at: parse_ts("customer_links.expires_at", &expires)?,
        used_at: parse_opt_ts("customer_links.used_at", used)?,
    })
}

/// Writes a new link for the customer, removing its unused links of the same purpose
/// (so only the newest works).
pub fn replace(
    tx: &WriteTx<'_>,
    token_hash: &[u8],
    customer_id: i64,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "DELETE FROM customer_links WHERE customer_id = ?1 AND purpose = ?2 AND used_at IS NULL",
        params![customer_id, purpose.as_str()],
    )?;
    tx.execute(
        "INSERT INTO customer_links (token_hash, customer_id, purpose, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            token_hash,
            customer_id,
            purpose.as_str(),
            ts(now),
            ts(expires_at)
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn find_by_token(tx: &ReadTx<'_>, token_hash: &[u8]) -> Result<Option<LinkRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM customer_links WHERE token_hash = ?1"),
        [token_hash],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// The customer's newest link of this purpose, used or not.
pub fn latest(tx: &ReadTx<'_>, customer_id: i64, purpose: LinkPurpose) -> Result<Option<LinkRow>> {
    tx.query_row(
        &format!(
            "SELECT {COLUMNS} FROM customer_links WHERE customer_id = ?1 AND purpose = ?2
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        params![customer_id, purpose.as_str()],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// Uses a link up. Returns false when it was used already (someone was first).
pub fn mark_used(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE customer_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
        params![id, ts(now)],
    )? == 1)
}

/// Removes the customer's unused links of a purpose (a password reset also ends an
/// outstanding reset link; disabling an account ends all).
pub fn delete_unused(
    tx: &WriteTx<'_>,
    customer_id: i64,
    purpose: Option<LinkPurpose>,
) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM customer_links WHERE customer_id = ?1 AND used_at IS NULL
         AND (?2 IS NULL OR purpose = ?2)",
        params![customer_id, purpose.map(LinkPurpose::as_str)],
    )?)
}

/// Removes links that expired before `before` (kept a while after expiry so that an
/// expired link is told apart from an unknown one).
pub fn purge_expired(tx: &WriteTx<'_>, before: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM customer_links WHERE expires_at <= ?1",
        [ts(before)],
    )?)
}
