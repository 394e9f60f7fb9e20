//! `[portal]`: the customer portal under `/portal/` (seed 000): how customers join, how
//! long invitations last, and the vendor's name and logo the portal shows.

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Who may create a customer account.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Signup {
    /// Only someone holding an invitation (the default).
    #[default]
    InviteOnly,
    /// Anyone, who must then verify their email address before anything else works.
    Open,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// `invite_only` (default) or `open`.
    pub signup: Signup,
    /// The product name the portal and its emails show (default `licd`).
    pub product_name: String,
    /// A PNG, SVG or JPEG shown beside the product name (at most 256 KiB).
    pub logo_file: Option<PathBuf>,
    /// How long an invitation link stays valid, in days (1 to 90; default 7).
    pub invitation_days: u32,
    /// How long a verification or password-reset link stays valid, in hours (1 to 168;
    /// default 24).
    pub link_hours: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            signup: Signup::InviteOnly,
            product_name: "licd".into(),
            logo_file: None,
            invitation_days: crate::domain::organization::DEFAULT_INVITATION_DAYS,
            link_hours: 24,
        }
    }
}

impl PortalConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        let name = self.product_name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return bad(
                "portal.product_name must be 1 to 60 characters without control characters",
            );
        }
        if !(1..=90).contains(&self.invitation_days) {
            return bad("portal.invitation_days must be 1 to 90");
        }
        if !(1..=168).contains(&self.link_hours) {
            return bad("portal.link_hours must be 1 to 168");
        }
        if let Some(path) = &self.logo_file {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("png" | "svg" | "jpg" | "jpeg")) {
                return bad("portal.logo_file must be a .png, .svg, .jpg or .jpeg file");
            }
        }
        Ok(())
    }
}
