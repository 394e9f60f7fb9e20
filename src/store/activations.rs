//! Activations: which box holds a license (its fingerprint and secret), and whether it
//! still does (superseded by a reactivation or a rebind). The lease chain an activation
//! carries is in `leases.rs`, its client certificate in `client_certs.rs`.

use super::licenses::{
    self, COLUMNS as LICENSE_COLUMNS, HEARD as LICENSE_HEARD, LicenseRow, WIDTH,
};
use super::{ReadTx, Result, StoreError, WriteTx, from_micros, from_opt_micros, micros};
use crate::domain::activation::SupersededReason;
use chrono::{DateTime, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRow {
    pub id: i64,
    pub license_id: String,
    pub fingerprint: String,
    pub hostname: Option<String>,
    pub created_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_reason: Option<SupersededReason>,
    pub last_seq: i64,
    pub last_lease_hash: String,
}

/// The lease chain is read from the license's `heartbeat_state` row (as `h`, joined by
/// `licenses::HEARD` or `HEARD`) while it holds this activation's, else from its own row
/// (`leases::record`).
pub(super) const COLUMNS: &str = "a.id, (SELECT id FROM licenses WHERE no = a.license_no), a.fingerprint, a.hostname, a.created_at, a.superseded_at, \
     a.superseded_reason, \
     CASE WHEN h.activation_id = a.id THEN h.last_seq ELSE a.last_seq END, \
     CASE WHEN h.activation_id = a.id THEN h.last_lease_hash ELSE a.last_lease_hash END";

/// The join `COLUMNS` needs when the license is not joined too.
const HEARD: &str = "LEFT JOIN heartbeat_state h ON h.license_no = a.license_no";

/// Reads an activation from `COLUMNS`, starting at column `at`.
pub(super) fn read(r: &rusqlite::Row<'_>, at: usize) -> Result<ActivationRow> {
    let reason: Option<String> = r.get(at + 6)?;
    Ok(ActivationRow {
        id: r.get(at)?,
        license_id: r.get(at + 1)?,
        fingerprint: r.get(at + 2)?,
        hostname: r.get(at + 3)?,
        created_at: from_micros("activations.created_at", r.get(at + 4)?)?,
        superseded_at: from_opt_micros("activations.superseded_at", r.get(at + 5)?)?,
        superseded_reason: reason
            .map(|s| {
                s.parse().map_err(|_| StoreError::Corrupt {
                    column: "activations.superseded_reason",
                    value: s,
                })
            })
            .transpose()?,
        last_seq: r.get(at + 7)?,
        last_lease_hash: r.get(at + 8)?,
    })
}

/// Reads a license (`licenses::COLUMNS`) followed by an activation (`COLUMNS`).
pub(super) fn read_with_license(r: &rusqlite::Row<'_>) -> Result<(ActivationRow, LicenseRow)> {
    Ok((read(r, WIDTH)?, licenses::read_row(r, 0)?))
}

pub fn insert(
    tx: &WriteTx<'_>,
    license_id: &str,
    fingerprint: &str,
    hostname: Option<&str>,
    secret_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO activations (license_no, fingerprint, hostname, secret_hash, created_at)
         VALUES ((SELECT no FROM licenses WHERE id = ?1), ?2, ?3, ?4, ?5)",
        params![license_id, fingerprint, hostname, secret_hash, micros(now)],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Marks every current activation of a license as superseded.
pub fn supersede_all(
    tx: &WriteTx<'_>,
    license_id: &str,
    reason: SupersededReason,
    now: DateTime<Utc>,
) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE activations SET superseded_at = ?2, superseded_reason = ?3
         WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND superseded_at IS NULL",
        params![license_id, micros(now), reason.as_str()],
    )?)
}

/// The activation of the license `license_id` whose secret hashes to `secret_hash`, with
/// its license. It is looked for among the license's activations (`activations_license`):
/// no index of secrets is kept (tenant step 22).
pub fn find_by_secret(
    tx: &ReadTx<'_>,
    license_id: &str,
    secret_hash: &[u8],
) -> Result<Option<(ActivationRow, LicenseRow)>> {
    let mut st = tx.prepare(&format!(
        "SELECT {LICENSE_COLUMNS}, {COLUMNS} FROM licenses l JOIN activations a ON a.license_no = l.no
         {LICENSE_HEARD} WHERE l.id = ?1 AND a.secret_hash = ?2"
    ))?;
    let mut rows = st.query(params![license_id, secret_hash])?;
    rows.next()?.map(read_with_license).transpose()
}

/// A license's activations, newest first (the current one and those it replaced).
pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<ActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM activations a {HEARD}
         WHERE a.license_no = (SELECT no FROM licenses WHERE id = ?1) ORDER BY a.id DESC LIMIT 20"
    ))?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r, 0)?);
    }
    Ok(out)
}

/// The license's current (not superseded) activation, if any.
pub fn current_id(tx: &ReadTx<'_>, license_id: &str) -> Result<Option<i64>> {
    let mut st = tx.prepare(
        "SELECT max(id) FROM activations
         WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND superseded_at IS NULL",
    )?;
    Ok(st.query_row([license_id], |r| r.get(0))?)
}

/// One activation by its id.
pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<ActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM activations a {HEARD} WHERE a.id = ?1"
    ))?;
    let mut rows = st.query([id])?;
    rows.next()?.map(|r| read(r, 0)).transpose()
}
