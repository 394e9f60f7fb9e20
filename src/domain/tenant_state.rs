//! Where a tenant is in its life (the registry's `tenants.state`): creation, service,
//! deletion to an archive, and restoring from it.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    /// Its database, signing key and files are being made.
    Creating,
    /// In service.
    Ready,
    /// Creation stopped half-way (`failure` says why); what it had made was removed.
    Failed,
    /// Being deleted: no longer routed; its database and files are being moved to its
    /// archive. A crash here is finished at the next start.
    Deleting,
    /// Deleted: its database and files are kept in its archive (`deleted/`), and its
    /// schema_name and Install ID stay taken until `licd tenant purge` removes both.
    Deleted,
    /// Being restored from its archive. A crash here is finished at the next start.
    Restoring,
}

impl TenantState {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Creating => "creating",
            TenantState::Ready => "ready",
            TenantState::Failed => "failed",
            TenantState::Deleting => "deleting",
            TenantState::Deleted => "deleted",
            TenantState::Restoring => "restoring",
        }
    }

    /// The state a stored name stands for.
    pub fn parse(s: &str) -> Option<TenantState> {
        [
            TenantState::Creating,
            TenantState::Ready,
            TenantState::Failed,
            TenantState::Deleting,
            TenantState::Deleted,
            TenantState::Restoring,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}
