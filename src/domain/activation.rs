//! The values stored and shown about an appliance's activations and the directives
//! queued for them.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Why an activation stopped being current. What an appliance still holding it is told
/// depends on this: a replaced activation is refused, a rebound one is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupersededReason {
    /// The same box activated again; the newer activation replaced this one.
    Reactivated,
    /// Staff moved the license to other hardware.
    Rebind,
    /// The appliance gave the license up (offline deactivation: its release proof was
    /// uploaded); the license is free again.
    Released,
}

impl SupersededReason {
    pub const ALL: [SupersededReason; 3] = [
        SupersededReason::Reactivated,
        SupersededReason::Rebind,
        SupersededReason::Released,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SupersededReason::Reactivated => "reactivated",
            SupersededReason::Rebind => "rebind",
            SupersededReason::Released => "released",
        }
    }
}

impl fmt::Display for SupersededReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SupersededReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SupersededReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown superseded reason {s:?}"))
    }
}

/// What staff may queue for an appliance. (A lease's directives stay text on the
/// wire, `LeaseDirective::kind`, so appliances accept kinds added later.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectiveKind {
    /// Stop working until unlocked.
    Lock,
    Unlock,
    /// Show a message to the appliance's administrators.
    Message,
    /// Install a renewed (changed, reissued) license key: the lease carries it.
    InstallKey,
}

impl DirectiveKind {
    pub const ALL: [DirectiveKind; 4] = [
        DirectiveKind::Message,
        DirectiveKind::Lock,
        DirectiveKind::Unlock,
        DirectiveKind::InstallKey,
    ];

    /// What staff may queue by hand (`install_key` comes with a new key only).
    pub const STAFF: [DirectiveKind; 3] = [
        DirectiveKind::Message,
        DirectiveKind::Lock,
        DirectiveKind::Unlock,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DirectiveKind::Lock => "lock",
            DirectiveKind::Unlock => "unlock",
            DirectiveKind::Message => "message",
            DirectiveKind::InstallKey => "install_key",
        }
    }
}

impl FromStr for DirectiveKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DirectiveKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not one of message, lock, unlock"))
    }
}

/// Where a directive is in its life: waiting for a lease, sent (carried by a lease
/// its activation has not confirmed yet), acknowledged, or superseded (its activation
/// was replaced before confirming it; it is not delivered any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectiveStatus {
    Waiting,
    Sent,
    Acknowledged,
    Superseded,
}

impl DirectiveStatus {
    pub const ALL: [DirectiveStatus; 4] = [
        DirectiveStatus::Waiting,
        DirectiveStatus::Sent,
        DirectiveStatus::Acknowledged,
        DirectiveStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectiveStatus::Waiting => "waiting",
            DirectiveStatus::Sent => "sent",
            DirectiveStatus::Acknowledged => "acknowledged",
            DirectiveStatus::Superseded => "superseded",
        }
    }
}

impl FromStr for DirectiveStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DirectiveStatus::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown directive status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_match_the_api_names_and_parse_back() {
        for r in SupersededReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(r.as_str().parse::<SupersededReason>().unwrap(), r);
        }
        for d in DirectiveStatus::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
            assert_eq!(d.as_str().parse::<DirectiveStatus>().unwrap(), d);
        }
        for k in DirectiveKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(k.as_str().parse::<DirectiveKind>().unwrap(), k);
        }
        assert_eq!(
            crate::domain::fields::DIRECTIVE_KINDS,
            DirectiveKind::STAFF.map(DirectiveKind::as_str)
        );
        assert!("Rebind".parse::<SupersededReason>().is_err());
        assert!("revoked".parse::<SupersededReason>().is_err());
    }
}
