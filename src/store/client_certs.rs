//! Client certificates issued to activations (appliance mTLS), found by their SHA-256.

use super::activations::{ActivationRow, COLUMNS, read_with_license};
use super::licenses::{COLUMNS as LICENSE_COLUMNS, HEARD as LICENSE_HEARD, LicenseRow};
use super::{ReadTx, Result, WriteTx, ts};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// Records the client certificate issued to an activation.
pub fn insert(
    tx: &WriteTx<'_>,
    sha256: &str,
    activation_id: i64,
    license_id: &str,
    now: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO client_certs (sha256, activation_id, license_id, issued_at, not_after) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256, activation_id, license_id, ts(now), ts(not_after)],
    )?;
    Ok(())
}

/// The activation a client certificate was issued to, with its license.
pub fn find_activation(
    tx: &ReadTx<'_>,
    sha256: &str,
) -> Result<Option<(ActivationRow, LicenseRow)>> {
    let mut st = tx.prepare(&format!(
        "SELECT {LICENSE_COLUMNS}, {COLUMNS} FROM client_certs c
         JOIN activations a ON a.id = c.activation_id JOIN licenses l ON l.no = a.license_no
         {LICENSE_HEARD} WHERE c.sha256 = ?1"
    ))?;
    let mut rows = st.query([sha256])?;
    rows.next()?.map(read_with_license).transpose()
}
