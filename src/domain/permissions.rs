//! Roles and permissions: the one table that says who may do what. Later features add
//! rows here; handlers name the permission they need in their signature.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A staff role (seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Support,
    Onboarding,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::SuperAdmin, Role::Support, Role::Onboarding];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Support => "support",
            Role::Onboarding => "onboarding",
        }
    }

    /// Whether this role holds `permission`, by the table below.
    pub fn can(self, permission: Permission) -> bool {
        GRANTS
            .iter()
            .any(|(p, roles)| *p == permission && roles.contains(&self))
    }

    /// Every permission this role holds, in table order.
    pub fn permissions(self) -> Vec<Permission> {
        GRANTS
            .iter()
            .filter(|(_, roles)| roles.contains(&self))
            .map(|(p, _)| *p)
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}; expected super_admin, support or onboarding")
            })
    }
}

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    #[serde(rename = "license.read")]
    LicenseRead,
    #[serde(rename = "license.issue")]
    LicenseIssue,
    #[serde(rename = "license.revoke")]
    LicenseRevoke,
    #[serde(rename = "signing.manage")]
    SigningManage,
    #[serde(rename = "settings.manage")]
    SettingsManage,
    #[serde(rename = "users.manage")]
    UsersManage,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "orgs.manage")]
    OrgsManage,
    #[serde(rename = "billing.manage")]
    BillingManage,
    #[serde(rename = "sweep.run")]
    SweepRun,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::LicenseRead => "license.read",
            Permission::LicenseIssue => "license.issue",
            Permission::LicenseRevoke => "license.revoke",
            Permission::SigningManage => "signing.manage",
            Permission::SettingsManage => "settings.manage",
            Permission::UsersManage => "users.manage",
            Permission::AuditRead => "audit.read",
            Permission::OrgsManage => "orgs.manage",
            Permission::BillingManage => "billing.manage",
            Permission::SweepRun => "sweep.run",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Role::{Onboarding, SuperAdmin, Support};
use utoipa::ToSchema;

/// The permission table. Seed 002 fixes the first three licensing rows and
/// `signing.manage`; the rest are licd's choices (see README, "Roles").
pub const GRANTS: &[(Permission, &[Role])] = &[
    (Permission::LicenseRead, &[SuperAdmin, Support, Onboarding]),
    (Permission::LicenseIssue, &[SuperAdmin, Support, Onboarding]),
    (Permission::LicenseRevoke, &[SuperAdmin, Support]),
    (Permission::SigningManage, &[SuperAdmin]),
    (Permission::SettingsManage, &[SuperAdmin]),
    (Permission::UsersManage, &[SuperAdmin]),
    (Permission::AuditRead, &[SuperAdmin, Support]),
    (Permission::OrgsManage, &[SuperAdmin, Support, Onboarding]),
    (Permission::BillingManage, &[SuperAdmin, Support]),
    (Permission::SweepRun, &[SuperAdmin, Support]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_002_rows() {
        for r in Role::ALL {
            assert!(r.can(Permission::LicenseIssue), "{r} issues");
        }
        assert!(SuperAdmin.can(Permission::LicenseRevoke));
        assert!(Support.can(Permission::LicenseRevoke));
        assert!(!Onboarding.can(Permission::LicenseRevoke));
        assert!(SuperAdmin.can(Permission::SigningManage));
        assert!(!Support.can(Permission::SigningManage));
        assert!(!Onboarding.can(Permission::SigningManage));
    }

    #[test]
    fn every_permission_has_exactly_one_row_and_super_admin_holds_all() {
        for (i, (p, _)) in GRANTS.iter().enumerate() {
            assert!(GRANTS[i + 1..].iter().all(|(q, _)| q != p), "{p} twice");
            assert!(SuperAdmin.can(*p));
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
