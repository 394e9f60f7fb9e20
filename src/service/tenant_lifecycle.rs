//! A tenant's life after creation, for the tenancy API and `licd tenant`: rename,
//! delete (to an archive, `tenant_archive.rs`), restore, and purge of old archives.
//! Every call is recorded in the registry's audit chain whatever its outcome.
//!
//! A deleted tenant's row stays in the registry (`deleted`), so its schema_name and
//! Install ID stay taken until purge removes archive and row. After a purge the
//! schema_name is free; a tenant created under it later gets a new random Install ID,
//! so no license issued for the purged one fits it (`wrong_install_id`).

use super::tenancy::{self, MAX_NAME_CHARS, TenantInfo, record};
use super::tenant_archive::{self, ArchivedTenant};
use super::tenants::{PUBLIC, Tenant, Tenants};
use super::{Actor, App, Result, ServiceError, refuse};
use crate::domain::free_text;
use crate::error::ErrorCode;
use crate::store::registry::{self, TenantRow, TenantState};
use crate::store::tenant_archives;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// What `PATCH /api/v1/tenants/{schema_name}` takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// The new name shown in the tenant's console; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// A deleted tenant and where its archive is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedTenant {
    /// The archive's directory, relative to the data directory.
    pub archive: String,
    /// The registry row the archive's manifest keeps (its host names are free now).
    pub tenant: ArchivedTenant,
}

/// A restored tenant, and the host names it did not get back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RestoredTenant {
    pub tenant: TenantInfo,
    /// Host names it had when deleted that another tenant took meanwhile: they stay
    /// with that tenant (add others to this one if needed).
    pub domains_not_restored: Vec<String>,
}

/// An archive that purge removed.
#[derive(Debug, Clone, Serialize)]
pub struct PurgedTenant {
    pub schema_name: String,
    pub install_id: String,
    pub archive: String,
    pub deleted_at: DateTime<Utc>,
}

fn find_row(tenants: &Tenants, schema_name: &str) -> Result<TenantRow> {
    tenants
        .registry()
        .read(|tx| registry::find_tenant(tx, schema_name))?
        .ok_or_else(|| {
            refuse(
                ErrorCode::NotFound,
                format!("no tenant has the schema_name {schema_name:?}"),
            )
        })
}

fn must_be_ready(row: &TenantRow, doing: &str) -> Result<()> {
    if row.state == TenantState::Ready {
        return Ok(());
    }
    Err(refuse(
        ErrorCode::TenantNotReady,
        format!(
            "tenant {} is {}, not ready: it cannot be {doing}",
            row.schema_name,
            row.state.as_str()
        ),
    ))
}

fn outcome<T>(made: &Result<T>, ok: impl FnOnce(&T) -> serde_json::Value) -> serde_json::Value {
    match made {
        Ok(v) => ok(v),
        Err(e) => serde_json::json!({ "outcome": "refused", "code": e.problem().code.as_str() }),
    }
}

/// Gives a tenant a new display name; its console shows it from the next page on.
pub fn rename(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
    patch: TenantPatch,
) -> Result<TenantInfo> {
    let tenants = &app.tenants;
    let made = (|| -> Result<(String, TenantInfo)> {
        let name = free_text::line("name", &patch.name, MAX_NAME_CHARS, true)?;
        let row = find_row(tenants, schema_name)?;
        must_be_ready(&row, "renamed")?;
        tenants
            .registry()
            .write(|tx| registry::set_name(tx, schema_name, &name))?;
        if let Some(t) = tenants.get(schema_name) {
            t.set_name(&name);
        }
        Ok((row.name, tenancy::show_row(tenants, schema_name)?))
    })();
    let details = outcome(
        &made,
        |(from, t)| serde_json::json!({ "outcome": "renamed", "from": from, "to": t.name }),
    );
    record(
        tenants,
        now,
        actor,
        "tenant.rename",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    made.map(|(_, t)| t)
}

/// How long deletion waits for requests in flight to let go of the tenant before it
/// closes its database anyway: 3,000 × 10 ms.
const RELEASE_POLLS: u32 = 3_000;

/// Waits until nothing but `t` itself holds the tenant (requests in flight finished),
/// then checkpoints and closes its database.
fn close(t: Arc<Tenant>) {
    for _ in 0..RELEASE_POLLS {
        if Arc::strong_count(&t) == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if Arc::strong_count(&t) > 1 {
        tracing::warn!(tenant = %t.schema_name, "requests still hold a deleted tenant; archiving it anyway");
    }
    if let Err(e) = t.db.checkpoint() {
        tracing::warn!(tenant = %t.schema_name, error = %e, "checkpoint before archiving failed");
    }
}

/// Deletes a tenant: stops routing to it (its host names become unknown hosts, free
/// for other tenants), lets requests in flight finish, closes its database, and moves
/// database and files to `deleted/<schema_name>-<time>/` with a manifest. Nothing is
/// dropped. `public` can never be deleted.
pub fn delete(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
) -> Result<DeletedTenant> {
    let tenants = &app.tenants;
    let made = (|| -> Result<DeletedTenant> {
        if schema_name == PUBLIC {
            return Err(refuse(
                ErrorCode::DefaultTenantUndeletable,
                "public is the default tenant (unknown host names are routed to it); it can never be deleted",
            ));
        }
        let row = find_row(tenants, schema_name)?;
        must_be_ready(&row, "deleted")?;
        let archive = tenant_archive::archive_path(schema_name, now);
        tenants.registry().write(|tx| {
            // Checked again inside the write: two deletions of one tenant meet here.
            let again = registry::find_tenant(tx, schema_name)?;
            if again.is_none_or(|r| r.state != TenantState::Ready) {
                return Err(refuse(
                    ErrorCode::TenantNotReady,
                    format!("tenant {schema_name} is being deleted already"),
                ));
            }
            let domains = tenant_archives::domains_of(tx, schema_name)?;
            tenant_archives::begin_deletion(tx, schema_name, &archive, now, &domains)?;
            Ok::<_, ServiceError>(())
        })?;
        if let Some(t) = tenants.forget(schema_name)? {
            close(t);
        }
        let found = tenants
            .registry()
            .read(|tx| tenant_archives::find(tx, schema_name))?
            .ok_or_else(|| ServiceError::unexpected("a deleting tenant has no archive"))?;
        tenant_archive::finish_deletion(tenants.data_dir(), tenants.registry(), &row, &found)?;
        Ok(DeletedTenant {
            archive: found.archive,
            tenant: ArchivedTenant {
                schema_name: row.schema_name,
                name: row.name,
                install_id: row.install_id,
                created_at: row.created_at,
                deleted_at: found.deleted_at,
                domains: found.domains,
            },
        })
    })();
    let details = outcome(&made, |d| {
        serde_json::json!({
            "outcome": "deleted",
            "archive": d.archive,
            "install_id": d.tenant.install_id,
            "domains": d.tenant.domains,
        })
    });
    record(
        tenants,
        now,
        actor,
        "tenant.delete",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    made
}

/// Restores a deleted tenant from its archive: checks the manifest's checksums, moves
/// database and files back, routes its host names again (those another tenant took
/// meanwhile stay with it: listed in `domains_not_restored`), and opens it.
pub fn restore(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
) -> Result<RestoredTenant> {
    let tenants = &app.tenants;
    let made = (|| -> Result<RestoredTenant> {
        let row = find_row(tenants, schema_name)?;
        let archive = tenants
            .registry()
            .read(|tx| tenant_archives::find(tx, schema_name))?;
        let archive = match archive {
            Some(a) if row.state == TenantState::Deleted => a,
            _ => {
                return Err(refuse(
                    ErrorCode::TenantNotDeleted,
                    format!(
                        "tenant {schema_name} is {}: only a deleted tenant can be restored",
                        row.state.as_str()
                    ),
                ));
            }
        };
        tenant_archive::check_restorable(tenants.data_dir(), &row, &archive)?;
        tenants
            .registry()
            .write(|tx| registry::set_state(tx, schema_name, TenantState::Restoring, None))?;
        let skipped = tenant_archive::finish_restoring(
            tenants.data_dir(),
            tenants.registry(),
            &archive,
            now,
        )?;
        tenants.reopen(schema_name)?;
        Ok(RestoredTenant {
            tenant: tenancy::show_row(tenants, schema_name)?,
            domains_not_restored: skipped,
        })
    })();
    let details = outcome(&made, |r| {
        serde_json::json!({
            "outcome": "restored",
            "domains": r.tenant.domains,
            "domains_not_restored": r.domains_not_restored,
        })
    });
    record(
        tenants,
        now,
        actor,
        "tenant.restore",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    made
}

/// Restores a tenant from an archive directory outside the data directory (`licd
/// tenant restore --archive DIR`): one whose row was purged here, or one deleted on
/// another server (moving a tenant). The archive is checked, its tenant must not be in
/// this registry (by schema_name or Install ID), it is copied into `deleted/`,
/// registered as `deleted`, then restored as usual.
pub fn restore_from_archive(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    dir: &std::path::Path,
) -> Result<RestoredTenant> {
    let tenants = &app.tenants;
    let adopted = (|| -> Result<String> {
        let m = tenant_archive::read_checked(dir)?;
        crate::domain::schema_name::check(&m.tenant.schema_name)?;
        let t = &m.tenant;
        let (row, holder) = tenants.registry().read(|tx| {
            Ok::<_, ServiceError>((
                registry::find_tenant(tx, &t.schema_name)?,
                tenant_archives::holder_of_install_id(tx, &t.install_id)?,
            ))
        })?;
        if let Some(r) = row {
            return Err(refuse(
                ErrorCode::SchemaNameTaken,
                format!(
                    "schema_name: tenant {} is in this registry ({}); restore it by its name, or purge it first",
                    r.schema_name,
                    r.state.as_str()
                ),
            ));
        }
        if let Some(h) = holder {
            return Err(refuse(
                ErrorCode::TenantArchiveInvalid,
                format!(
                    "Install ID {} belongs to tenant {h} here; an Install ID is never used twice",
                    t.install_id
                ),
            ));
        }
        let archive = tenant_archive::archive_path(&t.schema_name, t.deleted_at);
        let mut files: Vec<String> = m.files.entries.iter().map(|e| e.path.clone()).collect();
        files.push(super::backup::MANIFEST.to_owned());
        tenants.data_dir().copy_archive_in(dir, &archive, &files)?;
        let row = TenantRow {
            schema_name: t.schema_name.clone(),
            name: t.name.clone(),
            install_id: t.install_id.clone(),
            created_at: t.created_at,
            state: TenantState::Deleted,
            failure: None,
        };
        let found = tenant_archives::ArchiveRow {
            schema_name: t.schema_name.clone(),
            state: TenantState::Deleted,
            archive,
            deleted_at: t.deleted_at,
            domains: t.domains.clone(),
        };
        tenants
            .registry()
            .write(|tx| tenant_archives::insert_archived(tx, &row, &found))?;
        Ok(t.schema_name.clone())
    })();
    let details = outcome(
        &adopted,
        |schema| serde_json::json!({ "outcome": "adopted", "schema_name": schema, "from": dir.display().to_string() }),
    );
    let target = match &adopted {
        Ok(schema) => format!("tenant:{schema}"),
        Err(_) => format!("archive:{}", dir.display()),
    };
    record(
        tenants,
        now,
        actor,
        "tenant.adopt_archive",
        &target,
        details,
    )?;
    restore(app, now, actor, &adopted?)
}

/// Removes the archives of tenants deleted at least `older_than_days` days before
/// `now`, and their registry rows: their schema_names are free again. Each removal is
/// recorded (with the Install ID) in the registry chain. Idempotent: an archive already
/// gone is not an error.
pub fn purge(
    tenants: &Tenants,
    now: DateTime<Utc>,
    actor: &Actor,
    older_than_days: u32,
) -> Result<Vec<PurgedTenant>> {
    let cutoff = now - chrono::Duration::days(i64::from(older_than_days));
    let (archives, rows) = tenants.registry().read(|tx| {
        Ok::<_, ServiceError>((tenant_archives::list(tx)?, registry::list_tenants(tx)?))
    })?;
    let mut purged = Vec::new();
    for a in archives.into_iter().filter(|a| a.deleted_at <= cutoff) {
        let Some(row) = rows
            .iter()
            .find(|r| r.schema_name == a.schema_name && r.state == TenantState::Deleted)
        else {
            continue;
        };
        tenants.data_dir().remove_archive(&a.archive)?;
        tenants
            .registry()
            .write(|tx| registry::delete_tenant(tx, &a.schema_name))?;
        let p = PurgedTenant {
            schema_name: a.schema_name,
            install_id: row.install_id.clone(),
            archive: a.archive,
            deleted_at: a.deleted_at,
        };
        record(
            tenants,
            now,
            actor,
            "tenant.purge",
            &format!("tenant:{}", p.schema_name),
            serde_json::json!({
                "outcome": "purged",
                "install_id": p.install_id,
                "archive": p.archive,
                "deleted_at": p.deleted_at,
            }),
        )?;
        purged.push(p);
    }
    Ok(purged)
}
