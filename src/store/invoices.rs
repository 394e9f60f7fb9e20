//! Invoices, their lines, the per-year number counter and credit notes (schema step
//! 11). Payments are in `store::payments`. A finalised invoice's lines and totals are
//! fixed (the service refuses first; triggers refuse too).

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

pub use crate::domain::invoice::InvoiceStatus;

fn parse_status(s: &str) -> Result<InvoiceStatus> {
    InvoiceStatus::parse(s).map_err(|_| StoreError::Corrupt {
        column: "invoices.state",
        value: s.to_owned(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub id: i64,
    pub organization_id: i64,
    pub subscription_id: Option<i64>,
    pub state: InvoiceStatus,
    pub number: Option<String>,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub amount_paid: i64,
    pub amount_credited: i64,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub payment_method: String,
    pub po_number: String,
    pub billing_snapshot: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, organization_id, subscription_id, state, number, currency, subtotal_minor, \
     tax_minor, total_minor, amount_paid, amount_credited, issued_at, due_at, payment_method, \
     po_number, billing_snapshot, created_at, created_by, updated_at, voided_at";

type Raw = (
    (i64, i64, Option<i64>, String, Option<String>, String, i64),
    (i64, i64, i64, i64, Option<String>, Option<String>),
    (
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    ),
);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ),
        (
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
        ),
        (
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
            r.get(16)?,
            r.get(17)?,
            r.get(18)?,
            r.get(19)?,
        ),
    ))
}

fn parse(raw: Raw) -> Result<InvoiceRow> {
    let (
        (id, organization_id, subscription_id, state, number, currency, subtotal_minor),
        (tax_minor, total_minor, amount_paid, amount_credited, issued_at, due_at),
        (
            payment_method,
            po_number,
            billing_snapshot,
            created_at,
            created_by,
            updated_at,
            voided_at,
        ),
    ) = raw;
    Ok(InvoiceRow {
        id,
        organization_id,
        subscription_id,
        state: parse_status(&state)?,
        number,
        currency,
        subtotal_minor,
        tax_minor,
        total_minor,
        amount_paid,
        amount_credited,
        issued_at: parse_opt_ts("invoices.issued_at", issued_at)?,
        due_at: parse_opt_ts("invoices.due_at", due_at)?,
        payment_method,
        po_number,
        billing_snapshot,
        created_at: parse_ts("invoices.created_at", &created_at)?,
        created_by,
        updated_at: parse_ts("invoices.updated_at", &updated_at)?,
        voided_at: parse_opt_ts("invoices.voided_at", voided_at)?,
    })
}

/// A new draft invoice's header; its totals come from its lines.
pub struct NewInvoice<'a> {
    pub organization_id: i64,
    pub subscription_id: Option<i64>,
    pub currency: &'a str,
    pub payment_method: &'a str,
    pub po_number: &'a str,
    pub created_by: &'a str,
}

pub fn insert_draft(tx: &WriteTx<'_>, n: &NewInvoice<'_>, now: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO invoices (organization_id, subscription_id, state, currency, subtotal_minor, tax_minor, total_minor,
           payment_method, po_number, created_at, created_by, updated_at)
         VALUES (?1, ?2, 'draft', ?3, 0, 0, 0, ?4, ?5, ?6, ?7, ?6)",
        params![
            n.organization_id,
            n.subscription_id,
            n.currency,
            n.payment_method,
            n.po_number,
            ts(now),
            n.created_by
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub id: i64,
    pub position: i64,
    pub kind: String,
    pub description: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub quantity: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    pub tax_rate_bp: u32,
    pub tax_minor: i64,
    pub proration: bool,
}

pub fn insert_line(tx: &WriteTx<'_>, invoice_id: i64, l: &LineRow) -> Result<i64> {
    tx.execute(
        "INSERT INTO invoice_lines (invoice_id, position, kind, description, period_start, period_end, quantity,
           unit_minor, amount_minor, tax_rate_bp, tax_minor, proration)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            invoice_id,
            l.position,
            l.kind,
            l.description,
            l.period_start.map(ts),
            l.period_end.map(ts),
            l.quantity,
            l.unit_minor,
            l.amount_minor,
            l.tax_rate_bp,
            l.tax_minor,
            l.proration
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Removes a draft's lines (a finalised invoice's are kept: the triggers refuse).
pub fn delete_draft_lines(tx: &WriteTx<'_>, invoice_id: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM invoice_lines WHERE invoice_id = ?1",
        [invoice_id],
    )?;
    Ok(())
}

/// Sets a draft's totals (the sums of its lines).
pub fn set_totals(
    tx: &WriteTx<'_>,
    id: i64,
    subtotal: i64,
    tax: i64,
    total: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE invoices SET subtotal_minor = ?2, tax_minor = ?3, total_minor = ?4, updated_at = ?5
         WHERE id = ?1 AND state = 'draft'",
        params![id, subtotal, tax, total, ts(now)],
    )?;
    Ok(())
}

pub fn lines(tx: &ReadTx<'_>, invoice_id: i64) -> Result<Vec<LineRow>> {
    let mut st = tx.prepare(
        "SELECT id, position, kind, description, period_start, period_end, quantity, unit_minor, amount_minor,
           tax_rate_bp, tax_minor, proration
         FROM invoice_lines WHERE invoice_id = ?1 ORDER BY position",
    )?;
    let raw = st
        .query_map([invoice_id], |r| {
            Ok((
                (
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ),
                (
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, u32>(9)?,
                    r.get::<_, i64>(10)?,
                    r.get::<_, bool>(11)?,
                ),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(
            |(
                (id, position, kind, description, ps, pe),
                (quantity, unit, amount, rate, tax, pro),
            )| {
                Ok(LineRow {
                    id,
                    position,
                    kind,
                    description,
                    period_start: parse_opt_ts("invoice_lines.period_start", ps)?,
                    period_end: parse_opt_ts("invoice_lines.period_end", pe)?,
                    quantity,
                    unit_minor: unit,
                    amount_minor: amount,
                    tax_rate_bp: rate,
                    tax_minor: tax,
                    proration: pro,
                })
            },
        )
        .collect()
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<InvoiceRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM invoices WHERE id = ?1"),
        [id],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// The finalised invoice numbered `number` (`INV-2026-000042`), if any.
pub fn find_by_number(tx: &ReadTx<'_>, number: &str) -> Result<Option<InvoiceRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM invoices WHERE number = ?1"),
        [number],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// Which invoices a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    All,
    Draft,
    Open,
    /// Open and past its due date at `now`.
    Overdue(DateTime<Utc>),
    Paid,
    Void,
}

/// Invoices newest first, at most `limit`, optionally of one organization.
pub fn list(
    tx: &ReadTx<'_>,
    filter: ListFilter,
    organization_id: Option<i64>,
    limit: i64,
) -> Result<Vec<InvoiceRow>> {
    let (cond, at) = match filter {
        ListFilter::All => ("1 = 1", None),
        ListFilter::Draft => ("state = 'draft'", None),
        ListFilter::Open => ("state = 'open'", None),
        ListFilter::Overdue(now) => ("state = 'open'", Some(ts(now))),
        ListFilter::Paid => ("state = 'paid'", None),
        ListFilter::Void => ("state = 'void'", None),
    };
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE {cond} AND (?1 IS NULL OR organization_id = ?1)
         AND (?3 IS NULL OR due_at < ?3) ORDER BY id DESC LIMIT ?2"
    ))?;
    let raw = st
        .query_map(params![organization_id, limit, at], read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(parse).collect()
}

/// Takes the next number of `year` (the counter moves in the caller's write
/// transaction, so numbers are gapless and never repeat).
pub fn next_number(tx: &WriteTx<'_>, year: i32) -> Result<i64> {
    tx.execute(
        "INSERT INTO invoice_counters (year, last) VALUES (?1, 1)
         ON CONFLICT (year) DO UPDATE SET last = last + 1",
        [year],
    )?;
    Ok(tx.query_row(
        "SELECT last FROM invoice_counters WHERE year = ?1",
        [year],
        |r| r.get(0),
    )?)
}

/// Finalises a draft: its number, issue and due dates, and the billing snapshot.
pub fn finalise(
    tx: &WriteTx<'_>,
    id: i64,
    number: &str,
    issued_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    snapshot: &str,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE invoices SET state = 'open', number = ?2, issued_at = ?3, due_at = ?4, billing_snapshot = ?5,
           updated_at = ?3
         WHERE id = ?1 AND state = 'draft'",
        params![id, number, ts(issued_at), ts(due_at), snapshot],
    )?;
    Ok(n == 1)
}

/// Sets what was paid and credited, and the state that follows from it.
pub fn set_settlement(
    tx: &WriteTx<'_>,
    id: i64,
    state: InvoiceStatus,
    amount_paid: i64,
    amount_credited: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE invoices SET state = ?2, amount_paid = ?3, amount_credited = ?4, updated_at = ?5,
           voided_at = CASE WHEN ?2 = 'void' THEN ?5 ELSE voided_at END
         WHERE id = ?1",
        params![id, state.as_str(), amount_paid, amount_credited, ts(now)],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditNoteRow {
    pub id: i64,
    pub invoice_id: i64,
    pub number: String,
    pub reason: String,
    pub amount_minor: i64,
    pub lines: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

pub struct NewCreditNote<'a> {
    pub invoice_id: i64,
    pub number: &'a str,
    pub reason: &'a str,
    pub amount_minor: i64,
    pub lines: &'a str,
    pub created_by: &'a str,
}

pub fn insert_credit_note(
    tx: &WriteTx<'_>,
    n: &NewCreditNote<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO credit_notes (invoice_id, number, reason, amount_minor, lines, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            n.invoice_id,
            n.number,
            n.reason,
            n.amount_minor,
            n.lines,
            ts(now),
            n.created_by
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn credit_notes(tx: &ReadTx<'_>, invoice_id: i64) -> Result<Vec<CreditNoteRow>> {
    let mut st = tx.prepare(
        "SELECT id, invoice_id, number, reason, amount_minor, lines, created_at, created_by
         FROM credit_notes WHERE invoice_id = ?1 ORDER BY id",
    )?;
    let raw = st
        .query_map([invoice_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(
            |(id, invoice_id, number, reason, amount_minor, lines, at, by)| {
                Ok(CreditNoteRow {
                    id,
                    invoice_id,
                    number,
                    reason,
                    amount_minor,
                    lines,
                    created_at: parse_ts("credit_notes.created_at", &at)?,
                    created_by: by,
                })
            },
        )
        .collect()
}
