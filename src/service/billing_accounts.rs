//! An organization's billing details, as its owners keep them in the portal (seed 000,
//! "Manage Billing"): who invoices are made out to (legal name, address, phone, tax ID
//! with its type, country) and how they pay offline (bank transfer or purchase order,
//! a standing PO reference, a billing contact). Finalising an invoice copies them into
//! its billing snapshot (`service::invoices::finalise`), so a later change never
//! alters an issued invoice. No card number is ever stored.
//!
//! Owners only (`organization_owner_required` for a member, `not_found` for anyone
//! outside); every change audited as the customer.

use super::organizations::{CustomerActor, membership, ownership, target};
use super::tenant::Tenant;
use super::{Result, audit};
use crate::domain::organization::OrgRole;
use crate::domain::pricing::check_country;
use crate::domain::staff::normalize_email;
use crate::domain::{DomainError, free_text};
use crate::store::billing_accounts::{self as store, BillingAccountRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How an organization prefers to pay (offline).
pub const PAYMENT_METHODS: [&str; 2] = ["bank_transfer", "purchase_order"];

/// Who invoices are made out to, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AccountInput {
    #[serde(default)]
    pub legal_name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub tax_id: String,
    /// What kind of tax ID (`VAT`, `EIN`, `GST` ...).
    #[serde(default)]
    pub tax_id_type: String,
    /// ISO 3166 alpha-2 (`DE`).
    #[serde(default)]
    pub country: String,
}

/// How the organization pays, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PaymentMethodInput {
    /// `bank_transfer` or `purchase_order`.
    #[serde(default)]
    pub payment_method: String,
    /// A standing purchase order reference quoted on invoices.
    #[serde(default)]
    pub po_reference: String,
    /// Who receives invoices in the customer's accounts department.
    #[serde(default)]
    pub billing_contact: String,
}

/// The organization's billing details and whether the customer may change them (an
/// owner); `not_found` for anyone outside it.
pub fn of(
    tenant: &Tenant,
    customer_id: i64,
    org_id: i64,
) -> Result<(Option<BillingAccountRow>, OrgRole)> {
    tenant.db.read(|tx| {
        let (_, role) = membership(tx, org_id, customer_id)?;
        Ok((store::find(tx, org_id)?, role))
    })
}

fn checked_account(a: &AccountInput) -> std::result::Result<AccountInput, DomainError> {
    let tax_id = free_text::line("tax_id", &a.tax_id, 50, false)?;
    let tax_id_type = free_text::line("tax_id_type", &a.tax_id_type, 30, false)?;
    if !tax_id.is_empty() && tax_id_type.is_empty() {
        return Err(DomainError::invalid(
            "tax_id_type",
            "say what kind of tax ID it is (VAT, EIN, GST ...)",
        ));
    }
    Ok(AccountInput {
        legal_name: free_text::line("legal_name", &a.legal_name, 200, true)?,
        address: free_text::lines("address", &a.address, 1000, false)?,
        phone: free_text::line("phone", &a.phone, 50, false)?,
        tax_id,
        tax_id_type,
        country: check_country(&a.country)?,
    })
}

fn checked_method(p: &PaymentMethodInput) -> std::result::Result<PaymentMethodInput, DomainError> {
    let method = p.payment_method.trim();
    if !PAYMENT_METHODS.contains(&method) {
        return Err(DomainError::invalid(
            "payment_method",
            "must be bank_transfer or purchase_order",
        ));
    }
    let contact = p.billing_contact.trim();
    let billing_contact = if contact.is_empty() {
        String::new()
    } else {
        normalize_email(contact)
            .map_err(|_| DomainError::invalid("billing_contact", "is not an email address"))?
    };
    Ok(PaymentMethodInput {
        payment_method: method.to_owned(),
        po_reference: free_text::line("po_reference", &p.po_reference, 100, false)?,
        billing_contact,
    })
}

/// An owner saves who invoices are made out to. Audited.
pub fn save_account(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    input: &AccountInput,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        let a = checked_account(input)?;
        let mut row = store::find(tx, org_id)?.unwrap_or_else(|| BillingAccountRow {
            organization_id: org_id,
            payment_method: "bank_transfer".into(),
            ..BillingAccountRow::default()
        });
        row.legal_name = a.legal_name.clone();
        row.address = a.address.clone();
        row.phone = a.phone.clone();
        row.tax_id = a.tax_id.clone();
        row.tax_id_type = a.tax_id_type.clone();
        row.country = a.country.clone();
        store::upsert(tx, &row, now)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "billing_account.save",
            &target(org_id),
            json!({"legal_name": a.legal_name, "address": a.address, "phone": a.phone,
                   "tax_id": a.tax_id, "tax_id_type": a.tax_id_type, "country": a.country}),
        )?;
        Ok(())
    })
}

/// An owner saves how the organization pays. Audited.
pub fn save_payment_method(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    input: &PaymentMethodInput,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        let p = checked_method(input)?;
        let mut row = store::find(tx, org_id)?.unwrap_or_else(|| BillingAccountRow {
            organization_id: org_id,
            ..BillingAccountRow::default()
        });
        row.payment_method = p.payment_method.clone();
        row.po_reference = p.po_reference.clone();
        row.billing_contact = p.billing_contact.clone();
        store::upsert(tx, &row, now)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "billing_account.payment_method",
            &target(org_id),
            json!({"payment_method": p.payment_method, "po_reference": p.po_reference,
                   "billing_contact": p.billing_contact}),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_needs_a_legal_name_and_a_country_and_a_typed_tax_id() {
        let good = AccountInput {
            legal_name: " Acme GmbH ".into(),
            country: "de".into(),
            tax_id: "DE123456789".into(),
            tax_id_type: "VAT".into(),
            ..AccountInput::default()
        };
        let a = checked_account(&good).unwrap();
        assert_eq!(
            (a.legal_name.as_str(), a.country.as_str()),
            ("Acme GmbH", "DE")
        );
        for bad in [
            AccountInput {
                legal_name: String::new(),
                ..good.clone()
            },
            AccountInput {
                country: "Germany".into(),
                ..good.clone()
            },
            AccountInput {
                tax_id_type: String::new(),
                ..good.clone()
            },
        ] {
            assert!(checked_account(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_payment_method_is_one_of_two_and_the_contact_an_address() {
        let p = checked_method(&PaymentMethodInput {
            payment_method: "purchase_order".into(),
            po_reference: "PO-7".into(),
            billing_contact: "AP@Acme.example".into(),
        })
        .unwrap();
        assert_eq!(p.payment_method, "purchase_order");
        assert!(
            checked_method(&PaymentMethodInput {
                payment_method: "card".into(),
                ..p.clone()
            })
            .is_err()
        );
        assert!(
            checked_method(&PaymentMethodInput {
                billing_contact: "nope".into(),
                ..p
            })
            .is_err()
        );
    }
}
