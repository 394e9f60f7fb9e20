//! The staff revenue summary (`billing.manage`, docs/billing.md "Revenue summary"):
//! monthly recurring revenue from the active and past-due subscriptions at the price
//! list's unit prices (`domain::revenue::mrr`), what is open and overdue, what was paid
//! in the last 30 days, and invoiced against paid per month over the last 12 months.
//! All in the price list's currency; invoices in another currency are left out and
//! counted.

use super::tenant::Tenant;
use super::{Result, ServiceError, price_list};
use crate::domain::pricing::BillingPeriod;
use crate::domain::revenue::{self, UnitPrices, Users};
use crate::store::revenue as store;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The months the chart spans.
pub const MONTHS: usize = 12;
/// The days "paid lately" looks back.
pub const PAID_DAYS: i64 = 30;
/// The currency when no price list is set.
const DEFAULT_CURRENCY: &str = "EUR";

/// Invoiced and paid in one calendar month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthRevenue {
    /// `YYYY-MM` (UTC).
    pub month: String,
    /// The totals of invoices issued that month (open or paid; void ones are left out).
    pub invoiced_minor: i64,
    /// Payments received that month.
    pub paid_minor: i64,
}

/// The revenue summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevenueSummary {
    /// Every amount is in this currency's minor units: the price list's (`EUR` when
    /// none is set).
    pub currency: String,
    pub price_list_set: bool,
    /// Monthly recurring revenue: active and past-due subscriptions' users × the price
    /// list's unit prices for their period, yearly ones ÷ 12 (0 without a price list).
    pub mrr_minor: i64,
    /// Active and past-due subscriptions.
    pub recurring_subscriptions: i64,
    /// What is left to pay on open invoices.
    pub open_minor: i64,
    pub open_invoices: i64,
    /// What is left to pay on open invoices past their due date.
    pub overdue_minor: i64,
    pub overdue_invoices: i64,
    /// Payments received in the last 30 days (by the date received).
    pub paid_last_30_days_minor: i64,
    /// The last 12 months, oldest first, this month last.
    pub months: Vec<MonthRevenue>,
    /// Finalised invoices in another currency, not counted above.
    pub other_currency_invoices: i64,
}

/// The summary at `now`.
pub fn summary(tenant: &Tenant, now: DateTime<Utc>) -> Result<RevenueSummary> {
    let prices = price_list::get(tenant)?.map(|s| s.prices);
    let currency = prices
        .as_ref()
        .map_or(DEFAULT_CURRENCY.to_owned(), |p| p.currency.clone());
    let today = now.date_naive();
    let months = revenue::last_months(today, MONTHS);
    let since = months
        .first()
        .and_then(|m| m.first_day())
        .ok_or_else(|| ServiceError::unexpected("the chart's first month has no first day"))?;
    let c = currency.as_str();
    let (users, open, overdue, paid_30, invoiced, paid, other) = tenant.db.read(|tx| {
        Ok::<_, ServiceError>((
            store::recurring_users(tx)?,
            store::open_left(tx, c, None)?,
            store::open_left(tx, c, Some(now))?,
            store::paid_since(tx, c, today - Duration::days(PAID_DAYS))?,
            store::invoiced_by_month(tx, c, since)?,
            store::paid_by_month(tx, c, since)?,
            store::other_currency_invoices(tx, c)?,
        ))
    })?;
    let counted: Vec<Users> = users
        .iter()
        .map(|u| {
            Ok(Users {
                period: BillingPeriod::parse(&u.period)?,
                internal: u.internal_users,
                external: u.external_users,
            })
        })
        .collect::<Result<_>>()?;
    let mrr_minor = match &prices {
        Some(p) => revenue::mrr(
            &UnitPrices {
                internal_monthly: p.internal_monthly_minor,
                internal_yearly: p.internal_yearly_minor,
                external_monthly: p.external_monthly_minor,
                external_yearly: p.external_yearly_minor,
            },
            &counted,
        )?,
        None => 0,
    };
    let in_month = |rows: &[(String, i64)], key: &str| {
        rows.iter().find(|(m, _)| m == key).map_or(0, |(_, v)| *v)
    };
    let months = months
        .iter()
        .map(|m| {
            let key = m.key();
            MonthRevenue {
                invoiced_minor: in_month(&invoiced, &key),
                paid_minor: in_month(&paid, &key),
                month: key,
            }
        })
        .collect();
    Ok(RevenueSummary {
        price_list_set: prices.is_some(),
        mrr_minor,
        recurring_subscriptions: users.iter().map(|u| u.subscriptions).sum(),
        open_minor: open.0,
        open_invoices: open.1,
        overdue_minor: overdue.0,
        overdue_invoices: overdue.1,
        paid_last_30_days_minor: paid_30,
        months,
        other_currency_invoices: other,
        currency,
    })
}
