//! Read-only sums over the billing ledger (schema step 11) for the staff revenue
//! summary: the users of the subscriptions that count for recurring revenue, what is
//! open and overdue, what was paid, and invoiced and paid per calendar month. Amounts
//! are summed in one currency; the service says which.

use super::{ReadTx, Result, ts};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

/// The users of one period's active and past-due subscriptions, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodUsers {
    /// `monthly` or `yearly`.
    pub period: String,
    pub subscriptions: i64,
    pub internal_users: i64,
    pub external_users: i64,
}

/// Active and past-due subscriptions by period (the ones that count for recurring
/// revenue: a past-due one is still owed).
pub fn recurring_users(tx: &ReadTx<'_>) -> Result<Vec<PeriodUsers>> {
    let mut st = tx.prepare(
        "SELECT period, COUNT(*), COALESCE(SUM(internal_users), 0), COALESCE(SUM(external_users), 0)
         FROM subscriptions WHERE status IN ('active', 'past_due') GROUP BY period ORDER BY period",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(PeriodUsers {
                period: r.get(0)?,
                subscriptions: r.get(1)?,
                internal_users: r.get(2)?,
                external_users: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// What is left to pay on open invoices in `currency` and how many there are; with
/// `due_before`, only those due before it (overdue).
pub fn open_left(
    tx: &ReadTx<'_>,
    currency: &str,
    due_before: Option<DateTime<Utc>>,
) -> Result<(i64, i64)> {
    Ok(tx.query_row(
        "SELECT COALESCE(SUM(total_minor - amount_paid - amount_credited), 0), COUNT(*)
         FROM invoices WHERE state = 'open' AND currency = ?1 AND (?2 IS NULL OR due_at < ?2)",
        params![currency, due_before.map(ts)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Payments on invoices in `currency` received on or after `since`.
pub fn paid_since(tx: &ReadTx<'_>, currency: &str, since: NaiveDate) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p JOIN invoices i ON i.id = p.invoice_id
         WHERE i.currency = ?1 AND p.received_on >= ?2",
        params![currency, since.to_string()],
        |r| r.get(0),
    )?)
}

/// The totals of invoices in `currency` issued on or after `since` (open or paid; a
/// voided invoice was never owed), by month of issue (`2026-06`).
pub fn invoiced_by_month(
    tx: &ReadTx<'_>,
    currency: &str,
    since: NaiveDate,
) -> Result<Vec<(String, i64)>> {
    let mut st = tx.prepare(
        "SELECT substr(issued_at, 1, 7) AS month, SUM(total_minor) FROM invoices
         WHERE state IN ('open', 'paid') AND currency = ?1 AND issued_at >= ?2
         GROUP BY month ORDER BY month",
    )?;
    let rows = st
        .query_map(params![currency, since.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Payments on invoices in `currency` received on or after `since`, by month received.
pub fn paid_by_month(
    tx: &ReadTx<'_>,
    currency: &str,
    since: NaiveDate,
) -> Result<Vec<(String, i64)>> {
    let mut st = tx.prepare(
        "SELECT substr(p.received_on, 1, 7) AS month, SUM(p.amount_minor)
         FROM payments p JOIN invoices i ON i.id = p.invoice_id
         WHERE i.currency = ?1 AND p.received_on >= ?2 GROUP BY month ORDER BY month",
    )?;
    let rows = st
        .query_map(params![currency, since.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many finalised, unvoided invoices are in another currency than `currency` (the
/// summary leaves them out and says so).
pub fn other_currency_invoices(tx: &ReadTx<'_>, currency: &str) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COUNT(*) FROM invoices WHERE state IN ('open', 'paid') AND currency <> ?1",
        [currency],
        |r| r.get(0),
    )?)
}
