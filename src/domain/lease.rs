//! Leases: the signed answer to an activation or heartbeat. An appliance may run
//! offline until `lease_expires_at`; `seq` and `prev` chain leases so it can detect
//! replay and clock rollback.

use super::lifecycle::LicenseState;
use super::violation::{Banner, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `typ` of a lease.
pub const LEASE_TYP: &str = "licd-lease+jwt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseDirective {
    /// The queued directive's id; absent for directives licd adds itself (lock on revoke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `lock`, `unlock`, `message` or `install_key`.
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub license_id: String,
    pub install_id: String,
    pub fingerprint: String,
    pub state: LicenseState,
    /// Violation stage of the installation.
    pub stage: Stage,
    /// Who should see a banner: `none`, `admins` or `everyone`.
    pub banner: Banner,
    /// Whether the appliance must run read-only.
    pub read_only: bool,
    pub lease_expires_at: DateTime<Utc>,
    pub server_time: DateTime<Utc>,
    pub seq: i64,
    /// Hash of the previous lease of this activation (`""` for the first).
    pub prev: String,
    pub heartbeat_interval_secs: u32,
    pub directives: Vec<LeaseDirective>,
}
