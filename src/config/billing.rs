//! `[billing]`: how the vendor's own payment gateway (optional, for sites with one)
//! proves its payment confirmations (`POST /api/v1/billing/payments`, see
//! `pki::body_signature`). Offline payment, recorded by staff, needs nothing here.

use super::{ConfigError, group_or_world_readable};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The shortest gateway secret accepted.
pub const MIN_GATEWAY_SECRET_CHARS: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    /// A file of gateway secrets, one per line (`#` comments allowed; several while one
    /// is rotated), each at least 32 characters; it must not be readable by group or
    /// others. Unset: the gateway route answers 404 `gateway_disabled`.
    pub gateway_secret_file: Option<PathBuf>,
    /// How far a signature's time may be from licd's clock, in seconds (30 to 3600;
    /// default 300).
    pub replay_window_secs: u32,
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            gateway_secret_file: None,
            replay_window_secs: 300,
        }
    }
}

impl BillingConfig {
    /// The configured gateway secrets (none without `gateway_secret_file`), checked.
    pub fn gateway_secrets(&self) -> Result<Vec<String>, ConfigError> {
        let Some(path) = &self.gateway_secret_file else {
            return Ok(Vec::new());
        };
        let at = format!("billing.gateway_secret_file {}", path.display());
        if let Some(mode) = group_or_world_readable(path) {
            return Err(ConfigError::Invalid(format!(
                "{at} is readable by group or others (mode {mode:o}); make it 0600"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
        let mut secrets = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.chars().count() < MIN_GATEWAY_SECRET_CHARS {
                return Err(ConfigError::Invalid(format!(
                    "{at} line {}: a secret must be at least {MIN_GATEWAY_SECRET_CHARS} characters",
                    n + 1
                )));
            }
            secrets.push(line.to_owned());
        }
        if secrets.is_empty() {
            return Err(ConfigError::Invalid(format!("{at} holds no secret")));
        }
        Ok(secrets)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(30..=3600).contains(&self.replay_window_secs) {
            return Err(ConfigError::Invalid(
                "billing.replay_window_secs must be 30 to 3600".into(),
            ));
        }
        self.gateway_secrets().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file(dir: &std::path::Path, text: &str, mode: u32) -> PathBuf {
        let p = dir.join("gateway.secret");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn secrets_are_read_checked_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let long = "s".repeat(32);
        let mut c = BillingConfig {
            gateway_secret_file: Some(file(
                dir.path(),
                &format!("# old\n{long}\n\n{long}x\n"),
                0o600,
            )),
            ..BillingConfig::default()
        };
        assert_eq!(c.gateway_secrets().unwrap().len(), 2);
        c.validate().unwrap();
        c.gateway_secret_file = Some(file(dir.path(), &long, 0o644));
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("make it 0600")
        );
        c.gateway_secret_file = Some(file(dir.path(), "short\n", 0o600));
        assert!(c.validate().unwrap_err().to_string().contains("line 1"));
        c.gateway_secret_file = Some(file(dir.path(), "# nothing\n", 0o600));
        assert!(c.validate().unwrap_err().to_string().contains("no secret"));
        c.gateway_secret_file = None;
        assert!(c.gateway_secrets().unwrap().is_empty());
        c.replay_window_secs = 10;
        assert!(c.validate().is_err());
    }
}
