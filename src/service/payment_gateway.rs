//! Payment confirmations from the vendor's own payment gateway (`POST
//! /api/v1/billing/payments`; optional, for sites with one). The gateway proves itself
//! only by signing the body (`pki::body_signature`) with a secret of
//! `billing.gateway_secret_file`; no staff credential works there. A confirmation is
//! recorded exactly as staff would record the payment (`payments::record`, as
//! `Actor::Gateway`), so the audit chain says who, and whatever a paid invoice sets off
//! (subscriptions) happens the same way.
//!
//! Idempotency: the gateway's key is stored as `gateway:<key>`, a namespace of its own
//! (a staff member's key can never answer a gateway's). The same key with the same
//! payment answers the first one (`repeated`); with anything else (invoice, amount,
//! date, reference, method) it is refused with `idempotency_key_reused`.

use super::invoices::{NewPaymentInput, PaymentRecorded};
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, refuse};
use crate::config::BillingConfig;
use crate::domain::free_text;
use crate::error::ErrorCode;
use crate::pki::body_signature::{self, BodyKey, Refused};
use crate::store::invoices as invoice_store;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// The header the signature travels in (`Licd-Signature`).
pub const SIGNATURE_HEADER: &str = body_signature::HEADER;

/// How the gateway's idempotency keys are stored, apart from staff's.
const KEY_PREFIX: &str = "gateway:";

/// The configured gateway secrets (`billing.gateway_secret_file`), ready to verify.
#[derive(Debug, Default)]
pub struct GatewayKeys {
    keys: Vec<BodyKey>,
    window_secs: i64,
}

impl GatewayKeys {
    /// Reads and checks the secrets (none without `gateway_secret_file`).
    pub fn from_config(c: &BillingConfig) -> Result<GatewayKeys> {
        let secrets = c
            .gateway_secrets()
            .map_err(|e| ServiceError::startup("the payment gateway secrets", e))?;
        Ok(GatewayKeys {
            keys: secrets.iter().map(|s| BodyKey::new(s.as_bytes())).collect(),
            window_secs: i64::from(c.replay_window_secs),
        })
    }

    /// Whether the gateway route is on (a secret is configured).
    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// Refused with `gateway_disabled` when no secret is configured.
pub fn require_enabled(app: &App) -> Result<()> {
    if app.gateway_keys.enabled() {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::GatewayDisabled,
            "this server takes no payment confirmations from a gateway \
             (billing.gateway_secret_file is not set); staff record payments instead",
        ))
    }
}

/// Checks the `Licd-Signature` header against the raw body with every configured secret
/// (`signature_invalid`), then its time against licd's clock (`signature_expired`).
pub fn authenticate(
    app: &App,
    now: DateTime<Utc>,
    header: Option<&str>,
    body: &[u8],
) -> Result<()> {
    require_enabled(app)?;
    let keys = &app.gateway_keys;
    body_signature::verify(&keys.keys, header, body, now, keys.window_secs)
        .map(|_| ())
        .map_err(|r| {
            let code = match r {
                Refused::Malformed | Refused::Mismatch => ErrorCode::SignatureInvalid,
                Refused::Stale => ErrorCode::SignatureExpired,
            };
            let detail = match r {
                Refused::Stale => format!(
                    "{} ({} seconds either way of licd's time {}); sign the request again",
                    r.says(),
                    keys.window_secs,
                    now.timestamp()
                ),
                _ => r.says().to_owned(),
            };
            refuse(code, detail)
        })
}

/// A payment confirmation, as the gateway signs and sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayPayment {
    /// The tenant it is for (its schema name; `public` for the default tenant): signed
    /// with the rest, so a confirmation for one tenant is refused by every other one.
    pub tenant: String,
    /// The invoice's number (`INV-2026-000042`); give this or `invoice_id`.
    pub invoice_number: Option<String>,
    /// The invoice's id; give this or `invoice_number`.
    pub invoice_id: Option<i64>,
    /// In the invoice's minor units; at most what is left to pay.
    pub amount_minor: i64,
    /// ISO 4217 code; must be the invoice's currency.
    pub currency: String,
    /// When the money arrived (`YYYY-MM-DD`).
    pub received_on: NaiveDate,
    /// The gateway's reference for the payment.
    #[serde(default)]
    pub reference: String,
    /// Required. The same key again records nothing and answers the first payment
    /// (`repeated`); with a different payment it is refused (`idempotency_key_reused`).
    pub idempotency_key: String,
    /// `card`, `bank_transfer` or `other`.
    pub method: String,
}

const METHODS: &[&str] = &["card", "bank_transfer", "other"];

fn invalid(field: &str, why: &str) -> ServiceError {
    refuse(ErrorCode::ValidationFailed, format!("{field}: {why}"))
}

/// Records a signed payment confirmation as the gateway (see the module documentation).
pub fn confirm(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    p: &GatewayPayment,
) -> Result<PaymentRecorded> {
    if p.tenant.trim() != tenant.schema_name {
        return Err(invalid(
            "tenant",
            &format!(
                "this confirmation is for tenant {:?}; this address serves {:?}",
                p.tenant.trim(),
                tenant.schema_name
            ),
        ));
    }
    if !METHODS.contains(&p.method.as_str()) {
        return Err(invalid("method", "must be card, bank_transfer or other"));
    }
    let key = free_text::line("idempotency_key", &p.idempotency_key, 190, true)?;
    let key = format!("{KEY_PREFIX}{key}");
    let reference = free_text::line("reference", &p.reference, 200, false)?;
    let id = tenant.db.read(|tx| {
        let invoice = match (&p.invoice_number, p.invoice_id) {
            (Some(number), None) => {
                invoice_store::find_by_number(tx, number.trim())?.ok_or_else(|| {
                    refuse(ErrorCode::NotFound, format!("no invoice {}", number.trim()))
                })?
            }
            (None, Some(id)) => invoice_store::find(tx, id)?
                .ok_or_else(|| refuse(ErrorCode::NotFound, format!("no invoice with id {id}")))?,
            _ => {
                return Err(invalid(
                    "invoice_number",
                    "give either invoice_number or invoice_id",
                ));
            }
        };
        if !p.currency.trim().eq_ignore_ascii_case(&invoice.currency) {
            return Err(invalid(
                "currency",
                &format!(
                    "the invoice is in {}, not {}",
                    invoice.currency,
                    p.currency.trim()
                ),
            ));
        }
        Ok(invoice.id)
    })?;
    super::payments::record(
        app,
        tenant,
        now,
        &Actor::Gateway,
        id,
        &NewPaymentInput {
            amount_minor: p.amount_minor,
            received_on: p.received_on,
            reference,
            method: Some(p.method.clone()),
            idempotency_key: Some(key),
        },
    )
}
