//! Payments recorded against invoices (schema step 11). An idempotency key makes a
//! repeated recording find the first one.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: i64,
    pub invoice_id: i64,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: String,
    pub method: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
}

pub struct NewPayment<'a> {
    pub invoice_id: i64,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: &'a str,
    pub method: &'a str,
    pub recorded_by: &'a str,
    pub idempotency_key: Option<&'a str>,
}

const COLUMNS: &str = "id, invoice_id, amount_minor, received_on, reference, method, recorded_by, \
     recorded_at, idempotency_key";

type Raw = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
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

fn parse(raw: Raw) -> Result<PaymentRow> {
    let (id, invoice_id, amount_minor, received_on, reference, method, recorded_by, at, key) = raw;
    Ok(PaymentRow {
        id,
        invoice_id,
        amount_minor,
        received_on: received_on
            .parse()
            .map_err(|_| super::StoreError::Corrupt {
                column: "payments.received_on",
                value: received_on.clone(),
            })?,
        reference,
        method,
        recorded_by,
        recorded_at: parse_ts("payments.recorded_at", &at)?,
        idempotency_key: key,
    })
}

pub fn insert(tx: &WriteTx<'_>, p: &NewPayment<'_>, now: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO payments (invoice_id, amount_minor, received_on, reference, method, recorded_by, recorded_at,
           idempotency_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            p.invoice_id,
            p.amount_minor,
            p.received_on.to_string(),
            p.reference,
            p.method,
            p.recorded_by,
            ts(now),
            p.idempotency_key
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<PaymentRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"),
        [id],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

pub fn by_key(tx: &ReadTx<'_>, key: &str) -> Result<Option<PaymentRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM payments WHERE idempotency_key = ?1"),
        [key],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// An invoice's payments, oldest first.
pub fn of_invoice(tx: &ReadTx<'_>, invoice_id: i64) -> Result<Vec<PaymentRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM payments WHERE invoice_id = ?1 ORDER BY id"
    ))?;
    let raw = st
        .query_map([invoice_id], read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(parse).collect()
}

/// The payments on an organization's invoices, newest received first, at most `limit`.
pub fn of_organization(
    tx: &ReadTx<'_>,
    organization_id: i64,
    limit: i64,
) -> Result<Vec<PaymentRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM payments
         WHERE invoice_id IN (SELECT id FROM invoices WHERE organization_id = ?1)
         ORDER BY received_on DESC, id DESC LIMIT ?2"
    ))?;
    let raw = st
        .query_map(params![organization_id, limit], read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(parse).collect()
}
