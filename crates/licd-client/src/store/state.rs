//! What the lease store keeps: [`StoreState`], the MAC-protected body of the state file.

use crate::formats::{
    ChainHead, DailyPeak, LeaseClaims, LicenseClaims, RevocationClaims, RollbackSeen,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many chain hashes of past leases are kept.
pub const CHAIN_KEPT: usize = 64;
/// How many used offline nonces are kept.
pub const NONCES_KEPT: usize = 256;
/// How many messages from licd are kept.
pub const MESSAGES_KEPT: usize = 20;
/// How many days of peak usage are kept before they are reported.
pub const DAILY_PEAKS_KEPT: usize = 400;
/// How many clock rollbacks are kept.
pub const ROLLBACKS_KEPT: usize = 100;

/// How the appliance gets its leases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Heartbeats to licd.
    #[default]
    Online,
    /// Air-gapped: leases arrive in files (offline response, renewal bundle).
    Offline,
}

/// The lease the appliance holds: the signed token and its (verified) claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLease {
    /// The compact JWS, as licd signed it.
    pub token: String,
    /// Its claims (verified when the lease was accepted).
    pub claims: LeaseClaims,
}

/// A message licd sent (a `message` directive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The directive's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// When the appliance received it (its own clock).
    pub at: DateTime<Utc>,
    /// The text.
    pub text: String,
}

/// The body of the lease store: everything the appliance must remember about its
/// license between runs. Every field has a default, so a store written by an older
/// version of this crate still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreState {
    /// The license of the current activation.
    pub license_id: Option<String>,
    /// Its Install ID.
    pub install_id: Option<String>,
    /// The fingerprint the activation is bound to.
    pub fingerprint: Option<String>,
    /// The activation secret (`lact_...`) for heartbeats; none for an offline
    /// activation.
    pub activation_secret: Option<String>,
    /// When the current activation began (appliance clock).
    pub activated_at: Option<DateTime<Utc>>,
    /// Online (heartbeats) or offline (files).
    pub mode: Mode,
    /// The newest lease accepted.
    pub head: Option<HeldLease>,
    /// Chain hashes of the last [`CHAIN_KEPT`] leases, oldest first.
    pub chain: Vec<ChainHead>,
    /// The highest `server_time` seen in a lease.
    pub server_time_high_water: Option<DateTime<Utc>>,
    /// The highest local time at which the file was written.
    pub last_written: Option<DateTime<Utc>>,
    /// Offline response nonces already applied (the last [`NONCES_KEPT`]).
    pub used_nonces: Vec<String>,
    /// Offline request nonces waiting for a response, with when they were asked.
    pub pending_nonces: BTreeMap<String, DateTime<Utc>>,
    /// The highest bundle (renewal or revocation) applied.
    pub bundle_seq: i64,
    /// The revocation applied, if any: it never goes away.
    pub revoked: Option<RevocationClaims>,
    /// The last usage report's `report_seq` (0: none yet).
    pub report_seq: i64,
    /// The last usage report's chain hash (`""`: none yet).
    pub last_report_hash: String,
    /// The end of the period the last usage report covered.
    pub last_report_end: Option<DateTime<Utc>>,
    /// Daily peak user counts not yet reported, oldest first.
    pub daily_peaks: Vec<DailyPeak>,
    /// Clock rollbacks seen (the last [`ROLLBACKS_KEPT`]).
    pub rollbacks: Vec<RollbackSeen>,
    /// How many of `rollbacks` (from the start) a usage report already carried.
    pub rollbacks_reported: usize,
    /// Set by a `lock` directive (its message), cleared by `unlock`.
    pub locked_by_directive: Option<String>,
    /// The highest directive id applied (directives repeat until confirmed).
    pub last_directive_id: i64,
    /// Messages from licd (the last [`MESSAGES_KEPT`]).
    pub messages: Vec<StoredMessage>,
    /// Local time of the last successful contact with licd (heartbeat or activation).
    pub last_contact: Option<DateTime<Utc>>,
    /// The license key installed (compact JWS).
    pub license_key: Option<String>,
    /// Its claims (verified when it was installed).
    pub license: Option<LicenseClaims>,
}

impl StoreState {
    /// The claims of the lease held.
    pub fn lease(&self) -> Option<&LeaseClaims> {
        self.head.as_ref().map(|h| &h.claims)
    }

    /// The head of the lease chain (seq 0 and `""` when there is no lease).
    pub fn chain_head(&self) -> ChainHead {
        match &self.head {
            Some(h) => ChainHead {
                seq: h.claims.seq,
                hash: crate::jose::chain_hash(&h.token),
            },
            None => ChainHead::default(),
        }
    }
}

/// Drops the oldest entries so that at most `keep` remain.
pub(crate) fn keep_last<T>(list: &mut Vec<T>, keep: usize) {
    if list.len() > keep {
        let excess = list.len() - keep;
        list.drain(..excess);
    }
}
