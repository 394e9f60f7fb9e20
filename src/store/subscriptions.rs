//! Subscriptions (schema step 11): what an organization buys for one installation, and
//! the license it leads to once issued. The lifecycle (activate, renew, cancel) is the
//! subscription service's; this is its storage.

use super::{ReadTx, Result, WriteTx, parse_opt_ts, ts};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: i64,
    pub organization_id: i64,
    pub license_id: Option<String>,
    pub install_id: String,
    pub license_name: String,
    pub internal_users: i64,
    pub external_users: i64,
    /// `monthly` or `yearly`.
    pub period: String,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    /// `pending`, `active`, `past_due`, `canceled` or `ended`.
    pub status: String,
    pub cancel_at_period_end: bool,
    pub pending_internal_users: Option<i64>,
    pub pending_external_users: Option<i64>,
    /// The first period's start day; `None` while pending.
    pub anchor_date: Option<NaiveDate>,
}

pub struct NewSubscription<'a> {
    pub organization_id: i64,
    pub install_id: &'a str,
    pub license_name: &'a str,
    pub internal_users: i64,
    pub external_users: i64,
    pub period: &'a str,
}

/// A new subscription, `pending` until its first invoice is paid.
pub fn insert(tx: &WriteTx<'_>, s: &NewSubscription<'_>, now: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO subscriptions (organization_id, install_id, license_name, internal_users, external_users,
           period, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)",
        params![
            s.organization_id,
            s.install_id,
            s.license_name,
            s.internal_users,
            s.external_users,
            s.period,
            ts(now)
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

const COLUMNS: &str =
    "id, organization_id, license_id, install_id, license_name, internal_users, external_users,
   period, current_period_start, current_period_end, status, cancel_at_period_end,
   pending_internal_users, pending_external_users, anchor_date";

type Raw = (
    (i64, i64, Option<String>, String, String, i64, i64),
    (
        String,
        Option<String>,
        Option<String>,
        String,
        bool,
        Option<i64>,
        Option<i64>,
        Option<String>,
    ),
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
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
            r.get(13)?,
            r.get(14)?,
        ),
    ))
}

fn row(raw: Raw) -> Result<SubscriptionRow> {
    let (
        (id, org, license, install, name, int, ext),
        (period, start, end, status, cancel, pi, pe, anchor),
    ) = raw;
    let anchor_date = anchor
        .map(|a| {
            NaiveDate::parse_from_str(&a, "%Y-%m-%d").map_err(|_| super::StoreError::Corrupt {
                column: "subscriptions.anchor_date",
                value: a.clone(),
            })
        })
        .transpose()?;
    Ok(SubscriptionRow {
        id,
        organization_id: org,
        license_id: license,
        install_id: install,
        license_name: name,
        internal_users: int,
        external_users: ext,
        period,
        current_period_start: parse_opt_ts("subscriptions.current_period_start", start)?,
        current_period_end: parse_opt_ts("subscriptions.current_period_end", end)?,
        status,
        cancel_at_period_end: cancel,
        pending_internal_users: pi,
        pending_external_users: pe,
        anchor_date,
    })
}

fn select(
    tx: &ReadTx<'_>,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<SubscriptionRow>> {
    let mut stmt = tx.prepare(&format!("SELECT {COLUMNS} FROM subscriptions {filter}"))?;
    let raws = stmt
        .query_map(args, raw)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(row).collect()
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<SubscriptionRow>> {
    Ok(select(tx, "WHERE id = ?1", [id])?.into_iter().next())
}

/// An organization's subscriptions, newest first.
pub fn of_organization(tx: &ReadTx<'_>, organization_id: i64) -> Result<Vec<SubscriptionRow>> {
    select(
        tx,
        "WHERE organization_id = ?1 ORDER BY id DESC",
        [organization_id],
    )
}

/// Every subscription, newest first, at most `limit` (the staff list).
pub fn list(tx: &ReadTx<'_>, status: Option<&str>, limit: i64) -> Result<Vec<SubscriptionRow>> {
    match status {
        Some(s) => select(
            tx,
            "WHERE status = ?1 ORDER BY id DESC LIMIT ?2",
            params![s, limit],
        ),
        None => select(tx, "ORDER BY id DESC LIMIT ?1", [limit]),
    }
}

/// Active and past-due subscriptions whose period ends before `horizon`: the ones the
/// scheduler may have to renew, end or move on.
pub fn ending_before(tx: &ReadTx<'_>, horizon: DateTime<Utc>) -> Result<Vec<SubscriptionRow>> {
    select(
        tx,
        "WHERE status IN ('active', 'past_due', 'canceled') AND current_period_end IS NOT NULL
           AND current_period_end < ?1 ORDER BY current_period_end",
        [ts(horizon)],
    )
}

fn touch(
    tx: &WriteTx<'_>,
    sql: &str,
    id: i64,
    value: &dyn rusqlite::ToSql,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        &format!("UPDATE subscriptions SET {sql}, updated_at = ?3 WHERE id = ?1"),
        params![id, value, ts(now)],
    )?;
    Ok(())
}

pub fn set_status(tx: &WriteTx<'_>, id: i64, status: &str, now: DateTime<Utc>) -> Result<()> {
    touch(tx, "status = ?2", id, &status, now)
}

pub fn set_license(tx: &WriteTx<'_>, id: i64, license_id: &str, now: DateTime<Utc>) -> Result<()> {
    touch(tx, "license_id = ?2", id, &license_id, now)
}

pub fn set_cancel_at_period_end(
    tx: &WriteTx<'_>,
    id: i64,
    cancel: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    touch(tx, "cancel_at_period_end = ?2", id, &cancel, now)
}

/// The paid period, and its anchor (the first period's start day).
pub fn set_period(
    tx: &WriteTx<'_>,
    id: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    anchor: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE subscriptions SET current_period_start = ?2, current_period_end = ?3, anchor_date = ?4,
           updated_at = ?5 WHERE id = ?1",
        params![id, ts(start), ts(end), anchor.format("%Y-%m-%d").to_string(), ts(now)],
    )?;
    Ok(())
}

/// The user counts now, and the counts that wait for the next renewal (a decrease).
pub fn set_counts(
    tx: &WriteTx<'_>,
    id: i64,
    internal: i64,
    external: i64,
    pending: Option<(i64, i64)>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE subscriptions SET internal_users = ?2, external_users = ?3, pending_internal_users = ?4,
           pending_external_users = ?5, updated_at = ?6 WHERE id = ?1",
        params![
            id,
            internal,
            external,
            pending.map(|p| p.0),
            pending.map(|p| p.1),
            ts(now)
        ],
    )?;
    Ok(())
}
