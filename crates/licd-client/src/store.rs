//! The lease store: the appliance's licensing state in one file, written atomically and
//! protected by a MAC keyed from the appliance's own key.
//!
//! The file is `{"version":1,"body":{...},"mac":"..."}` where `mac` is
//! base64url(HMAC-SHA256([`ApplianceKey::mac_key`], canonical body bytes)), the
//! canonical bytes being the body re-serialised compactly by `serde_json`. A file whose
//! MAC does not match is refused as [`StoreError::Tampered`], never silently accepted.
//! This makes edits *evident*: whoever can read the appliance key (root on the box) can
//! still forge a file.
//!
//! ```
//! use licd_client::{keys::ApplianceKey, store::{LeaseStore, StoreError}};
//! use licd_client::formats::UserCounts;
//!
//! let dir = tempfile::tempdir()?;
//! let key = ApplianceKey::generate()?;
//! let path = dir.path().join("lease-store.json");
//! let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//!
//! let mut store = LeaseStore::open(&path, &key)?; // a missing file is an empty store
//! store.record_usage(UserCounts { internal_users: 7, external_users: 1 }, now);
//! store.save(now)?;
//! assert_eq!(LeaseStore::open(&path, &key)?.state().daily_peaks.len(), 1);
//!
//! // Edited behind the store's back: refused.
//! let text = std::fs::read_to_string(&path)?.replace("\"internal_users\": 7", "\"internal_users\": 1");
//! std::fs::write(&path, text)?;
//! assert!(matches!(LeaseStore::open(&path, &key), Err(StoreError::Tampered { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chain;
mod state;

pub use state::{
    CHAIN_KEPT, DAILY_PEAKS_KEPT, HeldLease, MESSAGES_KEPT, Mode, NONCES_KEPT, ROLLBACKS_KEPT,
    StoreState, StoredMessage,
};

use crate::formats::{DailyPeak, LicenseClaims, UserCounts};
use crate::keys::{ApplianceKey, PublicKey};
use crate::verify::{VerifyError, verify_license};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
pub(crate) use state::keep_last;
use std::path::{Path, PathBuf};

/// The store file format version this crate writes and reads.
pub const STORE_VERSION: u32 = 1;

/// Why the store could not be read or written, or refused a lease.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("lease store {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a lease store (not JSON, or not the expected shape).
    #[error("lease store {path} is unreadable: {why}")]
    Unreadable {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The file's MAC does not match its content (edited, copied from another box, or
    /// written with another appliance key). The file is left in place as evidence; to
    /// start over, move it away: the appliance is then not activated and must be
    /// activated again (online, or with a new offline request).
    #[error(
        "lease store {path} was modified outside licd (its MAC does not match): it is not used"
    )]
    Tampered {
        /// The file.
        path: String,
    },
    /// Written by a newer version of this crate.
    #[error("lease store {path} has version {version}; this build reads version {STORE_VERSION}")]
    UnsupportedVersion {
        /// The file.
        path: String,
        /// Its version.
        version: u32,
    },
    /// The state could not be encoded (should not happen).
    #[error("lease store: encoding failed: {0}")]
    Encode(String),
    /// A lease or key arrived but the store has no activation to check it against.
    #[error("no activation: the store does not know this appliance's license yet")]
    NotActivated,
    /// The lease or license key does not verify.
    #[error("{0}")]
    Verify(#[from] VerifyError),
    /// The lease is for another license than the activation's.
    #[error("the lease is for license {found}, not {expected}")]
    WrongLicense {
        /// The activation's license.
        expected: String,
        /// The lease's.
        found: String,
    },
    /// The lease is not newer than the one held (a replay).
    #[error("lease {seq} is not newer than lease {head_seq} already held (a replay)")]
    Replay {
        /// The lease's seq.
        seq: i64,
        /// The seq held.
        head_seq: i64,
    },
    /// The lease was signed before the lease held (a replay of an older lease).
    #[error(
        "lease {seq} was signed at {iat}, before lease {head_seq} already held ({head_iat}): refused as a replay"
    )]
    OlderThanHead {
        /// The lease's seq.
        seq: i64,
        /// Its `iat`.
        iat: DateTime<Utc>,
        /// The seq held.
        head_seq: i64,
        /// Its `iat`.
        head_iat: DateTime<Utc>,
    },
    /// Leases are missing between the one held and this one. Online, re-activating
    /// starts a new chain (seq 1); offline, licd's next bundle does.
    #[error("lease {seq} does not follow lease {head_seq} held (leases in between are missing)")]
    ChainGap {
        /// The lease's seq.
        seq: i64,
        /// The seq held (0: none).
        head_seq: i64,
    },
    /// The lease's `prev` is not the chain hash of the lease held.
    #[error(
        "lease {seq} does not chain to the lease held (its prev is not lease {head_seq}'s hash)"
    )]
    ChainBroken {
        /// The lease's seq.
        seq: i64,
        /// The seq held.
        head_seq: i64,
    },
}

impl StoreError {
    /// A stable short name for the failure kind.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "io",
            StoreError::Unreadable { .. } => "unreadable",
            StoreError::Tampered { .. } => "tampered",
            StoreError::UnsupportedVersion { .. } => "unsupported_version",
            StoreError::Encode(_) => "encode",
            StoreError::NotActivated => "not_activated",
            StoreError::Verify(e) => e.kind(),
            StoreError::WrongLicense { .. } => "wrong_license",
            StoreError::Replay { .. } => "replay",
            StoreError::OlderThanHead { .. } => "older_than_head",
            StoreError::ChainGap { .. } => "chain_gap",
            StoreError::ChainBroken { .. } => "chain_broken",
        }
    }
}

/// The file as written.
#[derive(Serialize, Deserialize)]
struct Envelope {
    version: u32,
    body: serde_json::Value,
    mac: String,
}

/// What a new activation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// The license.
    pub license_id: String,
    /// Its Install ID.
    pub install_id: String,
    /// The fingerprint licd bound.
    pub fingerprint: String,
    /// The activation secret (online), none offline.
    pub activation_secret: Option<String>,
    /// Online or offline.
    pub mode: Mode,
}

/// The lease store: open it, change it through its methods, [`save`](Self::save) it.
#[derive(Debug)]
pub struct LeaseStore {
    path: PathBuf,
    mac_key: [u8; 32],
    state: StoreState,
}

fn mac_of(mac_key: &[u8; 32], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac
}

impl LeaseStore {
    /// Opens the store at `path` with the MAC key of `key`. A missing file is an empty
    /// store; a file whose MAC does not match is [`StoreError::Tampered`].
    pub fn open(path: &Path, key: &ApplianceKey) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let mac_key = key.mac_key();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LeaseStore {
                    path: path.to_owned(),
                    mac_key,
                    state: StoreState::default(),
                });
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: shown,
                    source,
                });
            }
        };
        let envelope: Envelope =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Unreadable {
                path: shown.clone(),
                why: e.to_string(),
            })?;
        if envelope.version != STORE_VERSION {
            return Err(StoreError::UnsupportedVersion {
                path: shown,
                version: envelope.version,
            });
        }
        let canonical =
            serde_json::to_vec(&envelope.body).map_err(|e| StoreError::Encode(e.to_string()))?;
        let tag = B64.decode(envelope.mac.as_bytes()).unwrap_or_default();
        if mac_of(&mac_key, &canonical).verify_slice(&tag).is_err() {
            return Err(StoreError::Tampered { path: shown });
        }
        let state = serde_json::from_value(envelope.body).map_err(|e| StoreError::Unreadable {
            path: shown,
            why: format!("body: {e}"),
        })?;
        Ok(LeaseStore {
            path: path.to_owned(),
            mac_key,
            state,
        })
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state.
    pub fn state(&self) -> &StoreState {
        &self.state
    }

    /// The state, to change directly (then [`save`](Self::save)).
    pub fn state_mut(&mut self) -> &mut StoreState {
        &mut self.state
    }

    /// Writes the store atomically (`path.tmp`, fsync, rename, fsync of the directory),
    /// mode 0600. `last_written` becomes `now` unless it was later already (a clock set
    /// back does not erase what the file knew). On failure the old file is untouched.
    pub fn save(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        if self.state.last_written.is_none_or(|t| t < now) {
            self.state.last_written = Some(now);
        }
        let body =
            serde_json::to_value(&self.state).map_err(|e| StoreError::Encode(e.to_string()))?;
        let canonical = serde_json::to_vec(&body).map_err(|e| StoreError::Encode(e.to_string()))?;
        let mac = B64.encode(mac_of(&self.mac_key, &canonical).finalize().into_bytes());
        let envelope = Envelope {
            version: STORE_VERSION,
            body,
            mac,
        };
        let bytes =
            serde_json::to_vec_pretty(&envelope).map_err(|e| StoreError::Encode(e.to_string()))?;
        crate::atomic_file::write(&self.path, &bytes).map_err(|source| StoreError::Io {
            path: self.path.display().to_string(),
            source,
        })
    }

    /// Starts a new activation (online after `activate`, offline from a response file):
    /// records the license, Install ID, fingerprint, secret and mode. The lease chain
    /// held stays: the activation's first lease (seq 1, `prev` `""`) starts a new one
    /// if it is not older than the lease held.
    pub fn begin_activation(&mut self, activation: Activation, now: DateTime<Utc>) {
        let s = &mut self.state;
        s.license_id = Some(activation.license_id);
        s.install_id = Some(activation.install_id);
        s.fingerprint = Some(activation.fingerprint);
        s.activation_secret = activation.activation_secret;
        s.mode = activation.mode;
        s.activated_at = Some(now);
    }

    /// Forgets the activation (after a release): the license, secret, lease and chain
    /// go; what guards against replays (used nonces, bundle and report sequences, the
    /// clock high-water marks) and a revocation stay.
    pub fn forget_activation(&mut self) {
        let s = &mut self.state;
        s.license_id = None;
        s.install_id = None;
        s.activation_secret = None;
        s.activated_at = None;
        s.mode = Mode::Online;
        s.head = None;
        s.chain.clear();
        s.pending_nonces.clear();
        s.locked_by_directive = None;
        s.license_key = None;
        s.license = None;
    }

    /// Verifies a license key for this installation (signature, `typ`, `aud`, `nbf`,
    /// `exp` at `now`) and installs it.
    pub fn install_license(
        &mut self,
        token: &str,
        keys: &[PublicKey],
        now: DateTime<Utc>,
    ) -> Result<LicenseClaims, StoreError> {
        let install_id = self
            .state
            .install_id
            .as_deref()
            .ok_or(StoreError::NotActivated)?;
        let claims = verify_license(token, keys, Some(install_id), now)?;
        if let Some(expected) = &self.state.license_id
            && &claims.jti != expected
        {
            return Err(StoreError::WrongLicense {
                expected: expected.clone(),
                found: claims.jti,
            });
        }
        self.state.license_key = Some(token.trim().to_owned());
        self.state.license = Some(claims.clone());
        Ok(claims)
    }

    /// Notes a successful contact with licd at `now` (a heartbeat or activation
    /// answered).
    pub fn record_contact(&mut self, now: DateTime<Utc>) {
        self.state.last_contact = Some(now);
    }

    /// Records user counts seen at `now` into that day's (UTC) peaks.
    pub fn record_usage(&mut self, counts: UserCounts, now: DateTime<Utc>) {
        let date = now.date_naive().to_string();
        let peaks = &mut self.state.daily_peaks;
        match peaks.iter_mut().rev().find(|p| p.date == date) {
            Some(p) => {
                p.internal_users = p.internal_users.max(counts.internal_users);
                p.external_users = p.external_users.max(counts.external_users);
            }
            None => {
                peaks.push(DailyPeak {
                    date,
                    internal_users: counts.internal_users,
                    external_users: counts.external_users,
                });
                peaks.sort_by(|a, b| a.date.cmp(&b.date));
                keep_last(peaks, DAILY_PEAKS_KEPT);
            }
        }
    }
}

#[cfg(test)]
mod tests;
