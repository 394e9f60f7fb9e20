//! `registry.db`: the tenants this server hosts, the host names routed to them, and
//! (in `audit_log`, written by `store::audit`) the registry-level audit chain.

use super::{ReadTx, Result, StoreError, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

pub use crate::domain::tenant_state::TenantState;

fn parse_state(s: &str) -> Result<TenantState> {
    TenantState::parse(s).ok_or_else(|| StoreError::Corrupt {
        column: "tenants.state",
        value: s.to_owned(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub schema_name: String,
    pub name: String,
    pub install_id: String,
    pub created_at: DateTime<Utc>,
    pub state: TenantState,
    /// Why creation failed (`state = failed`).
    pub failure: Option<String>,
}

type Raw = (String, String, String, String, String, Option<String>);

const COLUMNS: &str = "schema_name, name, install_id, created_at, state, failure";

fn tenant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_tenant((schema_name, name, install_id, created, state, failure): Raw) -> Result<TenantRow> {
    Ok(TenantRow {
        schema_name,
        name,
        install_id,
        created_at: parse_ts("tenants.created_at", &created)?,
        state: parse_state(&state)?,
        failure,
    })
}

pub fn list_tenants(tx: &ReadTx<'_>) -> Result<Vec<TenantRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM tenants ORDER BY created_at, schema_name"
    ))?;
    let rows = st.query_map([], tenant_from_row)?;
    rows.map(|r| to_tenant(r?)).collect()
}

pub fn find_tenant(tx: &ReadTx<'_>, schema_name: &str) -> Result<Option<TenantRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM tenants WHERE schema_name = ?1"),
        [schema_name],
        tenant_from_row,
    )
    .optional()?
    .map(to_tenant)
    .transpose()
}

pub fn insert_tenant(tx: &WriteTx<'_>, t: &TenantRow) -> Result<()> {
    tx.execute(
        "INSERT INTO tenants (schema_name, name, install_id, created_at, state, failure) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.schema_name,
            t.name,
            t.install_id,
            ts(t.created_at),
            t.state.as_str(),
            t.failure
        ],
    )?;
    Ok(())
}

/// Moves a tenant to `state` (with the reason, for `failed`).
pub fn set_state(
    tx: &WriteTx<'_>,
    schema_name: &str,
    state: TenantState,
    failure: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE tenants SET state = ?2, failure = ?3 WHERE schema_name = ?1",
        params![schema_name, state.as_str(), failure],
    )?;
    Ok(())
}

/// Removes a tenant's row (a failed creation being tried again).
pub fn delete_tenant(tx: &WriteTx<'_>, schema_name: &str) -> Result<()> {
    tx.execute("DELETE FROM tenants WHERE schema_name = ?1", [schema_name])?;
    Ok(())
}

/// Every (domain, schema_name) routing entry, in the order they were added.
pub fn list_domains(tx: &ReadTx<'_>) -> Result<Vec<(String, String)>> {
    let mut st = tx.prepare("SELECT domain, schema_name FROM domains ORDER BY rowid")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Gives a tenant a new display name.
pub fn set_name(tx: &WriteTx<'_>, schema_name: &str, name: &str) -> Result<()> {
    tx.execute(
        "UPDATE tenants SET name = ?2 WHERE schema_name = ?1",
        params![schema_name, name],
    )?;
    Ok(())
}
