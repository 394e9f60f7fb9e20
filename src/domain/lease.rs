//! Leases: the signed answer to an activation or heartbeat. An appliance may run
//! offline until `lease_expires_at`; `seq` and `prev` chain leases so it can detect
//! replay and clock rollback.

use super::lifecycle::LicenseState;
use super::violation::{Banner, Stage};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `typ` of a lease (the appliance side's wire format, defined in `licd-client`).
pub use licd_client::formats::LEASE_TYP;

/// How long a lock lease stays verifiable (its JWS `exp`), so that a JOSE library that
/// checks `exp` still reads it despite some clock skew. It grants no running time: its
/// `lease_expires_at` is its `server_time`.
pub const LOCK_LEASE_VERIFIABLE_SECS: i64 = 300;

/// Why a lease tells the appliance to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    /// The license was moved to other hardware: this activation is superseded.
    Rebound,
    Revoked,
    Expired,
    Suspended,
}

impl LockReason {
    /// The reason a license in `state` must stop, if it must.
    pub fn for_state(state: LicenseState) -> Option<LockReason> {
        match state {
            LicenseState::Revoked => Some(LockReason::Revoked),
            LicenseState::Expired => Some(LockReason::Expired),
            LicenseState::Suspended => Some(LockReason::Suspended),
            LicenseState::Issued | LicenseState::Active | LicenseState::Locked => None,
        }
    }

    /// The sentence the `lock` directive carries.
    pub fn message(self) -> &'static str {
        match self {
            LockReason::Rebound => "the license was moved to other hardware",
            LockReason::Revoked => "the license was revoked",
            LockReason::Expired => "the license has expired",
            LockReason::Suspended => "the license is suspended",
        }
    }
}

/// `(lease_expires_at, exp)` of a lease issued at `now`: a lease that lets the appliance
/// run grants the grace window; a lock lease grants nothing (`lease_expires_at = now`)
/// and stays verifiable for [`LOCK_LEASE_VERIFIABLE_SECS`].
pub fn lease_window(
    now: DateTime<Utc>,
    grace: Duration,
    lock: Option<LockReason>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    match lock {
        None => (now + grace, now + grace),
        Some(_) => (now, now + Duration::seconds(LOCK_LEASE_VERIFIABLE_SECS)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseDirective {
    /// The queued directive's id; absent for directives licd adds itself (lock on revoke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `lock`, `unlock`, `message` or `install_key`.
    pub kind: String,
    #[serde(default)]
    pub message: String,
    /// With `install_key`: the new license key (compact JWS, `typ=licd-license+jwt`)
    /// to install in place of the one the appliance holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    /// When this signed document stops verifying. The appliance's offline deadline is
    /// `lease_expires_at`, not this.
    pub exp: i64,
    pub license_id: String,
    pub install_id: String,
    pub fingerprint: String,
    /// What the appliance must do: run only while this is `active`. A lease to an
    /// activation that was superseded (the license moved to other hardware) says
    /// `locked`, whatever the license's own state is now.
    pub state: LicenseState,
    /// Present when the appliance must stop: `rebound`, `revoked`, `expired` or
    /// `suspended`. Such a lease grants no offline time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_reason: Option<LockReason>,
    /// Violation stage of the installation.
    pub stage: Stage,
    /// Who should see a banner: `none`, `admins` or `everyone`.
    pub banner: Banner,
    /// Whether the appliance must run read-only.
    pub read_only: bool,
    /// The appliance may run offline until then: now + the grace window, or, for a lease
    /// that locks (`lock_reason` present), `server_time` itself.
    pub lease_expires_at: DateTime<Utc>,
    pub server_time: DateTime<Utc>,
    pub seq: i64,
    /// Hash of the previous lease of this activation (`""` for the first).
    pub prev: String,
    pub heartbeat_interval_secs: u32,
    pub directives: Vec<LeaseDirective>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_lease_grants_no_time() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let grace = Duration::days(14);
        assert_eq!(lease_window(now, grace, None), (now + grace, now + grace));
        for reason in [
            LockReason::Rebound,
            LockReason::Revoked,
            LockReason::Expired,
            LockReason::Suspended,
        ] {
            let (until, exp) = lease_window(now, grace, Some(reason));
            assert_eq!(until, now, "{reason:?}");
            assert!(exp > now && exp - now <= Duration::minutes(5), "{reason:?}");
        }
    }

    #[test]
    fn only_stopping_states_have_a_lock_reason() {
        for s in LicenseState::ALL {
            assert_eq!(
                LockReason::for_state(s).is_some(),
                matches!(
                    s,
                    LicenseState::Revoked | LicenseState::Expired | LicenseState::Suspended
                ),
                "{s}"
            );
        }
    }
}
