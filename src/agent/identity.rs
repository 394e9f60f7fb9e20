//! Who this appliance is and whom it trusts: its own key (made at first run in the
//! state directory), its fingerprint, its host name, licd's public keys (the JWKS) and
//! the license key file.

use super::config::AgentConfig;
use super::files::{ensure_dir, write_atomic};
use anyhow::{Context, Result, bail};
use licd_client::fingerprint::Fingerprint;
use licd_client::formats::Jwks;
use licd_client::keys::{ApplianceKey, PublicKey, public_keys};

/// The appliance's identity.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The appliance key (signs air-gap files, keys the lease store's MAC).
    pub key: ApplianceKey,
    /// The fingerprint licd binds the license to.
    pub fingerprint: String,
    /// The same, as the client crate's type.
    pub fingerprint_value: Fingerprint,
    /// The host name reported to licd.
    pub hostname: Option<String>,
}

impl Identity {
    /// Makes the state directory (0700) when missing, loads or makes the appliance key,
    /// and computes the fingerprint.
    pub fn load(config: &AgentConfig) -> Result<Identity> {
        ensure_dir(&config.state_dir, 0o700)
            .with_context(|| format!("state_dir {}", config.state_dir.display()))?;
        let key = ApplianceKey::load_or_generate(&config.appliance_key_path())
            .context("the appliance key")?;
        let fingerprint = match &config.fingerprint {
            Some(explicit) => Fingerprint::explicit(explicit),
            None => Fingerprint::from_machine_id(&config.product_id),
        }
        .context("the fingerprint")?;
        let hostname = config.hostname.clone().or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        });
        Ok(Identity {
            key,
            fingerprint: fingerprint.as_str().to_owned(),
            fingerprint_value: fingerprint,
            hostname,
        })
    }
}

/// licd's public keys: `jwks_file` when set (pinned), else the copy fetched from licd.
pub fn load_jwks(config: &AgentConfig) -> Result<Option<Jwks>> {
    let path = match &config.jwks_file {
        Some(p) => p.clone(),
        None => config.cached_jwks_path(),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!("{} is not a JWKS (licd keys export)", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config.jwks_file.is_none() => {
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("jwks_file {}", path.display())),
    }
}

/// Keeps the JWKS fetched from licd in the state directory.
pub fn save_fetched_jwks(config: &AgentConfig, jwks: &Jwks) -> Result<()> {
    let text = serde_json::to_string_pretty(jwks)?;
    write_atomic(&config.cached_jwks_path(), text.as_bytes(), 0o600)
        .with_context(|| format!("writing {}", config.cached_jwks_path().display()))
}

/// The keys of a JWKS; an empty set is an error naming where it came from.
pub fn keys_of(jwks: &Jwks, from: &str) -> Result<Vec<PublicKey>> {
    let keys = public_keys(jwks);
    if keys.is_empty() {
        bail!("{from} holds no usable P-256 key");
    }
    Ok(keys)
}
