//! Applying the files licd writes for an air-gapped appliance.

use super::OfflineError;
use crate::formats::{
    OFFLINE_RESPONSE_TYP, OfflineResponseClaims, RENEWAL_TYP, REVOCATION_TYP, RenewalClaims,
    RevocationClaims, TRANSFER_FORMAT, Transfer, USAGE_ACK_TYP, UsageAckClaims,
};
use crate::jose;
use crate::keys::PublicKey;
use crate::store::{Activation, LeaseStore, Mode, NONCES_KEPT, StoreState};
use crate::verify::{VerifyError, check_audience, verify_license};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What one token of an imported file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Imported {
    /// An offline response: the appliance is activated offline.
    OfflineActivation {
        /// The license.
        license_id: String,
        /// The lease's seq.
        lease_seq: i64,
        /// Until when the box may run without another file.
        lease_expires_at: DateTime<Utc>,
    },
    /// A renewal bundle: a renewed key and a fresh lease.
    Renewal {
        /// The bundle's seq.
        bundle_seq: i64,
        /// The lease's seq.
        lease_seq: i64,
        /// Until when the box may run without another file.
        lease_expires_at: DateTime<Utc>,
        /// When the license key installed expires.
        license_expires_at: DateTime<Utc>,
    },
    /// A revocation bundle: the license is revoked.
    Revocation {
        /// The bundle's seq.
        bundle_seq: i64,
        /// When licd revoked it.
        revoked_at: DateTime<Utc>,
        /// Why, for people.
        reason: String,
    },
    /// licd's acknowledgement of a usage report.
    UsageAck {
        /// The report acknowledged.
        report_seq: i64,
        /// `recorded` or `duplicate`.
        outcome: String,
        /// Reports licd never received.
        missing_seqs: Vec<i64>,
        /// Whether licd saw a break in the report chain.
        chain_break: bool,
    },
}

impl fmt::Display for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Imported::OfflineActivation {
                license_id,
                lease_expires_at,
                ..
            } => write!(
                f,
                "activated offline: license {license_id}, valid until {lease_expires_at}"
            ),
            Imported::Renewal {
                bundle_seq,
                lease_expires_at,
                license_expires_at,
                ..
            } => write!(
                f,
                "renewal bundle {bundle_seq} applied: lease valid until {lease_expires_at}, license key until {license_expires_at}"
            ),
            Imported::Revocation {
                bundle_seq, reason, ..
            } => write!(
                f,
                "revocation bundle {bundle_seq} applied: the license is revoked ({reason})"
            ),
            Imported::UsageAck {
                report_seq,
                outcome,
                missing_seqs,
                chain_break,
            } => {
                write!(f, "usage report {report_seq} acknowledged ({outcome})")?;
                if !missing_seqs.is_empty() {
                    write!(f, "; licd is missing reports {missing_seqs:?}")?;
                }
                if *chain_break {
                    write!(f, "; licd saw a break in the report chain")?;
                }
                Ok(())
            }
        }
    }
}

/// Applies a file from licd: each token is dispatched on its own `typ` (offline
/// response, renewal, revocation, usage acknowledgement; anything else is refused).
/// All or nothing: if one token is refused the store is left as it was; otherwise it
/// is saved.
pub fn import(
    store: &mut LeaseStore,
    file: &Transfer,
    keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<Vec<Imported>, OfflineError> {
    if file.format != TRANSFER_FORMAT {
        return Err(OfflineError::Format(format!(
            "format {:?} is not {TRANSFER_FORMAT}",
            file.format
        )));
    }
    if file.tokens.is_empty() {
        return Err(OfflineError::Format("the file carries no token".into()));
    }
    let before = store.state().clone();
    let mut done = Vec::new();
    for token in &file.tokens {
        match import_one(store, token, keys, now) {
            Ok(imported) => done.push(imported),
            Err(e) => {
                *store.state_mut() = before;
                return Err(e);
            }
        }
    }
    if let Err(e) = store.save(now) {
        *store.state_mut() = before;
        return Err(e.into());
    }
    Ok(done)
}

fn import_one(
    store: &mut LeaseStore,
    token: &str,
    keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<Imported, OfflineError> {
    let typ = jose::parse(token)
        .map_err(|e| OfflineError::Invalid {
            what: "token",
            source: VerifyError::Malformed(e.to_string()),
        })?
        .header
        .typ;
    match typ.as_str() {
        OFFLINE_RESPONSE_TYP => offline_response(store, token, keys, now),
        RENEWAL_TYP => renewal(store, token, keys, now),
        REVOCATION_TYP => revocation(store, token, keys),
        USAGE_ACK_TYP => usage_ack(store.state(), token, keys),
        _ => Err(OfflineError::CannotImport { typ }),
    }
}

fn verified<T: serde::de::DeserializeOwned>(
    what: &'static str,
    token: &str,
    typ: &str,
    keys: &[PublicKey],
) -> Result<T, OfflineError> {
    jose::verify_typed(token, typ, keys).map_err(|source| OfflineError::Invalid { what, source })
}

fn same_box(what: &'static str, state: &StoreState, fingerprint: &str) -> Result<(), OfflineError> {
    match &state.fingerprint {
        Some(mine) if mine == fingerprint => Ok(()),
        Some(_) => Err(OfflineError::OtherAppliance {
            what,
            fingerprint: fingerprint.to_owned(),
        }),
        None => Err(OfflineError::NotActivated),
    }
}

fn same_license(
    what: &'static str,
    state: &StoreState,
    license_id: &str,
) -> Result<(), OfflineError> {
    match &state.license_id {
        Some(mine) if mine == license_id => Ok(()),
        Some(mine) => Err(OfflineError::OtherLicense {
            what,
            expected: mine.clone(),
            found: license_id.to_owned(),
        }),
        None => Err(OfflineError::NotActivated),
    }
}

/// Checks the audience against this installation's Install ID.
fn same_installation(
    what: &'static str,
    state: &StoreState,
    aud: &str,
    install_id: &str,
) -> Result<(), OfflineError> {
    let mine = state
        .install_id
        .as_deref()
        .ok_or(OfflineError::NotActivated)?;
    let invalid = |source| OfflineError::Invalid { what, source };
    check_audience(aud, mine).map_err(invalid)?;
    check_audience(&crate::formats::audience(install_id), mine).map_err(invalid)
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn offline_response(
    store: &mut LeaseStore,
    token: &str,
    keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<Imported, OfflineError> {
    const WHAT: &str = "offline response";
    let c: OfflineResponseClaims = verified(WHAT, token, OFFLINE_RESPONSE_TYP, keys)?;
    let state = store.state();
    if state.fingerprint.is_none() {
        return Err(OfflineError::NotRequested);
    }
    same_box(WHAT, state, &c.fingerprint)?;
    if state.used_nonces.contains(&c.nonce) {
        return Err(OfflineError::AlreadyApplied);
    }
    if !state.pending_nonces.contains_key(&c.nonce) {
        return Err(OfflineError::NotRequested);
    }
    if now.timestamp() >= c.exp {
        return Err(OfflineError::ResponseExpired(time(c.exp)));
    }
    check_audience(&c.aud, &c.install_id)
        .map_err(|source| OfflineError::Invalid { what: WHAT, source })?;
    let key = verify_license(&c.license_key, keys, Some(&c.install_id), now).map_err(|source| {
        OfflineError::Invalid {
            what: "license key in the response",
            source,
        }
    })?;
    if key.jti != c.license_id {
        return Err(OfflineError::OtherLicense {
            what: "license key in the response",
            expected: c.license_id,
            found: key.jti,
        });
    }
    store.begin_activation(
        Activation {
            license_id: c.license_id.clone(),
            install_id: c.install_id.clone(),
            fingerprint: c.fingerprint.clone(),
            activation_secret: None,
            mode: Mode::Offline,
        },
        now,
    );
    let lease = store.accept_lease(&c.lease, keys, now)?;
    store.install_license(&c.license_key, keys, now)?;
    let state = store.state_mut();
    state.pending_nonces.remove(&c.nonce);
    state.used_nonces.push(c.nonce);
    crate::store::keep_last(&mut state.used_nonces, NONCES_KEPT);
    Ok(Imported::OfflineActivation {
        license_id: c.license_id,
        lease_seq: lease.seq,
        lease_expires_at: lease.lease_expires_at,
    })
}

fn check_bundle_seq(state: &StoreState, seq: i64) -> Result<(), OfflineError> {
    if seq == state.bundle_seq {
        return Err(OfflineError::BundleApplied(seq));
    }
    if seq < state.bundle_seq {
        return Err(OfflineError::OlderBundle {
            seq,
            applied: state.bundle_seq,
        });
    }
    Ok(())
}

fn renewal(
    store: &mut LeaseStore,
    token: &str,
    keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<Imported, OfflineError> {
    const WHAT: &str = "renewal bundle";
    let c: RenewalClaims = verified(WHAT, token, RENEWAL_TYP, keys)?;
    let state = store.state();
    same_license(WHAT, state, &c.license_id)?;
    same_installation(WHAT, state, &c.aud, &c.install_id)?;
    same_box(WHAT, state, &c.fingerprint)?;
    check_bundle_seq(state, c.bundle_seq)?;
    let key = store.install_license(&c.license_key, keys, now)?;
    let lease = store.accept_lease(&c.lease, keys, now)?;
    let state = store.state_mut();
    state.mode = Mode::Offline;
    state.bundle_seq = c.bundle_seq;
    Ok(Imported::Renewal {
        bundle_seq: c.bundle_seq,
        lease_seq: lease.seq,
        lease_expires_at: lease.lease_expires_at,
        license_expires_at: time(key.exp),
    })
}

fn revocation(
    store: &mut LeaseStore,
    token: &str,
    keys: &[PublicKey],
) -> Result<Imported, OfflineError> {
    const WHAT: &str = "revocation bundle";
    let c: RevocationClaims = verified(WHAT, token, REVOCATION_TYP, keys)?;
    let state = store.state();
    same_license(WHAT, state, &c.license_id)?;
    same_installation(WHAT, state, &c.aud, &c.install_id)?;
    check_bundle_seq(state, c.bundle_seq)?;
    let state = store.state_mut();
    state.bundle_seq = c.bundle_seq;
    state.revoked = Some(c.clone());
    Ok(Imported::Revocation {
        bundle_seq: c.bundle_seq,
        revoked_at: c.revoked_at,
        reason: c.reason,
    })
}

fn usage_ack(
    state: &StoreState,
    token: &str,
    keys: &[PublicKey],
) -> Result<Imported, OfflineError> {
    const WHAT: &str = "usage acknowledgement";
    let c: UsageAckClaims = verified(WHAT, token, USAGE_ACK_TYP, keys)?;
    same_license(WHAT, state, &c.license_id)?;
    same_box(WHAT, state, &c.fingerprint)?;
    let known = c.report_seq < state.report_seq
        || (c.report_seq == state.report_seq && c.report_hash == state.last_report_hash);
    if c.report_seq < 1 || !known {
        return Err(OfflineError::UnknownReport(c.report_seq));
    }
    Ok(Imported::UsageAck {
        report_seq: c.report_seq,
        outcome: c.outcome,
        missing_seqs: c.missing_seqs,
        chain_break: c.chain_break,
    })
}
