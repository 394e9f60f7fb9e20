//! The tenancy API's use cases: what a caller holding a tenancy key may do with the
//! tenants this server hosts. Every call, reads included, is recorded in the
//! registry-level audit chain (`registry.db`) with the key's name, never the key.

use super::tenants::{PUBLIC, Tenants};
use super::{Actor, Result, refuse};
use crate::error::ErrorCode;
use crate::store::audit as audit_store;
use crate::store::registry::{self, TenantRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A tenant as the tenancy API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantInfo {
    /// The tenant's id in the API and its storage name (`public` for the default tenant).
    pub schema_name: String,
    pub name: String,
    /// The Install ID its own licenses are issued for.
    pub install_id: String,
    pub created_at: DateTime<Utc>,
    /// Whether this is the default tenant (unknown host names are routed to it).
    pub default: bool,
    /// The host names routed to it.
    pub domains: Vec<String>,
}

fn info(row: TenantRow, domains: &[(String, String)]) -> TenantInfo {
    TenantInfo {
        default: row.schema_name == PUBLIC,
        domains: domains
            .iter()
            .filter(|(_, s)| *s == row.schema_name)
            .map(|(d, _)| d.clone())
            .collect(),
        schema_name: row.schema_name,
        name: row.name,
        install_id: row.install_id,
        created_at: row.created_at,
    }
}

/// Records a tenancy call in the registry's audit chain.
fn record(
    tenants: &Tenants,
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    tenants.registry().write(|tx| {
        audit_store::append(
            tx,
            now,
            &actor.audit_name(),
            action,
            target,
            &details.to_string(),
        )?;
        Ok::<_, super::ServiceError>(())
    })
}

/// Every tenant, oldest first.
pub fn list(tenants: &Tenants, now: DateTime<Utc>, actor: &Actor) -> Result<Vec<TenantInfo>> {
    let (rows, domains) = tenants.registry().read(|tx| {
        Ok::<_, super::ServiceError>((registry::list_tenants(tx)?, registry::list_domains(tx)?))
    })?;
    let items: Vec<TenantInfo> = rows.into_iter().map(|r| info(r, &domains)).collect();
    record(
        tenants,
        now,
        actor,
        "tenant.list",
        "tenants",
        serde_json::json!({ "count": items.len() }),
    )?;
    Ok(items)
}

/// One tenant by its schema_name.
pub fn show(
    tenants: &Tenants,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
) -> Result<TenantInfo> {
    let (row, domains) = tenants.registry().read(|tx| {
        Ok::<_, super::ServiceError>((
            registry::find_tenant(tx, schema_name)?,
            registry::list_domains(tx)?,
        ))
    })?;
    let found = row.map(|r| info(r, &domains));
    // Looking for a tenant that is not there is a tenancy call too.
    record(
        tenants,
        now,
        actor,
        "tenant.show",
        &format!("tenant:{schema_name}"),
        serde_json::json!({ "found": found.is_some() }),
    )?;
    found.ok_or_else(|| {
        refuse(
            ErrorCode::NotFound,
            format!("no tenant has the schema_name {schema_name:?}"),
        )
    })
}
