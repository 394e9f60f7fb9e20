//! Bundles licd signed for boxes it cannot reach: renewals (a key and a fresh lease) and
//! revocations, numbered per license (`licenses.bundle_seq`) so a box never lets an
//! older bundle undo a newer one.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    pub license_id: String,
    pub bundle_seq: i64,
    /// `renewal` or `revocation`.
    pub kind: String,
    pub activation_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    tx: &WriteTx<'_>,
    license_id: &str,
    bundle_seq: i64,
    kind: &str,
    activation_id: Option<i64>,
    license_key: Option<&str>,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO license_bundles (license_id, bundle_seq, kind, activation_id, license_key, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![license_id, bundle_seq, kind, activation_id, license_key, ts(now), created_by],
    )?;
    Ok(())
}

/// A license's bundles, newest first (at most 50).
pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<BundleRow>> {
    let mut st = tx.prepare(
        "SELECT license_id, bundle_seq, kind, activation_id, created_at, created_by
         FROM license_bundles WHERE license_id = ?1 ORDER BY bundle_seq DESC LIMIT 50",
    )?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(BundleRow {
            license_id: r.get(0)?,
            bundle_seq: r.get(1)?,
            kind: r.get(2)?,
            activation_id: r.get(3)?,
            created_at: parse_ts("license_bundles.created_at", &r.get::<_, String>(4)?)?,
            created_by: r.get(5)?,
        });
    }
    Ok(out)
}
