//! Browser sessions, found by the hash of their cookie value.

use super::staff::{COLUMNS, RawStaff, StaffRow, read_row};
use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub session_id: i64,
    pub expires_at: DateTime<Utc>,
    pub user: StaffRow,
}

pub fn insert(
    tx: &WriteTx<'_>,
    token_hash: &[u8],
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    remote_addr: Option<&str>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, remote_addr) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, user_id, ts(now), ts(expires_at), remote_addr],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The unexpired session with this hash, with its user (enabled or not: the caller decides).
pub fn find_live(
    tx: &ReadTx<'_>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionWithUser>> {
    let sql = format!(
        "SELECT s.id, s.expires_at, {COLUMNS} FROM sessions s JOIN staff_users u ON u.id = s.user_id
         WHERE s.token_hash = ?1 AND s.expires_at > ?2"
    );
    let raw = tx
        .query_row(&sql, params![token_hash, ts(now)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, read_row(r, 2)?))
        })
        .optional()?;
    raw.map(|(session_id, expires, user): (i64, String, RawStaff)| {
        Ok(SessionWithUser {
            session_id,
            expires_at: parse_ts("sessions.expires_at", &expires)?,
            user: user.parse()?,
        })
    })
    .transpose()
}

pub fn delete(tx: &WriteTx<'_>, session_id: i64) -> Result<()> {
    tx.execute("DELETE FROM sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

/// Ends every session of a user except `keep` (the one changing its password).
pub fn delete_for_user(tx: &WriteTx<'_>, user_id: i64, keep: Option<i64>) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2",
        params![user_id, keep],
    )?)
}

pub fn purge_expired(tx: &WriteTx<'_>, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [ts(now)])?)
}
