//! What a lease tells the appliance to do. The lease store applies `lock`, `unlock` and
//! `message` itself when it accepts the lease (each once, by directive id); this file
//! does the rest: `install_key` (a renewed key: verified against licd's keys, the
//! Install ID and the license, then written over the key file, the old one kept as
//! `.previous` until the new one verifies) and saying what changed, for the log.

use super::key_file;
use chrono::{DateTime, Utc};
use licd_client::formats::LeaseClaims;
use licd_client::keys::PublicKey;
use licd_client::store::{LeaseStore, StoreState};
use licd_client::verify::verify_license;
use std::path::Path;

/// What applying a lease's directives did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// One line per change.
    pub changes: Vec<String>,
    /// One line per directive that could not be applied.
    pub failures: Vec<String>,
}

/// What the store said before a lease was accepted, to tell what its directives changed.
#[derive(Debug, Clone)]
pub struct Before {
    locked: Option<String>,
    messages: usize,
    last_message: Option<(Option<i64>, String)>,
}

impl Before {
    /// Notes the store's lock and messages.
    pub fn of(state: &StoreState) -> Before {
        Before {
            locked: state.locked_by_directive.clone(),
            messages: state.messages.len(),
            last_message: state.messages.last().map(|m| (m.id, m.text.clone())),
        }
    }
}

/// Installs the keys of `lease`'s `install_key` directives and says what the store's own
/// handling of `lock`, `unlock` and `message` changed since `before`.
pub fn apply(
    store: &mut LeaseStore,
    before: &Before,
    lease: &LeaseClaims,
    keys: &[PublicKey],
    key_path: &Path,
    now: DateTime<Utc>,
) -> Applied {
    let mut applied = Applied::default();
    let state = store.state();
    if state.locked_by_directive != before.locked {
        applied.changes.push(match &state.locked_by_directive {
            Some(why) => format!("locked by licd: {why}"),
            None => "unlocked by licd".into(),
        });
    }
    let last = state.messages.last().map(|m| (m.id, m.text.clone()));
    if (state.messages.len() != before.messages || last != before.last_message)
        && let Some((_, text)) = last
    {
        applied.changes.push(format!("message from licd: {text}"));
    }
    for d in lease.directives.iter().filter(|d| d.kind == "install_key") {
        let Some(new_key) = d.license_key.as_deref().map(str::trim) else {
            applied
                .failures
                .push("an install_key directive without a key was ignored".into());
            continue;
        };
        match install_key(store, new_key, keys, key_path, now) {
            Ok(true) => applied.changes.push(format!(
                "installed a renewed license key in {}",
                key_path.display()
            )),
            Ok(false) => {}
            Err(e) => applied.failures.push(e),
        }
    }
    applied
}

/// Installs `new_key` unless it is the key in force; false when it already was.
pub fn install_key(
    store: &mut LeaseStore,
    new_key: &str,
    keys: &[PublicKey],
    key_path: &Path,
    now: DateTime<Utc>,
) -> Result<bool, String> {
    if store.state().license_key.as_deref() == Some(new_key)
        && key_file::read(key_path).ok().as_deref() == Some(new_key)
    {
        return Ok(false);
    }
    let install_id = store.state().install_id.clone().unwrap_or_default();
    let license_id = store.state().license_id.clone().unwrap_or_default();
    let verify = |token: &str| -> Result<(), String> {
        let claims =
            verify_license(token, keys, Some(&install_id), now).map_err(|e| e.to_string())?;
        if claims.jti != license_id {
            return Err(format!(
                "the key is for license {}, this box runs {license_id}",
                claims.jti
            ));
        }
        Ok(())
    };
    key_file::install(key_path, new_key, verify)
        .map_err(|e| format!("the renewed license key was not installed: {e}"))?;
    store
        .install_license(new_key, keys, now)
        .map_err(|e| format!("the renewed license key was not installed: {e}"))?;
    Ok(true)
}
