//! Rules for customer organizations (seed 000): the two roles, what an organization's
//! name and notification address look like, and the last-owner rule.

use super::DomainError;
use super::free_text;
use super::staff::normalize_email;
use std::fmt;
use std::str::FromStr;

/// A customer's role in an organization (seed 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// Views the organization and its licenses, keys included.
    Member,
    /// Also invites and removes members, changes roles, edits the organization (and,
    /// with billing, purchases and renews).
    Owner,
}

impl OrgRole {
    pub const ALL: [OrgRole; 2] = [OrgRole::Member, OrgRole::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Member => "member",
            OrgRole::Owner => "owner",
        }
    }

    /// Whether this role may manage the organization (members, invitations, details).
    pub fn manages(self) -> bool {
        self == OrgRole::Owner
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgRole {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        OrgRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::invalid("role", format!("{s:?} is not owner or member")))
    }
}

/// The longest organization name.
pub const MAX_NAME_CHARS: usize = 120;

/// An organization's checked name and notification address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDetails {
    pub name: String,
    pub notification_email: String,
}

/// Checks what a person typed for an organization.
pub fn check_details(name: &str, notification_email: &str) -> Result<OrgDetails, DomainError> {
    let name = free_text::line("name", name, MAX_NAME_CHARS, true)?;
    let notification_email = normalize_email(notification_email)
        .map_err(|_| DomainError::invalid("notification_email", "is not an email address"))?;
    Ok(OrgDetails {
        name,
        notification_email,
    })
}

/// Whether a change that takes `owners_removed` owners away leaves the organization
/// without an owner (refused: the last owner cannot be removed, demoted or leave).
pub fn leaves_no_owner(owners: i64, owners_removed: i64) -> bool {
    owners - owners_removed < 1
}

/// Days an invitation stays valid unless `portal.invitation_days` says otherwise.
pub const DEFAULT_INVITATION_DAYS: u32 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_only_owners_manage() {
        for r in OrgRole::ALL {
            assert_eq!(r.as_str().parse::<OrgRole>().unwrap(), r);
        }
        assert!("admin".parse::<OrgRole>().is_err());
        assert!(OrgRole::Owner.manages());
        assert!(!OrgRole::Member.manages());
    }

    #[test]
    fn details_are_trimmed_and_checked() {
        let d = check_details("  Acme Ltd ", " Ops@Acme.Example ").unwrap();
        assert_eq!(d.name, "Acme Ltd");
        assert_eq!(d.notification_email, "ops@acme.example");
        assert!(check_details("", "ops@acme.example").is_err());
        assert!(check_details("Acme\u{202E}", "ops@acme.example").is_err());
        let e = check_details("Acme", "not-an-address").unwrap_err();
        assert!(e.to_string().starts_with("notification_email:"), "{e}");
    }

    #[test]
    fn the_last_owner_stays() {
        assert!(leaves_no_owner(1, 1));
        assert!(!leaves_no_owner(2, 1));
        assert!(!leaves_no_owner(1, 0));
    }
}
