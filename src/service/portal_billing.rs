//! The billing ledger as an organization's members see it in the portal: its invoices
//! (never drafts), an invoice with its lines, payments and credit notes, and its
//! payment history. Read-only for every member (the lead's choice for issue 15:
//! members see invoices, owners act); anyone outside the organization, another
//! organization's invoice and a draft are all `not_found`, so nothing leaks.
//! Owners' billing details are in `service::billing_accounts`.

use super::invoices::{self, Detail, InvoiceView, PaymentView, Show};
use super::organizations::membership;
use super::tenant::Tenant;
use super::{Result, ServiceError, refuse};
use crate::domain::organization::OrgRole;
use crate::error::ErrorCode;
use crate::store::billing_accounts::{self as account_store, BillingAccountRow};
use crate::store::payments;
use chrono::{DateTime, Utc};

/// Most payments the billing page lists.
pub const PAYMENTS_MAX: i64 = 200;

fn no_invoice() -> ServiceError {
    refuse(ErrorCode::NotFound, "no such invoice")
}

/// The organization a billing page is of.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgName {
    pub id: i64,
    pub name: String,
}

/// A payment with the number of the invoice it paid.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PaymentLine {
    #[serde(flatten)]
    pub payment: PaymentView,
    pub invoice_number: String,
    pub currency: String,
}

/// What the billing page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub org: OrgName,
    pub role: OrgRole,
    /// Only for owners (members do not see the organization's billing details).
    pub account: Option<BillingAccountRow>,
    /// Finalised invoices, newest first.
    pub invoices: Vec<InvoiceView>,
    /// Newest received first, at most `PAYMENTS_MAX`.
    pub payments: Vec<PaymentLine>,
}

/// The organization's billing page for a member; `not_found` for anyone outside.
pub fn overview(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    org_id: i64,
) -> Result<Overview> {
    let (org, role, account, paid) = tenant.db.read(|tx| {
        let (org, role) = membership(tx, org_id, customer_id)?;
        let account = if role.manages() {
            account_store::find(tx, org_id)?
        } else {
            None
        };
        let paid = payments::of_organization(tx, org_id, PAYMENTS_MAX)?;
        Ok::<_, ServiceError>((org, role, account, paid))
    })?;
    let invoices: Vec<InvoiceView> = invoices::list(tenant, now, Show::All, Some(org_id))?
        .into_iter()
        .filter(|i| i.number.is_some())
        .collect();
    let payments = paid
        .into_iter()
        .map(|p| {
            let of = invoices.iter().find(|i| i.id == p.invoice_id);
            PaymentLine {
                invoice_number: of.and_then(|i| i.number.clone()).unwrap_or_default(),
                currency: of.map(|i| i.currency.clone()).unwrap_or_default(),
                payment: p.into(),
            }
        })
        .collect();
    Ok(Overview {
        org: OrgName {
            id: org.id,
            name: org.name,
        },
        role,
        account,
        invoices,
        payments,
    })
}

/// One of the organization's finalised invoices for a member; `not_found` for anyone
/// outside, another organization's invoice, or a draft.
pub fn invoice(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    org_id: i64,
    invoice_id: i64,
) -> Result<(OrgName, Detail)> {
    let (org, _) = tenant.db.read(|tx| membership(tx, org_id, customer_id))?;
    let d = invoices::detail(tenant, now, invoice_id).map_err(|e| {
        if e.problem().code == ErrorCode::NotFound {
            no_invoice()
        } else {
            e
        }
    })?;
    if d.invoice.organization_id != org_id || d.invoice.number.is_none() {
        return Err(no_invoice());
    }
    Ok((
        OrgName {
            id: org.id,
            name: org.name,
        },
        d,
    ))
}
