//! A deleted tenant's archive: `deleted/<schema_name>-<time>/` holds its database and
//! files (moved, not copied) and a manifest in the backup's format (`backup.rs`: every
//! file's size and SHA-256, so `licd backup --verify <archive>` checks one too) with the
//! tenant's registry row beside it. Deleting and restoring are states in the registry
//! (`deleting`, `restoring`); each step here is idempotent, so a crash half-way is
//! finished by `recover` at the next start. The use cases (with audit) are
//! `tenant_lifecycle.rs`.

use super::backup::{self, BackupError, Manifest};
use super::{Result, ServiceError, refuse};
use crate::error::ErrorCode;
use crate::store::db::Db;
use crate::store::layout::DataDir;
use crate::store::registry::{self, TenantRow, TenantState};
use crate::store::tenant_archives::{self, ArchiveRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The registry row of a deleted tenant, as its archive's manifest keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchivedTenant {
    pub schema_name: String,
    pub name: String,
    pub install_id: String,
    pub created_at: DateTime<Utc>,
    pub deleted_at: DateTime<Utc>,
    /// The host names routed to it when it was deleted.
    pub domains: Vec<String>,
}

/// An archive's `manifest.json`: a backup manifest of its files, and the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveManifest {
    #[serde(flatten)]
    pub files: Manifest,
    pub tenant: ArchivedTenant,
}

/// The archive directory's name for a tenant deleted at `at` (to the millisecond, so
/// deleting, restoring and deleting again never meet an old directory).
pub fn archive_path(schema_name: &str, at: DateTime<Utc>) -> String {
    format!(
        "{}/{schema_name}-{}",
        crate::store::archive_files::DELETED,
        at.format("%Y%m%dT%H%M%S%3fZ")
    )
}

fn archive_error(e: BackupError) -> ServiceError {
    refuse(
        ErrorCode::TenantArchiveInvalid,
        format!("the tenant's archive cannot be used: {e}"),
    )
}

/// Moves a `deleting` tenant's (closed) database and files into its archive, writes
/// the manifest and marks it `deleted`. Idempotent.
pub(super) fn finish_deletion(
    data: &DataDir,
    registry: &Db,
    row: &TenantRow,
    archive: &ArchiveRow,
) -> Result<()> {
    data.move_tenant_to_archive(&row.schema_name, &archive.archive)?;
    let dir = data.archive_dir(&archive.archive);
    let files = backup::manifest_of(&dir, &data.root().display().to_string(), archive.deleted_at)
        .map_err(|e| ServiceError::internal("describing a tenant's archive", e))?;
    let manifest = ArchiveManifest {
        files,
        tenant: ArchivedTenant {
            schema_name: row.schema_name.clone(),
            name: row.name.clone(),
            install_id: row.install_id.clone(),
            created_at: row.created_at,
            deleted_at: archive.deleted_at,
            domains: archive.domains.clone(),
        },
    };
    backup::write_manifest(&dir, &manifest)
        .map_err(|e| ServiceError::internal("writing a tenant's archive manifest", e))?;
    registry.write(|tx| registry::set_state(tx, &row.schema_name, TenantState::Deleted, None))?;
    Ok(())
}

/// Checks a deleted tenant's archive before restoring it: the manifest is there and
/// every file matches its checksum (and nothing else is there), it is this tenant's
/// (same schema_name and Install ID), and nothing is in the way in the data directory.
pub(super) fn check_restorable(
    data: &DataDir,
    row: &TenantRow,
    archive: &ArchiveRow,
) -> Result<ArchiveManifest> {
    let dir = data.archive_dir(&archive.archive);
    let m = read_checked(&dir)?;
    if m.tenant.schema_name != row.schema_name || m.tenant.install_id != row.install_id {
        return Err(refuse(
            ErrorCode::TenantArchiveInvalid,
            format!(
                "{} holds tenant {} (Install ID {}), not {} (Install ID {})",
                dir.display(),
                m.tenant.schema_name,
                m.tenant.install_id,
                row.schema_name,
                row.install_id
            ),
        ));
    }
    if data.tenant_data_present(&row.schema_name) {
        return Err(refuse(
            ErrorCode::TenantArchiveInvalid,
            format!(
                "a database or files directory of {} is in the data directory already; move it away first",
                row.schema_name
            ),
        ));
    }
    Ok(m)
}

/// Reads an archive's manifest after checking every file against it (sizes,
/// checksums, databases' quick_check, nothing unlisted).
pub(super) fn read_checked(dir: &std::path::Path) -> Result<ArchiveManifest> {
    backup::verify(dir, &backup::Quiet).map_err(archive_error)?;
    let path = dir.join(backup::MANIFEST);
    let text = std::fs::read(&path).map_err(|e| {
        archive_error(BackupError::File {
            path: path.clone(),
            why: e.to_string(),
        })
    })?;
    serde_json::from_slice(&text)
        .map_err(|e| archive_error(BackupError::Corrupt(format!("{}: {e}", path.display()))))
}

/// Moves a `restoring` tenant's database and files back, routes its host names again
/// (those no other tenant took meanwhile), marks it `ready` and removes the emptied
/// archive. Returns the host names it did not get back. Idempotent.
pub(super) fn finish_restoring(
    data: &DataDir,
    registry: &Db,
    archive: &ArchiveRow,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    data.move_tenant_from_archive(&archive.schema_name, &archive.archive)?;
    let skipped = registry.write(|tx| {
        tenant_archives::finish_restoring(tx, &archive.schema_name, &archive.domains, now)
    })?;
    data.remove_archive(&archive.archive)?;
    Ok(skipped)
}

/// At startup: finishes a deletion or a restoring that a stop cut short (both go
/// forward: every step can be done again), updating `row.state`.
pub(super) fn recover(
    data: &DataDir,
    registry: &Db,
    row: &mut TenantRow,
    now: DateTime<Utc>,
) -> Result<()> {
    if !matches!(row.state, TenantState::Deleting | TenantState::Restoring) {
        return Ok(());
    }
    let Some(archive) = registry.read(|tx| tenant_archives::find(tx, &row.schema_name))? else {
        return Err(ServiceError::unexpected(format!(
            "tenant {} is {} but has no archive recorded",
            row.schema_name,
            row.state.as_str()
        )));
    };
    if row.state == TenantState::Deleting {
        finish_deletion(data, registry, row, &archive)?;
        tracing::warn!(tenant = %row.schema_name, archive = %archive.archive, "finished deleting a tenant that licd stopped deleting half-way");
        row.state = TenantState::Deleted;
    } else {
        let skipped = finish_restoring(data, registry, &archive, now)?;
        tracing::warn!(tenant = %row.schema_name, ?skipped, "finished restoring a tenant that licd stopped restoring half-way");
        row.state = TenantState::Ready;
    }
    Ok(())
}
