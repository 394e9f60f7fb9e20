//! What appliances call: activation (authenticated by the license key) and heartbeat
//! (authenticated by the activation secret). Both answer with a signed lease.

use super::installations;
pub use super::lease_chain::LeaseReply;
use super::lease_chain::{Delivery, LeaseFor, PendingLease, prepare_lease};
use super::licenses::{apply_event, load, rewrites};
use super::tenant::Tenant;
use super::{Actor, Result, ServiceError, refuse, secrets};
use crate::domain::activation::{DirectiveKind, SupersededReason};
use crate::domain::fields;
use crate::domain::lease::LockReason;
use crate::domain::license::{check_fingerprint, check_hostname, check_install_id};
use crate::domain::lifecycle::{Event, LicenseState, Outcome};
use crate::domain::violation::{Stage, Usage};
use crate::error::ErrorCode;
use crate::pki::ca::{ClientSubject, LocalCa};
use crate::pki::verify::{VerifyError, verify_signature};
use crate::store::activations::{self, ActivationRow};
use crate::store::heartbeats::{self, HeartbeatRow};
use crate::store::held_credentials::{self, HeldChain};
use crate::store::leases::Heard;
use crate::store::licenses::{self as store, LicenseRow, StatusUpdate};
use crate::store::{WriteTx, client_certs, directives, license_keys};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// Prefix of activation secrets (so they are told apart from staff tokens at a glance).
pub const ACTIVATION_PREFIX: &str = "lact_";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The license key (`typ=licd-license+jwt`) of the license in the path.
    pub license_key: String,
    #[schema(schema_with = fields::fingerprint)]
    pub fingerprint: String,
    #[schema(schema_with = fields::install_id)]
    pub install_id: String,
    #[serde(default)]
    #[schema(schema_with = fields::hostname)]
    pub hostname: Option<String>,
    /// A PKCS#10 CSR (PEM) for a client certificate (appliance mTLS); ignored when
    /// `tls.appliance_mtls` is off.
    #[serde(default)]
    pub csr: Option<String>,
}

/// How a heartbeat proves which activation it belongs to.
#[derive(Debug, Clone)]
pub enum ApplianceCredential {
    /// `Authorization: Bearer lact_...`
    Secret(String),
    /// The client certificate issued at activation (appliance mTLS), by its SHA-256.
    Certificate { sha256: String },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Activated {
    /// Authenticates heartbeats (`Authorization: Bearer lact_...`). Shown once.
    pub activation_secret: String,
    /// The client certificate (PEM) for the CSR sent, signed by the local CA; `null`
    /// when no CSR was sent or appliance mTLS is off.
    pub client_certificate: Option<String>,
    pub client_certificate_expires_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub lease: LeaseReply,
}

fn key_problem(e: VerifyError) -> ServiceError {
    refuse(ErrorCode::LicenseKeyInvalid, e.to_string())
}

/// Who binds a license to a box, how it is audited, and how long the first lease runs.
#[derive(Debug)]
pub(super) struct Binding<'a> {
    pub actor: &'a Actor,
    /// The audit action (`license.activate`, `license.offline_activate`) and details.
    pub action: &'static str,
    pub details: serde_json::Value,
    /// The first lease's offline window (an activation from a request file, which never
    /// heartbeats); `None`: the grace window.
    pub offline: Option<Duration>,
}

/// A license bound to a box: its new activation (an ordinary activation, however it
/// was made) and first lease, recorded but not signed yet.
#[derive(Debug)]
pub(super) struct Bound {
    pub activation_id: i64,
    /// Authenticates heartbeats; an offline activation never shows it to anyone.
    pub secret: String,
    pub lease: PendingLease,
}

/// Binds `license` to `fingerprint` inside `tx`: the activation event (audited as the
/// binding says), a new activation with a new secret (any earlier activation of the
/// license is replaced), the installation re-assessed, and the first lease of the
/// chain. Online activation, provisioning and offline activation all bind through here.
pub(super) fn bind_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    license: &LicenseRow,
    fingerprint: &str,
    hostname: Option<&str>,
    binding: Binding<'_>,
) -> Result<Bound> {
    let event = Event::Activate {
        fingerprint: fingerprint.to_owned(),
    };
    let outcome: Outcome = apply_event(
        tx,
        tenant,
        now,
        binding.actor,
        license,
        &event,
        Some((binding.action, binding.details)),
    )?;
    let mut update = StatusUpdate::of(license);
    update.state = outcome.status.state;
    update.suspend_reason = outcome.status.suspend_reason;
    update.bound_fingerprint = outcome.bound_fingerprint.clone();
    update.activated_at = Some(license.activated_at.unwrap_or(now));
    update.last_seen_at = Some(now);
    store::update_status(tx, &license.id, &update)?;
    // The same box again (activation needs the bound fingerprint): what the replaced
    // activation was sent but never confirmed goes to the new one.
    directives::requeue_unconfirmed(tx, &license.id)?;
    activations::supersede_all(tx, &license.id, SupersededReason::Reactivated, now)?;
    let secret = format!("{ACTIVATION_PREFIX}{}", secrets::new_secret()?);
    let secret_hash = secrets::hash_secret(&secret);
    let activation_id =
        activations::insert(tx, &license.id, fingerprint, hostname, &secret_hash, now)?;
    let assessed =
        installations::reassess(tx, tenant, &license.install_id, now, binding.actor, None)?;
    let lease = prepare_lease(
        tx,
        tenant,
        now,
        license,
        LeaseFor {
            activation_id,
            fingerprint,
            seq: 1,
            prev: "",
            state: update.state,
            stage: assessed.stage,
            lock: None,
            delivery: Delivery::Directives { confirmed_seq: 0 },
            window: binding.offline,
            heard: None,
        },
    )?;
    // Its first heartbeat takes the shortcut (`held_credentials`), and may reuse the
    // installation's assessment (`held_assessments`; a change below forgets it).
    let digest = secrets::credential_digest(&secret_hash, fingerprint);
    held_credentials::remember(tx, &license.id, activation_id, &digest, Some(&assessed))?;
    // While a box activated from a request file holds it, its offline lease (not the
    // grace window) says how long the license stays active without a heartbeat.
    let offline_until = binding.offline.map(|_| lease.claims().lease_expires_at);
    if offline_until.is_some() || license.offline_until.is_some() {
        store::set_offline_until(tx, &license.id, offline_until)?;
    }
    Ok(Bound {
        activation_id,
        secret,
        lease,
    })
}

/// Activates inside `tx` (also used by provisioning): binds the fingerprint, makes a
/// new activation secret (any earlier activation from this fingerprint is replaced)
/// and answers with the first lease.
pub(super) fn activate_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    license: &LicenseRow,
    fingerprint: &str,
    hostname: Option<&str>,
    csr: Option<(&LocalCa, &str)>,
) -> Result<Activated> {
    let actor = Actor::Appliance {
        fingerprint: fingerprint.to_owned(),
    };
    let details = json!({"fingerprint": fingerprint, "hostname": hostname});
    let bound = bind_in_tx(
        tx,
        tenant,
        now,
        license,
        fingerprint,
        hostname,
        Binding {
            actor: &actor,
            action: "license.activate",
            details,
            offline: None,
        },
    )?;
    let client_cert = match csr {
        None => None,
        Some((ca, csr)) => {
            let subject = ClientSubject {
                license_id: &license.id,
                fingerprint,
                tenant: &tenant.schema_name,
            };
            // Past the license's end by the grace window and a day, so an expired or
            // locked appliance can still connect and be told (the license state decides,
            // not the certificate). The CA caps it at its own expiry.
            let not_after = license.expires_at + tenant.settings().grace() + Duration::days(1);
            let issued = ca
                .issue_client(csr, &subject, now, not_after)
                .map_err(|e| refuse(ErrorCode::CsrInvalid, format!("csr: {e}")))?;
            client_certs::insert(
                tx,
                &issued.sha256,
                bound.activation_id,
                &license.id,
                now,
                issued.not_after,
            )?;
            Some(issued)
        }
    };
    Ok(Activated {
        activation_secret: bound.secret,
        client_certificate_expires_at: client_cert.as_ref().map(|c| c.not_after),
        client_certificate: client_cert.map(|c| c.cert_pem),
        lease: bound.lease.sign()?,
    })
}

/// Activates a license on the appliance presenting its key: checks the key's signature
/// and Install ID, then binds the license to the fingerprint and answers with the
/// activation secret, the first lease and, for a CSR, a client certificate.
///
/// Concurrent activations share a commit (group commit, as heartbeats do): each runs in
/// its own savepoint and is decided alone, so of many boxes racing for one license
/// exactly one wins (`tests/it/group_commit.rs`), and each caller hears of its
/// activation only after the shared commit.
pub fn activate(
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    license_id: &str,
    req: &ActivateRequest,
    client_ca: Option<Arc<LocalCa>>,
) -> Result<Activated> {
    let fingerprint = check_fingerprint(&req.fingerprint)?;
    let install_id = check_install_id(&req.install_id)?;
    let hostname = check_hostname(req.hostname.as_deref())?;
    let claims =
        verify_signature(&req.license_key, &tenant.keyring()?.verifying).map_err(key_problem)?;
    if claims.jti != license_id {
        return Err(refuse(
            ErrorCode::LicenseKeyMismatch,
            format!("the key is for license {}, not {license_id}", claims.jti),
        ));
    }
    if claims.install_id() != Some(install_id.as_str()) {
        return Err(refuse(
            ErrorCode::WrongInstallId,
            format!(
                "the license is for Install ID {}, not {install_id}",
                claims.install_id().unwrap_or("?")
            ),
        ));
    }
    let (t, license_id) = (tenant.clone(), license_id.to_owned());
    let (license_key, csr) = (req.license_key.clone(), req.csr.clone());
    tenant.db.write_grouped(move |tx| {
        let license = load(tx, &license_id)?;
        let current_key = license_keys::current(tx, &license.id)?;
        // A superseded key of this license (renewed, changed, reissued) still names it:
        // the appliance activates and its first lease carries the current key, unless
        // one is on its way already. (A refused activation rolls this back.)
        if license_key != current_key
            && !directives::has_pending(tx, &license.id, DirectiveKind::InstallKey)?
        {
            directives::insert_with_key(
                tx,
                &license.id,
                None,
                DirectiveKind::InstallKey,
                "install the current license key: the one presented was superseded",
                Some(&current_key),
                &Actor::System.audit_name(),
                now,
            )?;
        }
        let csr = client_ca.as_deref().zip(csr.as_deref());
        activate_in_tx(
            tx,
            &t,
            now,
            &license,
            &fingerprint,
            hostname.as_deref(),
            csr,
        )
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    #[schema(schema_with = fields::fingerprint)]
    pub fingerprint: String,
    /// `seq` of the last lease the appliance holds (0 if none).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub seq: i64,
    /// Active internal users (disabled and service accounts not counted).
    #[serde(default)]
    pub internal_users: Option<u32>,
    /// Active external users (disabled and service accounts not counted).
    #[serde(default)]
    pub external_users: Option<u32>,
}

fn invalid_activation(why: &str) -> ServiceError {
    refuse(ErrorCode::ActivationInvalid, why.to_owned())
}

enum Lookup {
    /// The secret's hash, and `secrets::credential_digest` of it and the fingerprint:
    /// the shortcut to the activation (`held_credentials`).
    Secret {
        hash: Vec<u8>,
        digest: [u8; 16],
    },
    Certificate(String),
}

impl Lookup {
    fn digest(&self) -> Option<&[u8; 16]> {
        match self {
            Lookup::Secret { digest, .. } => Some(digest),
            Lookup::Certificate(_) => None,
        }
    }
}

/// The activation a heartbeat's credential belongs to. A certificate stops working the
/// moment its license is revoked or rebound, or the activation is replaced.
fn find_activation(
    tx: &WriteTx<'_>,
    credential: &Lookup,
    license_id: &str,
) -> Result<(ActivationRow, LicenseRow)> {
    match credential {
        Lookup::Secret { hash, .. } => activations::find_by_secret(tx, license_id, hash)?
            .ok_or_else(|| invalid_activation("unknown activation secret for this license")),
        Lookup::Certificate(sha256) => {
            let (a, l) = client_certs::find_activation(tx, sha256)?
                .filter(|(a, _)| a.license_id == license_id)
                .ok_or_else(|| {
                    refuse(
                        ErrorCode::ClientCertificateUnknown,
                        format!("this client certificate was not issued for license {license_id}"),
                    )
                })?;
            let why = match (a.superseded_reason, l.state) {
                (_, LicenseState::Revoked) => Some("the license was revoked"),
                (Some(SupersededReason::Rebind), _) => {
                    Some("the license was moved to other hardware")
                }
                (Some(SupersededReason::Reactivated), _) => {
                    Some("the activation was replaced by a newer one")
                }
                (Some(SupersededReason::Released), _) => Some("the appliance released the license"),
                (None, _) => None,
            };
            match why {
                Some(why) => Err(refuse(
                    ErrorCode::ClientCertificateRevoked,
                    format!("this client certificate no longer works: {why}"),
                )),
                None => Ok((a, l)),
            }
        }
    }
}

/// A heartbeat checked for what needs no database: its credential, made lookup-ready.
struct CheckedHeartbeat {
    credential: Lookup,
    fingerprint: String,
    req: HeartbeatRequest,
    license_id: String,
}

fn check_heartbeat(
    license_id: &str,
    credential: &ApplianceCredential,
    req: &HeartbeatRequest,
) -> Result<CheckedHeartbeat> {
    if let ApplianceCredential::Secret(secret) = credential
        && !secret.starts_with(ACTIVATION_PREFIX)
    {
        return Err(invalid_activation(
            "send the activation secret as `Authorization: Bearer lact_...`",
        ));
    }
    let fingerprint = check_fingerprint(&req.fingerprint)?;
    if req.seq < 0 {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "seq: must be 0 or more (the seq of the last lease held, 0 for none)",
        ));
    }
    let credential = match credential {
        ApplianceCredential::Secret(s) => {
            let hash = secrets::hash_secret(s);
            let digest = secrets::credential_digest(&hash, &fingerprint);
            Lookup::Secret { hash, digest }
        }
        ApplianceCredential::Certificate { sha256 } => Lookup::Certificate(sha256.clone()),
    };
    Ok(CheckedHeartbeat {
        credential,
        fingerprint,
        req: req.clone(),
        license_id: license_id.to_owned(),
    })
}

/// Takes a heartbeat: the next lease, signed. Heartbeats are many and small: they share
/// commits under load (group commit).
pub fn heartbeat(
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    license_id: &str,
    credential: &ApplianceCredential,
    req: &HeartbeatRequest,
) -> Result<LeaseReply> {
    let checked = check_heartbeat(license_id, credential, req)?;
    let t = tenant.clone();
    tenant
        .db
        .write_grouped(move |tx| record_heartbeat(tx, &t, now, &checked))
        .and_then(PendingLease::sign)
}

/// `heartbeat` for the HTTP layer: waits for its group commit without holding a thread,
/// then signs the lease.
pub async fn heartbeat_queued(
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    license_id: &str,
    credential: &ApplianceCredential,
    req: &HeartbeatRequest,
) -> Result<LeaseReply> {
    let checked = check_heartbeat(license_id, credential, req)?;
    let t = tenant.clone();
    tenant
        .db
        .write_grouped_async(move |tx| record_heartbeat(tx, &t, now, &checked))
        .await
        .and_then(PendingLease::sign)
}

/// A heartbeat's writes, inside its group commit: refusals first (before any write),
/// then the license's status, the history row, the installation's stage (reused or
/// re-assessed), and the next lease of the chain recorded with the instant heard from.
fn record_heartbeat(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    hb: &CheckedHeartbeat,
) -> Result<PendingLease> {
    let (fingerprint, req) = (&hb.fingerprint, &hb.req);
    let held = match hb.credential.digest() {
        Some(digest) => held_credentials::find(tx, &hb.license_id, digest)?,
        None => None,
    };
    // Found by the shortcut: the credential and fingerprint are those last accepted for
    // the current activation. Else the long way, which checks each refusal.
    let (activation, license, assessed, remember) = match held {
        Some(held) => (
            Heartbeating::held(held.chain),
            held.license,
            held.assessed,
            None,
        ),
        None => {
            let (activation, license) = find_activation(tx, &hb.credential, &hb.license_id)?;
            if activation.fingerprint != *fingerprint {
                return Err(refuse(
                    ErrorCode::BoundElsewhere,
                    "this activation belongs to another fingerprint",
                ));
            }
            let remember = hb
                .credential
                .digest()
                .filter(|_| activation.superseded_reason.is_none())
                .copied();
            (Heartbeating::found(activation), license, None, remember)
        }
    };
    if req.seq > activation.last_seq {
        return Err(refuse(
            ErrorCode::LeaseSeqAhead,
            format!(
                "seq {} was never issued (last issued: {})",
                req.seq, activation.last_seq
            ),
        ));
    }
    let seq = activation.last_seq + 1;
    // The history row, chained to the license's newest; returns its id (the new head).
    let record = |state: LicenseState| {
        heartbeats::insert(
            tx,
            &HeartbeatRow {
                license_id: license.id.clone(),
                at: now,
                fingerprint: fingerprint.clone(),
                seq,
                internal_users: req.internal_users,
                external_users: req.external_users,
                state,
            },
            license.last_heartbeat_id,
        )
    };
    // The next lease of this activation's chain (and the heartbeat, when heard from).
    let lease = |state: LicenseState,
                 stage: Stage,
                 lock: Option<LockReason>,
                 delivery,
                 heard: Option<Heard>| {
        prepare_lease(
            tx,
            tenant,
            now,
            &license,
            LeaseFor {
                activation_id: activation.id,
                fingerprint,
                seq,
                prev: &activation.last_lease_hash,
                state,
                stage,
                lock,
                delivery,
                window: None,
                heard,
            },
        )
    };
    match activation.superseded_reason {
        None => {}
        Some(SupersededReason::Reactivated) => {
            return Err(invalid_activation(
                "this activation was replaced by a newer one",
            ));
        }
        Some(SupersededReason::Released) => {
            return Err(invalid_activation(
                "this activation was released by its appliance",
            ));
        }
        Some(SupersededReason::Rebind) => {
            // Rebound elsewhere: this box must lock, and gets nothing else.
            let heartbeat = record(LicenseState::Locked)?;
            store::chain_heartbeat(tx, &license.id, heartbeat)?;
            return lease(
                LicenseState::Locked,
                Stage::None,
                Some(LockReason::Rebound),
                Delivery::LockOnly,
                None,
            );
        }
    }
    let actor = Actor::Appliance {
        fingerprint: fingerprint.clone(),
    };
    let event = Event::Heartbeat {
        fingerprint: fingerprint.clone(),
    };
    // Writes the status (and its event and audit) only when it changes.
    let outcome = apply_event(tx, tenant, now, &actor, &license, &event, None)?;
    let state = outcome.status.state;
    let heartbeat_id = record(state)?;
    let lock = if outcome.lock {
        LockReason::for_state(state)
    } else {
        None
    };
    // Usage counts only when the appliance reports both.
    let usage = req
        .internal_users
        .zip(req.external_users)
        .map(|(i, e)| Usage {
            internal_users: i,
            external_users: e,
        });
    // The last heartbeat's assessment, while it holds: nothing it was made from changed
    // since (step 19's triggers forget it; this heartbeat's own change of the license
    // is not written until now), time has not reached its end, and the usage is the
    // same. Otherwise the installation is assessed again. That reads the state row's
    // previous instant (the capacity rows); a license's part in its installation does
    // not depend on it: when it was heard from only moves a license between issued,
    // active and locked, all in force (`license_facts::contribution`,
    // `lifecycle::settle`). The new instant is written with the lease.
    let assessed = match assessed.filter(|a| !rewrites(&license, &outcome) && a.holds(now, usage)) {
        Some(reused) => reused,
        None => installations::reassess(tx, tenant, &license.install_id, now, &actor, usage)?,
    };
    let pending = lease(
        state,
        assessed.stage,
        lock,
        Delivery::Directives {
            confirmed_seq: req.seq,
        },
        Some(Heard {
            at: now,
            heartbeat_id,
            assessed,
        }),
    )?;
    if let Some(digest) = remember {
        held_credentials::remember(tx, &license.id, activation.id, &digest, None)?;
    }
    Ok(pending)
}

/// What a heartbeat needs of its activation, however it was found.
struct Heartbeating {
    id: i64,
    superseded_reason: Option<SupersededReason>,
    last_seq: i64,
    last_lease_hash: String,
}

impl Heartbeating {
    /// The current activation, found by the shortcut (never superseded: the digest goes
    /// when an activation changes).
    fn held(chain: HeldChain) -> Heartbeating {
        Heartbeating {
            id: chain.activation_id,
            superseded_reason: None,
            last_seq: chain.last_seq,
            last_lease_hash: chain.last_lease_hash,
        }
    }

    fn found(a: ActivationRow) -> Heartbeating {
        Heartbeating {
            id: a.id,
            superseded_reason: a.superseded_reason,
            last_seq: a.last_seq,
            last_lease_hash: a.last_lease_hash,
        }
    }
}
