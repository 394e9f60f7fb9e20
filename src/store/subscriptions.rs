//! Subscriptions (schema step 11): what an organization buys for one installation, and
//! the license it leads to once issued. The lifecycle (activate, renew, cancel) is the
//! subscription service's; this is its storage.

use super::{ReadTx, Result, WriteTx, parse_opt_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

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

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<SubscriptionRow>> {
    let raw = tx
        .query_row(
            "SELECT id, organization_id, license_id, install_id, license_name, internal_users, external_users,
               period, current_period_start, current_period_end, status, cancel_at_period_end,
               pending_internal_users, pending_external_users
             FROM subscriptions WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                    ),
                    (
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, bool>(11)?,
                        r.get::<_, Option<i64>>(12)?,
                        r.get::<_, Option<i64>>(13)?,
                    ),
                ))
            },
        )
        .optional()?;
    let Some((
        (id, org, license, install, name, int, ext),
        (period, start, end, status, cancel, pi, pe),
    )) = raw
    else {
        return Ok(None);
    };
    Ok(Some(SubscriptionRow {
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
    }))
}
