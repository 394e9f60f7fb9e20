//! Where a tenant is in its creation (the registry's `tenants.state`).

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
}

impl TenantState {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Creating => "creating",
            TenantState::Ready => "ready",
            TenantState::Failed => "failed",
        }
    }

    /// The state a stored name stands for.
    pub fn parse(s: &str) -> Option<TenantState> {
        [
            TenantState::Creating,
            TenantState::Ready,
            TenantState::Failed,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}
