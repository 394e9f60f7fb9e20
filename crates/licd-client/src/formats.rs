//! The signed artefacts licd and its appliances exchange, one `typ` each, and the file
//! that carries them across an air gap.
//!
//! This module is the contract: licd (the server) builds and reads these same types, so
//! a field added here is added on both sides at once. Every artefact is a compact JWS
//! signed with ES256; a verifier always checks `typ`, so no file passes for another
//! kind. Times in claims named `iat`, `nbf`, `exp` are Unix seconds (as JOSE wants);
//! other times are RFC 3339 strings.
//!
//! | `typ` | signed by | what |
//! |---|---|---|
//! | [`LICENSE_TYP`] | licd | the license key |
//! | [`LEASE_TYP`] | licd | the answer to an activation or heartbeat |
//! | [`OFFLINE_REQUEST_TYP`] | appliance | asks for an offline activation |
//! | [`OFFLINE_RESPONSE_TYP`] | licd | answers it: a long lease bound to the box and nonce |
//! | [`RELEASE_TYP`] | appliance | offline deactivation: frees the license |
//! | [`RENEWAL_TYP`] | licd | a renewed key and a fresh lease for a box licd cannot reach |
//! | [`REVOCATION_TYP`] | licd | the license is revoked |
//! | [`USAGE_REPORT_TYP`] | appliance | true-up: daily peak user counts of a period |
//! | [`USAGE_ACK_TYP`] | licd | the report was recorded |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `typ` of a license key.
pub const LICENSE_TYP: &str = "licd-license+jwt";
/// `typ` of a lease.
pub const LEASE_TYP: &str = "licd-lease+jwt";
/// `typ` of an offline activation request (signed by the appliance key).
pub const OFFLINE_REQUEST_TYP: &str = "licd-offline-request+jwt";
/// `typ` of an offline activation response (signed by licd).
pub const OFFLINE_RESPONSE_TYP: &str = "licd-offline-response+jwt";
/// `typ` of an offline deactivation's release proof (signed by the appliance key).
pub const RELEASE_TYP: &str = "licd-release+jwt";
/// `typ` of a renewal bundle (signed by licd).
pub const RENEWAL_TYP: &str = "licd-renewal+jwt";
/// `typ` of a revocation bundle (signed by licd).
pub const REVOCATION_TYP: &str = "licd-revocation+jwt";
/// `typ` of a true-up usage report (signed by the appliance key).
pub const USAGE_REPORT_TYP: &str = "licd-usage-report+jwt";
/// `typ` of licd's acknowledgement of a usage report.
pub const USAGE_ACK_TYP: &str = "licd-usage-ack+jwt";

/// The `format` of a [`Transfer`] file.
pub const TRANSFER_FORMAT: &str = "licd-transfer/1";

/// A file carried across the air gap: one or more signed tokens. Each token's own `typ`
/// says what it is; `kind` and `summary` are for people and are not trusted.
///
/// ```
/// let file = licd_client::formats::Transfer::new("offline-request", "for license L-1", vec!["a.b.c".into()]);
/// let text = serde_json::to_string_pretty(&file)?;
/// assert!(text.contains("licd-transfer/1"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Always [`TRANSFER_FORMAT`].
    pub format: String,
    /// What the file is for: `offline-request`, `offline-response`, `release`,
    /// `renewal`, `revocation`, `usage-report`, `usage-ack` (informative only).
    pub kind: String,
    /// One line for the person carrying the file (informative only).
    #[serde(default)]
    pub summary: String,
    /// Compact JWS tokens.
    pub tokens: Vec<String>,
}

impl Transfer {
    /// A transfer file of `kind` with the given tokens.
    pub fn new(kind: &str, summary: &str, tokens: Vec<String>) -> Self {
        Transfer {
            format: TRANSFER_FORMAT.into(),
            kind: kind.into(),
            summary: summary.into(),
            tokens,
        }
    }
}

/// A JSON Web Key (EC, P-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `EC`.
    pub kty: String,
    /// Always `P-256`.
    pub crv: String,
    /// The x coordinate, base64url.
    pub x: String,
    /// The y coordinate, base64url.
    pub y: String,
    /// The key id: its RFC 7638 thumbprint (recomputed by verifiers, never trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// `ES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// A JWK Set, as licd publishes at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// The claims of a license key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseClaims {
    /// The issuer (licd's public URL and tenant).
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// The license id (each renewal keeps it).
    pub jti: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Valid from (Unix seconds).
    pub nbf: i64,
    /// Valid until (Unix seconds).
    pub exp: i64,
    /// The license's name.
    pub name: String,
    /// The licensee organization.
    pub org: String,
    /// Internal users granted.
    pub internal_users: u32,
    /// External users granted.
    pub external_users: u32,
    /// Feature names granted.
    pub features: Vec<String>,
    /// Flags: `trial`, `non_production`.
    pub flags: Vec<String>,
    /// Claim set version.
    pub ver: u32,
}

/// The audience of every licd artefact for an installation: `licd:install:<id>`.
pub fn audience(install_id: &str) -> String {
    format!("licd:install:{install_id}")
}

impl LicenseClaims {
    /// The Install ID the key is for.
    pub fn install_id(&self) -> Option<&str> {
        self.aud.strip_prefix("licd:install:")
    }

    /// `nbf` as a time (the epoch when out of range).
    pub fn not_before(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.nbf, 0).unwrap_or_default()
    }

    /// `exp` as a time (the epoch when out of range).
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }
}

/// A directive a lease carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseDirective {
    /// The queued directive's id (absent for those licd adds itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `lock`, `unlock`, `message` or `install_key`.
    pub kind: String,
    /// Text for people.
    #[serde(default)]
    pub message: String,
    /// With `install_key`: the new license key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_key: Option<String>,
}

/// The claims of a lease (`typ` [`LEASE_TYP`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseClaims {
    /// The issuer.
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Signed at (server time, Unix seconds).
    pub iat: i64,
    /// When the signed document stops verifying (not the offline deadline).
    pub exp: i64,
    /// The license id.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The fingerprint the lease is bound to.
    pub fingerprint: String,
    /// The license's state as licd sees it: `issued`, `active`, `locked`, `suspended`,
    /// `revoked` or `expired`. Run only while `active`.
    pub state: String,
    /// Why the appliance must stop: `rebound`, `revoked`, `expired`, `suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_reason: Option<String>,
    /// Violation stage: `none`, `expiry_soon`, `admin_warning`, `users_warning`,
    /// `read_only`.
    pub stage: String,
    /// Who sees a banner: `none`, `admins`, `everyone`.
    pub banner: String,
    /// Whether the product must run read-only.
    pub read_only: bool,
    /// The appliance may run without contact until then.
    pub lease_expires_at: DateTime<Utc>,
    /// licd's time when it signed the lease.
    pub server_time: DateTime<Utc>,
    /// Position in the activation's chain (1 for the first lease).
    pub seq: i64,
    /// Chain hash of the previous lease (`""` for the first).
    pub prev: String,
    /// How often to heartbeat.
    pub heartbeat_interval_secs: u32,
    /// What the appliance must do.
    pub directives: Vec<LeaseDirective>,
}

/// The head of an appliance's lease chain: the last lease's seq and chain hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The last lease's `seq` (0: none).
    pub seq: i64,
    /// Its chain hash (base64url SHA-256 of its signing input; `""`: none).
    pub hash: String,
}

/// User counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCounts {
    /// Active internal users.
    pub internal_users: u32,
    /// Active external users.
    pub external_users: u32,
}

/// An offline activation request (`typ` [`OFFLINE_REQUEST_TYP`]), signed by the
/// appliance key whose public half it carries; the header's `kid` is that key's
/// thumbprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineRequestClaims {
    /// The license to activate.
    pub license_id: String,
    /// The Install ID of the license.
    pub install_id: String,
    /// The box's fingerprint.
    pub fingerprint: String,
    /// The appliance's public key (generated at first run, kept on the box).
    pub appliance_key: Jwk,
    /// 16 random bytes, base64url: the response must name it.
    pub nonce: String,
    /// The appliance's clock when it wrote the request (Unix seconds).
    pub iat: i64,
    /// The head of the lease chain the box holds (seq 0 when none).
    pub lease_head: ChainHead,
    /// The box's host name, for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// licd's answer to an offline request (`typ` [`OFFLINE_RESPONSE_TYP`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineResponseClaims {
    /// The issuer.
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Signed at (Unix seconds).
    pub iat: i64,
    /// The deadline for applying the response (Unix seconds): refused afterwards.
    pub exp: i64,
    /// The license id.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The fingerprint of the request: no other box may apply it.
    pub fingerprint: String,
    /// The request's nonce: applied once.
    pub nonce: String,
    /// The thumbprint of the appliance key that signed the request.
    pub appliance_kid: String,
    /// The license key in force (compact JWS, [`LICENSE_TYP`]).
    pub license_key: String,
    /// The first lease of the offline activation ([`LEASE_TYP`]), valid offline for
    /// the licensing setting's offline lease period.
    pub lease: String,
}

/// An offline deactivation's release proof (`typ` [`RELEASE_TYP`]), signed by the
/// appliance key licd recorded at the offline activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseClaims {
    /// The license released.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The box's fingerprint.
    pub fingerprint: String,
    /// 16 random bytes, base64url (a proof is accepted once).
    pub nonce: String,
    /// The appliance's clock when it released (Unix seconds).
    pub iat: i64,
    /// The lease chain head at release.
    pub lease_head: ChainHead,
    /// The user counts when the box stopped.
    pub final_usage: UserCounts,
}

/// A renewal bundle (`typ` [`RENEWAL_TYP`]): a renewed key and a fresh lease for a box
/// licd cannot reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalClaims {
    /// The issuer.
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Signed at (Unix seconds).
    pub iat: i64,
    /// The license id.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The box the bundle is for.
    pub fingerprint: String,
    /// The license's bundle sequence (renewals and revocations share it): a box never
    /// applies a bundle whose `bundle_seq` is not above the last it applied.
    pub bundle_seq: i64,
    /// The license key in force (may be the one the box holds).
    pub license_key: String,
    /// The next lease in the box's chain ([`LEASE_TYP`]).
    pub lease: String,
}

/// A revocation bundle (`typ` [`REVOCATION_TYP`]): the license is revoked. It has no
/// `exp`: it never stops meaning what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationClaims {
    /// The issuer.
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Signed at (Unix seconds).
    pub iat: i64,
    /// The license id.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The license's bundle sequence, shared with renewals.
    pub bundle_seq: i64,
    /// When licd revoked the license.
    pub revoked_at: DateTime<Utc>,
    /// Why, for people.
    #[serde(default)]
    pub reason: String,
}

/// One day's peak user counts in a usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPeak {
    /// The day (UTC), `YYYY-MM-DD`.
    pub date: String,
    /// The highest internal user count seen that day.
    pub internal_users: u32,
    /// The highest external user count seen that day.
    pub external_users: u32,
}

/// A clock rollback the appliance saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackSeen {
    /// The (appliance) time it was noticed.
    pub detected_at: DateTime<Utc>,
    /// By how many seconds the clock was behind what was known.
    pub by_secs: i64,
    /// Which signal saw it: `lease_time`, `state_file`, `monotonic`.
    pub signal: String,
}

/// What the appliance's clock looked like over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockObservations {
    /// The highest server time seen in a lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_high_water: Option<DateTime<Utc>>,
    /// Rollbacks seen during the period.
    pub rollbacks: Vec<RollbackSeen>,
}

/// A true-up usage report (`typ` [`USAGE_REPORT_TYP`]), signed by the appliance key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReportClaims {
    /// The license.
    pub license_id: String,
    /// The Install ID.
    pub install_id: String,
    /// The box's fingerprint.
    pub fingerprint: String,
    /// 1 for the first report of this box, then one more each time.
    pub report_seq: i64,
    /// Chain hash of the previous report token (`""` for the first).
    pub prev_report: String,
    /// The period covered (inclusive start, exclusive end).
    pub period_start: DateTime<Utc>,
    /// End of the period.
    pub period_end: DateTime<Utc>,
    /// Daily peaks, oldest first.
    pub daily: Vec<DailyPeak>,
    /// The highest counts of the period.
    pub peak: UserCounts,
    /// The lease chain head when the report was written.
    pub lease_head: ChainHead,
    /// Clock observations.
    pub clock: ClockObservations,
    /// The appliance's clock when it wrote the report (Unix seconds).
    pub iat: i64,
}

/// licd's acknowledgement of a usage report (`typ` [`USAGE_ACK_TYP`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageAckClaims {
    /// The issuer.
    pub iss: String,
    /// The license id.
    pub sub: String,
    /// `licd:install:<Install ID>`.
    pub aud: String,
    /// Signed at (Unix seconds).
    pub iat: i64,
    /// The license.
    pub license_id: String,
    /// The box.
    pub fingerprint: String,
    /// The report acknowledged.
    pub report_seq: i64,
    /// Its chain hash.
    pub report_hash: String,
    /// `recorded`, or `duplicate` when licd already had it.
    pub outcome: String,
    /// Report seqs licd has not seen below this one (a gap).
    #[serde(default)]
    pub missing_seqs: Vec<i64>,
    /// Whether `prev_report` did not match the report licd holds before it.
    #[serde(default)]
    pub chain_break: bool,
}
