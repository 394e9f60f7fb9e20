//! `registry.db`: the tenants this server hosts and the host names routed to them.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub schema_name: String,
    pub name: String,
    pub install_id: String,
    pub created_at: DateTime<Utc>,
}

fn tenant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_tenant(
    (schema_name, name, install_id, created): (String, String, String, String),
) -> Result<TenantRow> {
    Ok(TenantRow {
        schema_name,
        name,
        install_id,
        created_at: parse_ts("tenants.created_at", &created)?,
    })
}

pub fn list_tenants(tx: &ReadTx<'_>) -> Result<Vec<TenantRow>> {
    let mut st = tx.prepare(
        "SELECT schema_name, name, install_id, created_at FROM tenants ORDER BY created_at, schema_name",
    )?;
    let rows = st.query_map([], tenant_from_row)?;
    rows.map(|r| to_tenant(r?)).collect()
}

pub fn find_tenant(tx: &ReadTx<'_>, schema_name: &str) -> Result<Option<TenantRow>> {
    tx.query_row(
        "SELECT schema_name, name, install_id, created_at FROM tenants WHERE schema_name = ?1",
        [schema_name],
        tenant_from_row,
    )
    .optional()?
    .map(to_tenant)
    .transpose()
}

pub fn insert_tenant(tx: &WriteTx<'_>, t: &TenantRow) -> Result<()> {
    tx.execute(
        "INSERT INTO tenants (schema_name, name, install_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![t.schema_name, t.name, t.install_id, ts(t.created_at)],
    )?;
    Ok(())
}

/// Every (domain, schema_name) routing entry.
pub fn list_domains(tx: &ReadTx<'_>) -> Result<Vec<(String, String)>> {
    let mut st = tx.prepare("SELECT domain, schema_name FROM domains ORDER BY domain")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
