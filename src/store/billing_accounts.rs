//! An organization's billing details (schema step 11): who an invoice is made out to.

use super::{ReadTx, Result, WriteTx, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BillingAccountRow {
    pub organization_id: i64,
    pub legal_name: String,
    pub address: String,
    pub phone: String,
    pub tax_id: String,
    pub tax_id_type: String,
    pub country: String,
    /// `bank_transfer` or `purchase_order`.
    pub payment_method: String,
    pub po_reference: String,
    pub billing_contact: String,
}

pub fn find(tx: &ReadTx<'_>, organization_id: i64) -> Result<Option<BillingAccountRow>> {
    Ok(tx
        .query_row(
            "SELECT organization_id, legal_name, address, phone, tax_id, tax_id_type, country, payment_method,
               po_reference, billing_contact
             FROM billing_accounts WHERE organization_id = ?1",
            [organization_id],
            |r| {
                Ok(BillingAccountRow {
                    organization_id: r.get(0)?,
                    legal_name: r.get(1)?,
                    address: r.get(2)?,
                    phone: r.get(3)?,
                    tax_id: r.get(4)?,
                    tax_id_type: r.get(5)?,
                    country: r.get(6)?,
                    payment_method: r.get(7)?,
                    po_reference: r.get(8)?,
                    billing_contact: r.get(9)?,
                })
            },
        )
        .optional()?)
}

/// Creates or replaces the organization's billing details.
pub fn upsert(tx: &WriteTx<'_>, a: &BillingAccountRow, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO billing_accounts (organization_id, legal_name, address, phone, tax_id, tax_id_type, country,
           payment_method, po_reference, billing_contact, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (organization_id) DO UPDATE SET legal_name = ?2, address = ?3, phone = ?4, tax_id = ?5,
           tax_id_type = ?6, country = ?7, payment_method = ?8, po_reference = ?9, billing_contact = ?10,
           updated_at = ?11",
        params![
            a.organization_id,
            a.legal_name,
            a.address,
            a.phone,
            a.tax_id,
            a.tax_id_type,
            a.country,
            a.payment_method,
            a.po_reference,
            a.billing_contact,
            ts(now)
        ],
    )?;
    Ok(())
}
