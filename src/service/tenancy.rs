//! The tenancy API's use cases: what a caller holding a tenancy key may do with the
//! tenants this server hosts. Every call, reads included, is recorded in the
//! registry-level audit chain (`registry.db`) with the key's name, never the key.

use super::tenants::{PUBLIC, Tenants};
use super::{Actor, App, Result, ServiceError, enterprise, refuse};
use crate::domain::violation::Condition;
use crate::domain::{free_text, schema_name};
use crate::error::ErrorCode;
use crate::store::audit as audit_store;
use crate::store::registry::{self, TenantRow, TenantState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
    /// `creating`, `ready`, `failed` (creation stopped half-way; see `failure`),
    /// `deleting`, `deleted` (archived until purged) or `restoring`.
    pub state: TenantState,
    /// Why creation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

pub(super) fn info(row: TenantRow, domains: &[(String, String)]) -> TenantInfo {
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
        state: row.state,
        failure: row.failure,
    }
}

/// Records a tenancy call in the registry's audit chain.
pub(super) fn record(
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

/// Walks the registry-level audit chain (every tenancy API call) by the same rules as
/// a tenant's (`audit::verify`).
pub fn verify_registry(tenants: &Tenants) -> Result<super::audit::Verification> {
    super::audit::verify_db(tenants.registry())
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

/// What `POST /api/v1/tenants` takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Shown in the tenant's console; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Must start with `t_`, then one or more of `a-z`, `0-9` and `_`, at most 63
    /// characters in all; `public` and `template` are reserved; unique.
    #[schema(pattern = "^t_[a-z0-9_]{1,61}$", min_length = 3, max_length = 63)]
    pub schema_name: String,
}

/// The longest tenant name.
pub const MAX_NAME_CHARS: usize = 100;

/// Creating a tenant needs the default tenant's own license to be valid: installed,
/// valid now, and not in read-only mode. Says which check failed.
fn check_default_license(app: &App, now: DateTime<Utc>) -> Result<()> {
    let public = app.tenants.public()?;
    let o = enterprise::overview(&public, now)?;
    match o.assessment.condition {
        Condition::Unlicensed => {
            return Err(refuse(
                ErrorCode::DefaultLicenseMissing,
                "the default tenant (public) has no license of its own installed (Enterprise > Licenses); a tenant can only be created under a valid one",
            ));
        }
        Condition::NoValidLicense => {
            return Err(refuse(
                ErrorCode::DefaultLicenseExpired,
                "none of the default tenant's (public) own licenses is valid now (expired or removed); install a valid one under Enterprise > Licenses first",
            ));
        }
        Condition::Compliant | Condition::OverLimit => {}
    }
    if o.read_only {
        return Err(refuse(
            ErrorCode::DefaultLicenseReadOnly,
            "the default tenant (public) is read-only (its own license is in violation); restore it before creating tenants",
        ));
    }
    Ok(())
}

/// Creates a tenant from the template (see `Tenants::create`). Recorded in the registry
/// chain whatever the outcome.
pub fn create(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    input: NewTenant,
) -> Result<TenantInfo> {
    let made = (|| -> Result<TenantInfo> {
        schema_name::check(&input.schema_name)?;
        let name = free_text::line("name", &input.name, MAX_NAME_CHARS, true)?;
        check_default_license(app, now)?;
        let t = app
            .tenants
            .create(&app.kek, &input.schema_name, &name, now)?;
        enterprise::refresh(&t, now, &Actor::System)?;
        show_row(&app.tenants, &input.schema_name)
    })();
    let outcome = match &made {
        Ok(t) => serde_json::json!({
            "outcome": "created",
            "name": t.name,
            "install_id": t.install_id,
        }),
        Err(e) => serde_json::json!({
            "outcome": "refused",
            "code": e.problem().code.as_str(),
        }),
    };
    record(
        &app.tenants,
        now,
        actor,
        "tenant.create",
        &format!("tenant:{}", input.schema_name),
        outcome,
    )?;
    made
}

pub(super) fn show_row(tenants: &Tenants, schema_name: &str) -> Result<TenantInfo> {
    let (row, domains) = tenants.registry().read(|tx| {
        Ok::<_, ServiceError>((
            registry::find_tenant(tx, schema_name)?,
            registry::list_domains(tx)?,
        ))
    })?;
    row.map(|r| info(r, &domains))
        .ok_or_else(|| ServiceError::unexpected("a created tenant is not in the registry"))
}
