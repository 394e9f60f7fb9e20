//! licd's own installed licenses.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseLicenseRow {
    pub id: String,
    pub license_key: String,
    pub name: String,
    pub organization: String,
    pub internal_users: u32,
    pub external_users: u32,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
}

pub fn list(tx: &ReadTx<'_>) -> Result<Vec<EnterpriseLicenseRow>> {
    let mut st = tx.prepare(
        "SELECT id, license_key, name, organization, internal_users, external_users, not_before, expires_at,
                installed_at, installed_by FROM enterprise_licenses ORDER BY installed_at, id",
    )?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(EnterpriseLicenseRow {
            id: r.get(0)?,
            license_key: r.get(1)?,
            name: r.get(2)?,
            organization: r.get(3)?,
            internal_users: r.get(4)?,
            external_users: r.get(5)?,
            not_before: parse_ts("enterprise_licenses.not_before", &r.get::<_, String>(6)?)?,
            expires_at: parse_ts("enterprise_licenses.expires_at", &r.get::<_, String>(7)?)?,
            installed_at: parse_ts("enterprise_licenses.installed_at", &r.get::<_, String>(8)?)?,
            installed_by: r.get(9)?,
        });
    }
    Ok(out)
}

/// Installs (or re-installs) a license.
pub fn upsert(tx: &WriteTx<'_>, l: &EnterpriseLicenseRow) -> Result<()> {
    tx.execute(
        "INSERT INTO enterprise_licenses (id, license_key, name, organization, internal_users, external_users,
            not_before, expires_at, installed_at, installed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET license_key = excluded.license_key, installed_at = excluded.installed_at,
            installed_by = excluded.installed_by",
        params![
            l.id,
            l.license_key,
            l.name,
            l.organization,
            l.internal_users,
            l.external_users,
            ts(l.not_before),
            ts(l.expires_at),
            ts(l.installed_at),
            l.installed_by
        ],
    )?;
    Ok(())
}

pub fn delete(tx: &WriteTx<'_>, id: &str) -> Result<usize> {
    Ok(tx.execute("DELETE FROM enterprise_licenses WHERE id = ?1", [id])?)
}

/// Whether a license was ever installed (the audit chain keeps every install, also of
/// licenses removed since).
pub fn ever_installed(tx: &ReadTx<'_>) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM enterprise_licenses)
             OR EXISTS (SELECT 1 FROM audit_log WHERE action = 'enterprise.license_install')",
        [],
        |r| r.get(0),
    )?)
}

/// Enabled staff people: the tenant's internal users (service accounts are not users).
pub fn enabled_staff(tx: &ReadTx<'_>) -> Result<u32> {
    Ok(tx.query_row(
        "SELECT count(*) FROM staff_users WHERE disabled_at IS NULL AND kind = 'person'",
        [],
        |r| r.get(0),
    )?)
}

/// Enabled customer accounts that verified their address: the tenant's external users
/// (an open sign-up that never verified cannot use anything, so it is nobody yet).
pub fn enabled_customers(tx: &ReadTx<'_>) -> Result<u32> {
    Ok(tx.query_row(
        "SELECT count(*) FROM customers WHERE disabled_at IS NULL AND email_verified_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}
