//! Signing keys: public JWK and the sealed private half.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::signing_key::KeyStatus;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    pub status: KeyStatus,
    pub public_jwk: String,
    pub sealed_private: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

pub fn list(tx: &ReadTx<'_>) -> Result<Vec<SigningKeyRow>> {
    let mut st = tx.prepare(
        "SELECT kid, status, public_jwk, sealed_private, created_at, rotated_at, retired_at
         FROM signing_keys ORDER BY created_at DESC, kid",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    rows.map(|r| {
        let (kid, status, public_jwk, sealed_private, created, rotated, retired) = r?;
        Ok(SigningKeyRow {
            status: status.parse().map_err(|_| StoreError::Corrupt {
                column: "signing_keys.status",
                value: status.clone(),
            })?,
            kid,
            public_jwk,
            sealed_private,
            created_at: parse_ts("signing_keys.created_at", &created)?,
            rotated_at: parse_opt_ts("signing_keys.rotated_at", rotated)?,
            retired_at: parse_opt_ts("signing_keys.retired_at", retired)?,
        })
    })
    .collect()
}

pub fn count(tx: &ReadTx<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM signing_keys", [], |r| r.get(0))?)
}

/// Adds a new active key; the previous active key keeps verifying.
pub fn insert_active(
    tx: &WriteTx<'_>,
    kid: &str,
    public_jwk: &str,
    sealed: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE signing_keys SET status = 'verifying', rotated_at = ?1 WHERE status = 'active'",
        [ts(now)],
    )?;
    tx.execute(
        "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no)
         VALUES (?1, 'active', ?2, ?3, ?4, (SELECT coalesce(max(no), 0) + 1 FROM signing_keys))",
        params![kid, public_jwk, sealed, ts(now)],
    )?;
    Ok(())
}

pub fn retire(tx: &WriteTx<'_>, kid: &str, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE signing_keys SET status = 'retired', retired_at = ?2 WHERE kid = ?1 AND status = 'verifying'",
        params![kid, ts(now)],
    )?)
}

/// The number of the signing key `kid` (`signing_keys.no`, tenant step 23), which a
/// license holds instead of the `kid`; every license is signed by a key licd has, so an
/// unknown `kid` is a damaged store.
pub fn number(tx: &ReadTx<'_>, kid: &str) -> Result<i64> {
    let mut st = tx.prepare("SELECT no FROM signing_keys WHERE kid = ?1")?;
    st.query_row([kid], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .ok_or_else(|| StoreError::Corrupt {
            column: "signing_keys.no",
            value: format!("no number for signing key {kid}"),
        })
}

/// Live (not revoked or expired) licenses per signing key.
pub fn live_license_counts(tx: &ReadTx<'_>) -> Result<Vec<(String, i64)>> {
    let mut st = tx.prepare(
        "SELECT s.kid, count(*) FROM licenses l JOIN signing_keys s ON s.no = l.signed_by
         WHERE l.state NOT IN ('revoked', 'expired') GROUP BY l.signed_by",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
