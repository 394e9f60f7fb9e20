//! Provisioning tokens: a license template an appliance redeems at first boot.

use super::{ReadTx, Result, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub template: String,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, name, prefix, template, max_uses, uses, expires_at, created_at, created_by, revoked_at";

fn read(r: &rusqlite::Row<'_>) -> Result<ProvisioningRow> {
    Ok(ProvisioningRow {
        id: r.get(0)?,
        name: r.get(1)?,
        prefix: r.get(2)?,
        template: r.get(3)?,
        max_uses: r.get(4)?,
        uses: r.get(5)?,
        expires_at: parse_opt_ts("provisioning_tokens.expires_at", r.get(6)?)?,
        created_at: parse_ts("provisioning_tokens.created_at", &r.get::<_, String>(7)?)?,
        created_by: r.get(8)?,
        revoked_at: parse_opt_ts("provisioning_tokens.revoked_at", r.get(9)?)?,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    tx: &WriteTx<'_>,
    name: &str,
    prefix: &str,
    token_hash: &[u8],
    template: &str,
    max_uses: i64,
    expires_at: Option<DateTime<Utc>>,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO provisioning_tokens (name, prefix, token_hash, template, max_uses, expires_at, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![name, prefix, token_hash, template, max_uses, expires_at.map(ts), ts(now), created_by],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn list(tx: &ReadTx<'_>) -> Result<Vec<ProvisioningRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM provisioning_tokens ORDER BY id DESC"
    ))?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<ProvisioningRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM provisioning_tokens WHERE id = ?1"
    ))?;
    let mut rows = st.query([id])?;
    rows.next()?.map(read).transpose()
}

pub fn find_by_hash(tx: &ReadTx<'_>, token_hash: &[u8]) -> Result<Option<ProvisioningRow>> {
    let id: Option<i64> = tx
        .query_row(
            "SELECT id FROM provisioning_tokens WHERE token_hash = ?1",
            [token_hash],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => find(tx, id),
        None => Ok(None),
    }
}

pub fn add_use(tx: &WriteTx<'_>, id: i64) -> Result<()> {
    tx.execute(
        "UPDATE provisioning_tokens SET uses = uses + 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn revoke(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE provisioning_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now)],
    )?)
}
