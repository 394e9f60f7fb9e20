//! What the API shows of a license's records: its history, activations, heartbeats and
//! directives. These are the API's own types, made from the store's rows, so a column
//! can be renamed without changing the API.

use crate::domain::activation::{DirectiveKind, DirectiveStatus, SupersededReason};
use crate::domain::license::KeyReason;
use crate::domain::lifecycle::LicenseState;
use crate::store::activations::ActivationRow;
use crate::store::directives::DirectiveRow;
use crate::store::heartbeats::HeartbeatRow;
use crate::store::license_keys::LicenseKeyRow;
use crate::store::licenses::EventRow;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A change in a license's life: the event and the states it moved between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = LicenseEvent)]
pub struct LicenseEventView {
    pub at: DateTime<Utc>,
    pub event: String,
    pub from_state: Option<LicenseState>,
    pub to_state: LicenseState,
    pub actor: String,
    pub detail: String,
}

impl From<EventRow> for LicenseEventView {
    fn from(e: EventRow) -> Self {
        LicenseEventView {
            at: e.at,
            event: e.event,
            from_state: e.from_state,
            to_state: e.to_state,
            actor: e.actor,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivationView {
    pub id: i64,
    pub fingerprint: String,
    pub hostname: Option<String>,
    pub created_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_reason: Option<SupersededReason>,
    pub last_seq: i64,
}

impl From<ActivationRow> for ActivationView {
    fn from(a: ActivationRow) -> Self {
        ActivationView {
            id: a.id,
            fingerprint: a.fingerprint,
            hostname: a.hostname,
            created_at: a.created_at,
            superseded_at: a.superseded_at,
            superseded_reason: a.superseded_reason,
            last_seq: a.last_seq,
        }
    }
}

/// A heartbeat answered: who sent it, the usage it reported, the state it was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Heartbeat)]
pub struct HeartbeatView {
    pub license_id: String,
    pub at: DateTime<Utc>,
    pub fingerprint: String,
    pub seq: i64,
    pub internal_users: Option<u32>,
    pub external_users: Option<u32>,
    pub state: LicenseState,
}

impl From<HeartbeatRow> for HeartbeatView {
    fn from(h: HeartbeatRow) -> Self {
        HeartbeatView {
            license_id: h.license_id,
            at: h.at,
            fingerprint: h.fingerprint,
            seq: h.seq,
            internal_users: h.internal_users,
            external_users: h.external_users,
            state: h.state,
        }
    }
}

/// A directive staff queued for an appliance, and where it is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Directive)]
pub struct DirectiveView {
    pub id: i64,
    pub license_id: String,
    /// The activation it belongs to: the one current when it was queued, or, when none
    /// was, the one current when a lease first carried it. Only that activation's leases
    /// carry it and only that activation's `seq` acknowledges it.
    pub activation_id: Option<i64>,
    pub kind: DirectiveKind,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The seq (in its activation's lease chain) of the first lease that carried it.
    pub first_seq: Option<i64>,
    pub acked_at: Option<DateTime<Utc>>,
    pub status: DirectiveStatus,
    /// The key an `install_key` directive carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_key: Option<String>,
}

impl From<DirectiveRow> for DirectiveView {
    fn from(d: DirectiveRow) -> Self {
        DirectiveView {
            id: d.id,
            license_id: d.license_id,
            activation_id: d.activation_id,
            kind: d.kind,
            message: d.message,
            created_at: d.created_at,
            created_by: d.created_by,
            first_seq: d.first_seq,
            acked_at: d.acked_at,
            status: d.status,
            license_key: d.license_key,
        }
    }
}

/// A key the license has had: the current one (`superseded_at` null) and those before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = LicenseKey)]
pub struct LicenseKeyView {
    /// The signing key that signed it (empty for a key whose header cannot be read).
    pub kid: String,
    /// Why it was made: `issue`, `renew`, `change` or `reissue`.
    pub reason: KeyReason,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    pub superseded_at: Option<DateTime<Utc>>,
    pub license_key: String,
}

impl From<LicenseKeyRow> for LicenseKeyView {
    fn from(k: LicenseKeyRow) -> Self {
        LicenseKeyView {
            // Kept only in the key's header since tenant step 20.
            kid: licd_client::jose::parse(&k.license_key)
                .map(|p| p.header.kid)
                .unwrap_or_default(),
            reason: k.reason,
            issued_at: k.issued_at,
            issued_by: k.issued_by,
            superseded_at: k.superseded_at,
            license_key: k.license_key,
        }
    }
}

/// Converts a list of rows to their views.
pub(super) fn views<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}
