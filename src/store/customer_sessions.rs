//! Customer portal sessions, found by the hash of their cookie value (apart from staff
//! `sessions`: a customer's cookie can never name a staff session, nor the reverse).

use super::customers::{COLUMNS, CustomerRow, RawCustomer, read_row};
use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct SessionWithCustomer {
    pub session_id: i64,
    pub expires_at: DateTime<Utc>,
    pub customer: CustomerRow,
}

pub fn insert(
    tx: &WriteTx<'_>,
    token_hash: &[u8],
    customer_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    remote_addr: Option<&str>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO customer_sessions (token_hash, customer_id, created_at, expires_at, remote_addr)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, customer_id, ts(now), ts(expires_at), remote_addr],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The unexpired session with this hash, with its customer (enabled or not: the caller
/// decides).
pub fn find_live(
    tx: &ReadTx<'_>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionWithCustomer>> {
    let sql = format!(
        "SELECT s.id, s.expires_at, {COLUMNS} FROM customer_sessions s
         JOIN customers c ON c.id = s.customer_id
         WHERE s.token_hash = ?1 AND s.expires_at > ?2"
    );
    let raw = tx
        .query_row(&sql, params![token_hash, ts(now)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, read_row(r, 2)?))
        })
        .optional()?;
    raw.map(
        |(session_id, expires, customer): (i64, String, RawCustomer)| {
            Ok(SessionWithCustomer {
                session_id,
                expires_at: parse_ts("customer_sessions.expires_at", &expires)?,
                customer: customer.parse()?,
            })
        },
    )
    .transpose()
}

pub fn delete(tx: &WriteTx<'_>, session_id: i64) -> Result<()> {
    tx.execute("DELETE FROM customer_sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

/// Ends every session of a customer except `keep` (the one changing its password).
pub fn delete_for_customer(tx: &WriteTx<'_>, customer_id: i64, keep: Option<i64>) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM customer_sessions WHERE customer_id = ?1 AND id IS NOT ?2",
        params![customer_id, keep],
    )?)
}

pub fn purge_expired(tx: &WriteTx<'_>, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM customer_sessions WHERE expires_at <= ?1",
        [ts(now)],
    )?)
}
