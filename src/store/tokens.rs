//! Bearer API tokens, found by the hash of their secret.

use super::staff::{COLUMNS, RawStaff, StaffRow, read_row};
use super::{ReadTx, Result, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct TokenWithUser {
    pub token_id: i64,
    pub user: StaffRow,
}

pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a [u8],
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn insert(tx: &WriteTx<'_>, t: &NewToken<'_>, now: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![t.user_id, t.name, t.prefix, t.token_hash, ts(now), t.expires_at.map(ts)],
    )?;
    Ok(tx.last_insert_rowid())
}

type RawToken = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn parse((id, user_id, name, prefix, created, expires, revoked): RawToken) -> Result<TokenRow> {
    Ok(TokenRow {
        id,
        user_id,
        name,
        prefix,
        created_at: parse_ts("api_tokens.created_at", &created)?,
        expires_at: parse_opt_ts("api_tokens.expires_at", expires)?,
        revoked_at: parse_opt_ts("api_tokens.revoked_at", revoked)?,
    })
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, created_at, expires_at, revoked_at";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawToken> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

pub fn list_for_user(tx: &ReadTx<'_>, user_id: i64) -> Result<Vec<TokenRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ?1 ORDER BY created_at DESC, id DESC"
    ))?;
    let rows = st.query_map([user_id], read)?;
    rows.map(|r| parse(r?)).collect()
}

pub fn find_for_user(tx: &ReadTx<'_>, id: i64, user_id: i64) -> Result<Option<TokenRow>> {
    tx.query_row(
        &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1 AND user_id = ?2"),
        [id, user_id],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// The usable (unrevoked, unexpired) token with this hash, with its user.
pub fn find_live(
    tx: &ReadTx<'_>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<TokenWithUser>> {
    let sql = format!(
        "SELECT t.id, {COLUMNS} FROM api_tokens t JOIN staff_users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2)"
    );
    let raw = tx
        .prepare(&sql)?
        .query_row(params![token_hash, ts(now)], |r| {
            Ok((r.get::<_, i64>(0)?, read_row(r, 1)?))
        })
        .optional()?;
    raw.map(|(token_id, user): (i64, RawStaff)| {
        Ok(TokenWithUser {
            token_id,
            user: user.parse()?,
        })
    })
    .transpose()
}

pub fn revoke(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Revokes every token of a user that still works; returns how many.
pub fn revoke_all_for_user(tx: &WriteTx<'_>, user_id: i64, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE api_tokens SET revoked_at = ?2
         WHERE user_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
        params![user_id, ts(now)],
    )?)
}
