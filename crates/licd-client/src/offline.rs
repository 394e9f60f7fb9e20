//! The air gap: the files an appliance that never reaches licd writes and reads.
//!
//! The round trip: [`offline_request`] writes a request signed by the appliance key
//! (license, fingerprint, the appliance's public key, a nonce, the lease chain head);
//! staff upload it to licd, which answers with an offline response; [`import`] applies
//! it (once, on this box only, before its deadline). Later, licd's renewal and
//! revocation bundles and its acknowledgements of [`usage_report`]s are imported the
//! same way. [`release`] writes the proof that frees the license.
//!
//! Each function that changes the store saves it before returning, so a request whose
//! nonce is pending is never lost. An import is all or nothing: when one token of a
//! file is refused, the store is left as it was.
//!
//! ```
//! use licd_client::{formats::Transfer, keys::ApplianceKey, offline, store::LeaseStore};
//!
//! let dir = tempfile::tempdir()?;
//! let key = ApplianceKey::generate()?;
//! let mut store = LeaseStore::open(&dir.path().join("store.json"), &key)?;
//! let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//! // A file that is not licd's: refused with a message that says why.
//! let odd = Transfer::new("offline-response", "", vec!["not.a.token".into()]);
//! let err = offline::import(&mut store, &odd, &[], now).unwrap_err();
//! println!("{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod import;
mod report;

pub use import::{Imported, import};
pub use report::usage_report;

use crate::fingerprint::Fingerprint;
use crate::formats::{
    LicenseClaims, OFFLINE_REQUEST_TYP, OfflineRequestClaims, RELEASE_TYP, ReleaseClaims,
    TRANSFER_FORMAT, Transfer, UserCounts,
};
use crate::jose;
use crate::keys::ApplianceKey;
use crate::store::{LeaseStore, StoreError};
use crate::verify::VerifyError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use std::path::Path;

/// How many offline requests may wait for their response at once (older ones are
/// forgotten: their responses are then refused as not requested).
pub const PENDING_KEPT: usize = 16;

/// Why an air-gap file could not be written or applied.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The lease store could not be saved, or refused a lease or key.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A token could not be signed, or no randomness was available.
    #[error("could not sign: {0}")]
    Sign(String),
    /// Nothing to release or report: the appliance has no activation.
    #[error("this appliance has no activation")]
    NotActivated,
    /// The license key given has no Install ID in its audience.
    #[error("the license key names no Install ID (aud {0:?})")]
    NoInstallId(String),
    /// Not a transfer file (format, no tokens).
    #[error("not a licd transfer file: {0}")]
    Format(String),
    /// A well-formed token of a kind that is not imported on an appliance.
    #[error("a {typ} cannot be imported here")]
    CannotImport {
        /// The token's `typ`.
        typ: String,
    },
    /// A token does not verify against licd's keys, or names another installation.
    #[error("the {what} is not valid: {source}")]
    Invalid {
        /// What it was (`offline response`, `renewal bundle`, ...).
        what: &'static str,
        /// Why.
        source: VerifyError,
    },
    /// The file is for another appliance.
    #[error("this {what} is for another appliance (fingerprint {fingerprint})")]
    OtherAppliance {
        /// What it was.
        what: &'static str,
        /// The fingerprint it names.
        fingerprint: String,
    },
    /// The file is for another license than this appliance's.
    #[error("this {what} is for license {found}, not {expected}")]
    OtherLicense {
        /// What it was.
        what: &'static str,
        /// This appliance's license.
        expected: String,
        /// What the file names.
        found: String,
    },
    /// The response's nonce was used before.
    #[error("this response was already applied")]
    AlreadyApplied,
    /// The response answers no request this appliance has pending.
    #[error("this response was not requested by this appliance")]
    NotRequested,
    /// The response's deadline passed.
    #[error("this response had to be applied before {0}; ask for a new one")]
    ResponseExpired(DateTime<Utc>),
    /// A bundle not newer than one applied.
    #[error("bundle {seq} is older than bundle {applied} already applied")]
    OlderBundle {
        /// The bundle's seq.
        seq: i64,
        /// The highest applied.
        applied: i64,
    },
    /// A bundle that was already applied.
    #[error("bundle {0} was already applied")]
    BundleApplied(i64),
    /// An acknowledgement of a report this appliance did not write.
    #[error("this acknowledgement is for report {0}, which this appliance did not write")]
    UnknownReport(i64),
    /// A transfer file could not be read or written.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
}

impl OfflineError {
    /// A stable short name for the failure kind.
    pub fn kind(&self) -> &'static str {
        match self {
            OfflineError::Store(e) => e.kind(),
            OfflineError::Sign(_) => "sign",
            OfflineError::NotActivated => "not_activated",
            OfflineError::NoInstallId(_) => "no_install_id",
            OfflineError::Format(_) => "format",
            OfflineError::CannotImport { .. } => "cannot_import",
            OfflineError::Invalid { source, .. } => source.kind(),
            OfflineError::OtherAppliance { .. } => "other_appliance",
            OfflineError::OtherLicense { .. } => "other_license",
            OfflineError::AlreadyApplied => "already_applied",
            OfflineError::NotRequested => "not_requested",
            OfflineError::ResponseExpired(_) => "response_expired",
            OfflineError::OlderBundle { .. } => "older_bundle",
            OfflineError::BundleApplied(_) => "bundle_applied",
            OfflineError::UnknownReport(_) => "unknown_report",
            OfflineError::File { .. } => "file",
        }
    }
}

/// 16 random bytes, base64url.
pub(crate) fn new_nonce() -> Result<String, OfflineError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| OfflineError::Sign(format!("no randomness: {e}")))?;
    Ok(B64.encode(bytes))
}

pub(crate) fn sign<T: serde::Serialize>(
    key: &ApplianceKey,
    typ: &str,
    claims: &T,
) -> Result<String, OfflineError> {
    jose::sign(key, typ, claims).map_err(|e| OfflineError::Sign(e.to_string()))
}

/// Writes an offline activation request for the license whose key is `license` (its
/// claims, verified by the caller), for this box (`fingerprint`), signed by `key`.
/// The nonce is recorded as pending and the store saved.
pub fn offline_request(
    store: &mut LeaseStore,
    key: &ApplianceKey,
    license: &LicenseClaims,
    fingerprint: &Fingerprint,
    hostname: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Transfer, OfflineError> {
    let install_id = license
        .install_id()
        .ok_or_else(|| OfflineError::NoInstallId(license.aud.clone()))?
        .to_owned();
    let nonce = new_nonce()?;
    let claims = OfflineRequestClaims {
        license_id: license.jti.clone(),
        install_id: install_id.clone(),
        fingerprint: fingerprint.as_str().to_owned(),
        appliance_key: key.public_jwk(),
        nonce: nonce.clone(),
        iat: now.timestamp(),
        lease_head: store.state().chain_head(),
        hostname: hostname
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned),
    };
    let token = sign(key, OFFLINE_REQUEST_TYP, &claims)?;
    let state = store.state_mut();
    state.fingerprint = Some(fingerprint.as_str().to_owned());
    if state.license_id.is_none() {
        state.license_id = Some(license.jti.clone());
        state.install_id = Some(install_id);
    }
    state.pending_nonces.insert(nonce, now);
    while state.pending_nonces.len() > PENDING_KEPT {
        let oldest = state
            .pending_nonces
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(n, _)| n.clone());
        match oldest {
            Some(n) => state.pending_nonces.remove(&n),
            None => break,
        };
    }
    store.save(now)?;
    let summary = format!(
        "offline activation request for license {} from appliance {}",
        license.jti, fingerprint
    );
    Ok(Transfer::new("offline-request", &summary, vec![token]))
}

/// Writes the release proof (offline deactivation, with the final user counts) and
/// forgets the activation: the box stops being licensed, and the license is freed
/// when the proof is uploaded to licd. The store is saved.
pub fn release(
    store: &mut LeaseStore,
    key: &ApplianceKey,
    final_usage: UserCounts,
    now: DateTime<Utc>,
) -> Result<Transfer, OfflineError> {
    let state = store.state();
    let (Some(license_id), Some(install_id), Some(fingerprint)) =
        (&state.license_id, &state.install_id, &state.fingerprint)
    else {
        return Err(OfflineError::NotActivated);
    };
    if state.head.is_none() {
        return Err(OfflineError::NotActivated);
    }
    let claims = ReleaseClaims {
        license_id: license_id.clone(),
        install_id: install_id.clone(),
        fingerprint: fingerprint.clone(),
        nonce: new_nonce()?,
        iat: now.timestamp(),
        lease_head: state.chain_head(),
        final_usage,
    };
    let token = sign(key, RELEASE_TYP, &claims)?;
    store.forget_activation();
    store.save(now)?;
    let summary = format!(
        "release of license {} by appliance {}",
        claims.license_id, claims.fingerprint
    );
    Ok(Transfer::new("release", &summary, vec![token]))
}

/// Reads a transfer file (JSON), naming the problem when it is not one.
pub fn read_file(path: &Path) -> Result<Transfer, OfflineError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| OfflineError::File {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let file: Transfer = serde_json::from_slice(&bytes).map_err(|e| OfflineError::File {
        path: shown.clone(),
        why: format!("not a licd transfer file: {e}"),
    })?;
    if file.format != TRANSFER_FORMAT {
        return Err(OfflineError::File {
            path: shown,
            why: format!("format {:?} is not {TRANSFER_FORMAT}", file.format),
        });
    }
    Ok(file)
}

/// Writes a transfer file (pretty JSON), atomically.
pub fn write_file(path: &Path, file: &Transfer) -> Result<(), OfflineError> {
    let fail = |why: String| OfflineError::File {
        path: path.display().to_string(),
        why,
    };
    let mut bytes = serde_json::to_vec_pretty(file).map_err(|e| fail(e.to_string()))?;
    bytes.push(b'\n');
    crate::atomic_file::write(path, &bytes).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests;
