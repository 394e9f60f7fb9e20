//! What paying an invoice of a subscription does (schema step 12): the purpose
//! (purchase, renewal, upgrade), the user counts and the period it pays for, and when
//! it was applied. Written with the invoice; applied once.

use super::{ReadTx, Result, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInvoiceRow {
    pub invoice_id: i64,
    pub subscription_id: i64,
    /// `purchase`, `renewal` or `upgrade`.
    pub purpose: String,
    pub internal_users: i64,
    pub external_users: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub applied_at: Option<DateTime<Utc>>,
    pub po_accepted_at: Option<DateTime<Utc>>,
}

pub fn insert(tx: &WriteTx<'_>, r: &SubscriptionInvoiceRow) -> Result<()> {
    tx.execute(
        "INSERT INTO subscription_invoices (invoice_id, subscription_id, purpose, internal_users, external_users,
           period_start, period_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            r.invoice_id,
            r.subscription_id,
            r.purpose,
            r.internal_users,
            r.external_users,
            ts(r.period_start),
            ts(r.period_end)
        ],
    )?;
    Ok(())
}

const COLUMNS: &str =
    "invoice_id, subscription_id, purpose, internal_users, external_users, period_start,
   period_end, applied_at, po_accepted_at";

type Raw = (
    i64,
    i64,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn row(raw: Raw) -> Result<SubscriptionInvoiceRow> {
    let (
        invoice_id,
        subscription_id,
        purpose,
        internal_users,
        external_users,
        start,
        end,
        applied,
        po,
    ) = raw;
    Ok(SubscriptionInvoiceRow {
        invoice_id,
        subscription_id,
        purpose,
        internal_users,
        external_users,
        period_start: parse_ts("subscription_invoices.period_start", &start)?,
        period_end: parse_ts("subscription_invoices.period_end", &end)?,
        applied_at: parse_opt_ts("subscription_invoices.applied_at", applied)?,
        po_accepted_at: parse_opt_ts("subscription_invoices.po_accepted_at", po)?,
    })
}

pub fn find(tx: &ReadTx<'_>, invoice_id: i64) -> Result<Option<SubscriptionInvoiceRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM subscription_invoices WHERE invoice_id = ?1"),
        [invoice_id],
        raw,
    )
    .optional()?
    .map(row)
    .transpose()
}

/// The renewal invoice of a subscription for the period starting at `period_start`
/// (draft invoices are never left behind; void ones do not count).
pub fn renewal_for(
    tx: &ReadTx<'_>,
    subscription_id: i64,
    period_start: DateTime<Utc>,
) -> Result<Option<SubscriptionInvoiceRow>> {
    tx.query_row(
        &format!(
            "SELECT {COLUMNS} FROM subscription_invoices s
             WHERE s.subscription_id = ?1 AND s.purpose = 'renewal' AND s.period_start = ?2
               AND (SELECT state FROM invoices WHERE id = s.invoice_id) <> 'void'"
        ),
        params![subscription_id, ts(period_start)],
        raw,
    )
    .optional()?
    .map(row)
    .transpose()
}

/// The subscription's invoices that are open and not applied (what is waiting for a
/// payment), oldest first.
pub fn unapplied_open(
    tx: &ReadTx<'_>,
    subscription_id: i64,
) -> Result<Vec<SubscriptionInvoiceRow>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM subscription_invoices s
         WHERE s.subscription_id = ?1 AND s.applied_at IS NULL
           AND (SELECT state FROM invoices WHERE id = s.invoice_id) = 'open'
         ORDER BY s.invoice_id"
    ))?;
    let raws = stmt
        .query_map([subscription_id], raw)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(row).collect()
}

pub fn mark_applied(tx: &WriteTx<'_>, invoice_id: i64, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE subscription_invoices SET applied_at = ?2 WHERE invoice_id = ?1",
        params![invoice_id, ts(now)],
    )?;
    Ok(())
}

pub fn mark_po_accepted(
    tx: &WriteTx<'_>,
    invoice_id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE subscription_invoices SET po_accepted_at = ?2, po_accepted_by = ?3 WHERE invoice_id = ?1",
        params![invoice_id, ts(now), by],
    )?;
    Ok(())
}

/// Invoices applied before they were paid (accepted purchase orders) that are still
/// open and were due before `before`: the dunning of purchase orders.
pub fn overdue_applied(
    tx: &ReadTx<'_>,
    before: DateTime<Utc>,
) -> Result<Vec<SubscriptionInvoiceRow>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM subscription_invoices s
         WHERE s.applied_at IS NOT NULL AND s.invoice_id IN
           (SELECT id FROM invoices WHERE state = 'open' AND due_at < ?1)
         ORDER BY s.invoice_id"
    ))?;
    let raws = stmt
        .query_map([ts(before)], raw)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(row).collect()
}
