//! Subscriptions, the customer's side (seed 000: purchase, more users, cancel): an
//! owner buys a license for an Install ID (a pending subscription and its first invoice,
//! emailed), upgrades the user count (a prorated invoice), lowers it (at the next
//! renewal), cancels at the period's end and undoes it. What paying does, renewals and
//! dunning are `subscription_billing`'s. Members see their organization's subscriptions;
//! owners act (`organizations::ownership`); anyone else gets `not_found`.

use super::invoices::{self, Mailing};
use super::organizations::{CustomerActor, membership, ownership};
use super::subscription_billing::{
    self, country, invoice_for, invoice_line, invoice_method, price_list_in, target,
};
use super::tenant::Tenant;
use super::{App, Result, ServiceError, audit, refuse};
use crate::domain::billing_cycle::{self, midnight};
use crate::domain::fields::LICENSE_TEXT_MAX;
use crate::domain::free_text;
use crate::domain::invoice::SubscriptionStatus;
use crate::domain::license::check_install_id;
use crate::domain::pricing::{self, BillingPeriod, Change, LineKind, Quote, QuoteLine};
use crate::domain::proration;
use crate::error::ErrorCode;
use crate::store::ReadTx;
use crate::store::subscription_invoices as sub_invoices;
use crate::store::subscriptions::{self as store, NewSubscription, SubscriptionRow};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Most subscriptions a staff list answers.
pub const LIST_MAX: i64 = 500;

fn not_found() -> ServiceError {
    refuse(ErrorCode::NotFound, "no such subscription")
}

fn invalid(field: &str, why: &str) -> ServiceError {
    refuse(ErrorCode::ValidationFailed, format!("{field}: {why}"))
}

/// A subscription as the portal and the console show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub organization_id: i64,
    /// The license it pays for; `null` until the first invoice is paid.
    pub license_id: Option<String>,
    pub install_id: String,
    pub license_name: String,
    pub internal_users: i64,
    pub external_users: i64,
    /// `monthly` or `yearly`.
    pub period: String,
    /// `pending`, `active`, `past_due`, `canceled` or `ended`.
    pub status: String,
    pub cancel_at_period_end: bool,
    pub current_period_start: Option<DateTime<Utc>>,
    /// The end of the paid period: it renews then, or ends when canceled.
    pub current_period_end: Option<DateTime<Utc>>,
    /// Lower counts that take effect at the next renewal.
    pub pending_internal_users: Option<i64>,
    pub pending_external_users: Option<i64>,
    /// Owners may cancel it (active, not canceled yet).
    pub can_cancel: bool,
    /// Owners may undo its cancellation (before the period's end).
    pub can_undo_cancel: bool,
    /// Owners may change its user counts (active and not canceled).
    pub can_change: bool,
}

impl SubscriptionView {
    fn new(r: SubscriptionRow, now: DateTime<Utc>) -> Self {
        let active = r.status == SubscriptionStatus::Active.as_str();
        let running = r.current_period_end.is_some_and(|e| e > now);
        SubscriptionView {
            can_cancel: active && !r.cancel_at_period_end,
            can_undo_cancel: active && r.cancel_at_period_end && running,
            can_change: active && !r.cancel_at_period_end && running,
            id: r.id,
            organization_id: r.organization_id,
            license_id: r.license_id,
            install_id: r.install_id,
            license_name: r.license_name,
            internal_users: r.internal_users,
            external_users: r.external_users,
            period: r.period,
            status: r.status,
            cancel_at_period_end: r.cancel_at_period_end,
            current_period_start: r.current_period_start,
            current_period_end: r.current_period_end,
            pending_internal_users: r.pending_internal_users,
            pending_external_users: r.pending_external_users,
        }
    }
}

/// An organization's subscriptions, for its members (`not_found` for anyone else).
pub fn of_organization(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    org_id: i64,
) -> Result<Vec<SubscriptionView>> {
    tenant.db.read(|tx| {
        membership(tx, org_id, customer_id)?;
        Ok(store::of_organization(tx, org_id)?
            .into_iter()
            .map(|r| SubscriptionView::new(r, now))
            .collect())
    })
}

/// Every subscription (staff), newest first, optionally in one status.
pub fn list(
    tenant: &Tenant,
    now: DateTime<Utc>,
    status: Option<&str>,
) -> Result<Vec<SubscriptionView>> {
    if let Some(s) = status {
        SubscriptionStatus::parse(s)?;
    }
    let rows = tenant.db.read(|tx| store::list(tx, status, LIST_MAX))?;
    Ok(rows
        .into_iter()
        .map(|r| SubscriptionView::new(r, now))
        .collect())
}

/// A purchase as the owner typed it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseInput {
    /// The deployment's Install ID (Enterprise > Licenses in the product).
    pub install_id: String,
    /// Empty: "<organization> <install ID>".
    #[serde(default)]
    pub license_name: String,
    pub internal_users: i64,
    pub external_users: i64,
    /// `monthly` or `yearly` (a co-termed purchase takes the period of the one it joins).
    #[serde(default)]
    pub period: String,
    /// `bank_transfer` (default) or `purchase_order`.
    #[serde(default)]
    pub payment_method: String,
    /// The purchase order's number (with `purchase_order`).
    #[serde(default)]
    pub po_number: String,
    /// Co-term with this active subscription: prorated to its renewal date, renewed with it.
    #[serde(default)]
    pub coterm_with: Option<i64>,
}

/// The checkout page: what *Pay and subscribe* will invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Checkout {
    pub install_id: String,
    pub license_name: String,
    pub internal_users: i64,
    pub external_users: i64,
    /// `monthly` or `yearly`.
    #[schema(value_type = String)]
    pub period: BillingPeriod,
    #[schema(value_type = Object)]
    pub quote: Quote,
    /// The period it pays for if paid today (it starts on the day it is paid).
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub coterm_with: Option<i64>,
    pub payment_method: String,
    pub po_number: String,
    /// Net N: the invoice is due N days after it is issued.
    pub payment_terms_days: i64,
    pub bank_details: String,
}

/// What *Pay and subscribe* made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Purchased {
    pub subscription_id: i64,
    pub invoice_id: i64,
    /// `INV-YYYY-NNNNNN`.
    pub invoice_number: String,
    pub checkout: Checkout,
}

/// An active subscription of `org_id` that a new one may join (co-term).
fn coterm_target(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    org_id: i64,
    id: i64,
) -> Result<(SubscriptionRow, NaiveDate, NaiveDate)> {
    let s = store::find(tx, id)?
        .filter(|s| s.organization_id == org_id)
        .ok_or_else(|| invalid("coterm_with", "is not a subscription of this organization"))?;
    match (s.current_period_start, s.current_period_end) {
        (Some(start), Some(end))
            if s.status == SubscriptionStatus::Active.as_str()
                && !s.cancel_at_period_end
                && end.date_naive() > now.date_naive() =>
        {
            Ok((s, start.date_naive(), end.date_naive()))
        }
        _ => Err(refuse(
            ErrorCode::SubscriptionState,
            "coterm_with: only an active subscription that is not canceled can be joined",
        )),
    }
}

/// The co-termed quote: each user line priced for the days from `day` to the joined
/// subscription's period end (`proration::prorate` of the unit price, per unit).
fn coterm_quote(
    list: &pricing::PriceList,
    period: BillingPeriod,
    (start, end, day): (NaiveDate, NaiveDate, NaiveDate),
    internal: i64,
    external: i64,
    country: Option<&str>,
) -> Result<Quote> {
    pricing::check_quantities(list, internal, external)?;
    let p = list.prices(period).ok_or_else(|| {
        invalid(
            "period",
            &format!("the price list has no {} price", period.as_str()),
        )
    })?;
    let rate = list.tax.rate_for(country);
    let mut lines = Vec::new();
    for (kind, n, unit, who) in [
        (
            LineKind::InternalUsers,
            internal,
            p.internal_user_minor,
            "Internal users",
        ),
        (
            LineKind::ExternalUsers,
            external,
            p.external_user_minor,
            "External users",
        ),
    ] {
        if n == 0 {
            continue;
        }
        let part = proration::prorate(0, unit, start, end, day)?;
        lines.push(QuoteLine::new(
            kind,
            format!(
                "{who}, {} of {} days to {end} (co-termed)",
                part.days_remaining, part.days_total
            ),
            n,
            part.charge_minor,
            rate,
        )?);
    }
    Ok(Quote::from_lines(list.currency, lines)?)
}

/// Checks a purchase and prices it (the checkout page and *Pay and subscribe* alike).
fn plan(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    org_id: i64,
    org_name: &str,
    input: &PurchaseInput,
) -> Result<Checkout> {
    let (stored, list) = price_list_in(tx)?;
    let install_id = check_install_id(&input.install_id)?;
    let typed_name = free_text::line("license_name", &input.license_name, LICENSE_TEXT_MAX, false)?;
    let license_name = if typed_name.is_empty() {
        let mut n = format!("{org_name} {install_id}");
        n.truncate(n.floor_char_boundary(LICENSE_TEXT_MAX));
        n
    } else {
        typed_name
    };
    let method = match input.payment_method.trim() {
        "" | "bank_transfer" => "bank_transfer",
        "purchase_order" if list.allow_purchase_order => "purchase_order",
        "purchase_order" => {
            return Err(refuse(
                ErrorCode::PurchaseOrderNotAccepted,
                "payment_method: the vendor does not accept purchase orders; pay by bank transfer",
            ));
        }
        _ => {
            return Err(invalid(
                "payment_method",
                "must be bank_transfer or purchase_order",
            ));
        }
    };
    let po_number = free_text::line(
        "po_number",
        &input.po_number,
        100,
        method == "purchase_order",
    )?;
    let country = country(tx, org_id)?;
    let today = now.date_naive();
    let (period, quote, start, end) = match input.coterm_with {
        Some(id) => {
            let (joined, start, end) = coterm_target(tx, now, org_id, id)?;
            let period = BillingPeriod::parse(&joined.period)?;
            let quote = coterm_quote(
                &list,
                period,
                (start, end, today),
                input.internal_users,
                input.external_users,
                country.as_deref(),
            )?;
            (period, quote, today, end)
        }
        None => {
            let period = BillingPeriod::parse(&input.period)?;
            let quote = pricing::quote(
                &list,
                period,
                input.internal_users,
                input.external_users,
                country.as_deref(),
            )?;
            let (start, end) = billing_cycle::first_period(period, today);
            (period, quote, start, end)
        }
    };
    Ok(Checkout {
        install_id,
        license_name,
        internal_users: input.internal_users,
        external_users: input.external_users,
        period,
        quote,
        period_start: start,
        period_end: end,
        coterm_with: input.coterm_with,
        payment_method: method.into(),
        po_number,
        payment_terms_days: stored.prices.payment_terms_days,
        bank_details: stored.prices.bank_details,
    })
}

/// The checkout page for an owner: the purchase checked and priced, nothing written.
pub fn checkout(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    input: &PurchaseInput,
) -> Result<Checkout> {
    tenant.db.read(|tx| {
        let org = ownership(tx, org_id, by.id)?;
        plan(tx, now, org_id, &org.name, input)
    })
}

/// *Pay and subscribe*: a pending subscription and its first invoice (finalised and
/// emailed to the organization). The license is issued when the invoice is paid, or
/// when staff accept its purchase order. Audited.
pub fn purchase(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    input: &PurchaseInput,
) -> Result<Purchased> {
    let mailing = Mailing::of(app, tenant)?;
    let sender = super::org_notifications::Sender::of(app, tenant)?;
    let actor = by.actor();
    tenant.db.write(|tx| {
        let org = ownership(tx, org_id, by.id)?;
        let c = plan(tx, now, org_id, &org.name, input)?;
        let sub_id = store::insert(
            tx,
            &NewSubscription {
                organization_id: org_id,
                install_id: &c.install_id,
                license_name: &c.license_name,
                internal_users: c.internal_users,
                external_users: c.external_users,
                period: c.period.as_str(),
            },
            now,
        )?;
        let (start, end) = (midnight(c.period_start), midnight(c.period_end));
        if let Some(joined) = c.coterm_with {
            // A pending subscription with an anchor joins that anchor's cycle.
            let anchor = store::find(tx, joined)?
                .and_then(|j| j.anchor_date)
                .unwrap_or(c.period_start);
            store::set_period(tx, sub_id, start, end, anchor, now)?;
        }
        let sub = store::find(tx, sub_id)?.ok_or_else(not_found)?;
        let prorated = c.coterm_with.is_some();
        let lines = c
            .quote
            .lines
            .iter()
            .map(|l| invoice_line(l, c.period_start, c.period_end, prorated))
            .collect();
        let (invoice_id, invoice_number) = invoice_for(
            tx,
            tenant,
            now,
            &actor,
            &mailing,
            &sender,
            &sub,
            ("purchase", &c.payment_method, &c.po_number),
            lines,
            (c.internal_users, c.external_users),
            (start, end),
        )?;
        audit::record(
            tx,
            now,
            &actor,
            "subscription.purchase",
            &target(sub_id),
            json!({"organization_id": org_id, "install_id": c.install_id,
                   "internal_users": c.internal_users, "external_users": c.external_users,
                   "period": c.period.as_str(), "coterm_with": c.coterm_with,
                   "invoice": invoice_number, "total_minor": c.quote.total_minor}),
        )?;
        Ok(Purchased {
            subscription_id: sub_id,
            invoice_id,
            invoice_number,
            checkout: c,
        })
    })
}

/// An owner's subscription, checked in the transaction.
fn owned(tx: &ReadTx<'_>, by: &CustomerActor, org_id: i64, id: i64) -> Result<SubscriptionRow> {
    ownership(tx, org_id, by.id)?;
    store::find(tx, id)?
        .filter(|s| s.organization_id == org_id)
        .ok_or_else(not_found)
}

fn state_refusal(why: &str) -> ServiceError {
    refuse(ErrorCode::SubscriptionState, why.to_owned())
}

/// Cancels at the period's end: the license stays valid until then and is not renewed;
/// an unpaid renewal invoice is voided. Undo with [`undo_cancel`]. Audited.
pub fn cancel(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
) -> Result<SubscriptionView> {
    let actor = by.actor();
    tenant.db.write(|tx| {
        let s = owned(tx, by, org_id, id)?;
        if s.status != SubscriptionStatus::Active.as_str() || s.cancel_at_period_end {
            return Err(state_refusal(
                "only an active subscription that is not canceled yet can be canceled",
            ));
        }
        store::set_cancel_at_period_end(tx, id, true, now)?;
        for open in sub_invoices::unapplied_open(tx, id)? {
            let r = invoices::load(tx, open.invoice_id)?;
            if open.purpose == "renewal" && r.amount_paid == 0 && r.amount_credited == 0 {
                invoices::void_in(tx, now, &actor, open.invoice_id, "subscription canceled")?;
            }
        }
        subscription_billing::follow_license(tx, tenant, now, &actor, id)?;
        audit::record(
            tx,
            now,
            &actor,
            "subscription.cancel",
            &target(id),
            json!({"ends_at": s.current_period_end}),
        )?;
        Ok(SubscriptionView::new(
            store::find(tx, id)?.ok_or_else(not_found)?,
            now,
        ))
    })
}

/// Undoes a cancellation before the period's end: it renews again. Audited.
pub fn undo_cancel(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
) -> Result<SubscriptionView> {
    let actor = by.actor();
    tenant.db.write(|tx| {
        let s = owned(tx, by, org_id, id)?;
        if !SubscriptionView::new(s, now).can_undo_cancel {
            return Err(state_refusal(
                "only a canceled subscription whose period has not ended can be resumed",
            ));
        }
        store::set_cancel_at_period_end(tx, id, false, now)?;
        subscription_billing::follow_license(tx, tenant, now, &actor, id)?;
        audit::record(
            tx,
            now,
            &actor,
            "subscription.undo_cancel",
            &target(id),
            json!({}),
        )?;
        Ok(SubscriptionView::new(
            store::find(tx, id)?.ok_or_else(not_found)?,
            now,
        ))
    })
}

/// A change of user counts, priced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangePreview {
    pub subscription_id: i64,
    pub internal_users: i64,
    pub external_users: i64,
    /// `upgrade`: invoiced now, prorated, applied when paid. `decrease`: from the next
    /// renewal, nothing invoiced now.
    pub kind: &'static str,
    /// The prorated invoice of an upgrade (credit for the unused time of the old counts,
    /// charge for the remaining time of the new ones); `null` for a decrease.
    #[schema(value_type = Object)]
    pub quote: Option<Quote>,
    pub days_remaining: Option<i64>,
    pub days_total: Option<i64>,
    /// When it takes effect: today for an upgrade (once paid), the renewal for a decrease.
    pub effective: NaiveDate,
}

fn change_plan(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    s: &SubscriptionRow,
    internal: i64,
    external: i64,
) -> Result<ChangePreview> {
    let (start, end) = match (s.current_period_start, s.current_period_end) {
        (Some(a), Some(b)) if SubscriptionView::new(s.clone(), now).can_change => {
            (a.date_naive(), b.date_naive())
        }
        _ => {
            return Err(state_refusal(
                "only an active subscription that is not canceled can change its user counts",
            ));
        }
    };
    let (old_i, old_e) = (s.internal_users, s.external_users);
    if (internal, external) == (old_i, old_e) {
        return Err(invalid(
            "internal_users",
            "these are the counts it has; give other counts",
        ));
    }
    let (_, list) = price_list_in(tx)?;
    let today = now.date_naive();
    let base = ChangePreview {
        subscription_id: s.id,
        internal_users: internal,
        external_users: external,
        kind: "decrease",
        quote: None,
        days_remaining: None,
        days_total: None,
        effective: end,
    };
    if internal <= old_i && external <= old_e {
        pricing::check_quantities(&list, internal, external)?;
        return Ok(base);
    }
    if internal < old_i || external < old_e {
        return Err(invalid(
            "internal_users",
            "raise or lower the counts, not one up and one down: a raise is invoiced now, a \
             decrease waits for the renewal",
        ));
    }
    if today >= end {
        return Err(state_refusal(
            "the period ends today; change the counts after the renewal",
        ));
    }
    let change = Change {
        period: BillingPeriod::parse(&s.period)?,
        period_start: start,
        period_end: end,
        change_day: today.max(start),
        old_internal: old_i,
        old_external: old_e,
        new_internal: internal,
        new_external: external,
    };
    let (quote, p) =
        pricing::upgrade_quote(&list, &change, country(tx, s.organization_id)?.as_deref())?;
    Ok(ChangePreview {
        kind: "upgrade",
        quote: Some(quote),
        days_remaining: Some(p.days_remaining),
        days_total: Some(p.days_total),
        effective: change.change_day,
        ..base
    })
}

/// The preview of a change of user counts: the same figures the change will invoice.
pub fn preview_change(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
    internal: i64,
    external: i64,
) -> Result<ChangePreview> {
    tenant.db.read(|tx| {
        let s = owned(tx, by, org_id, id)?;
        change_plan(tx, now, &s, internal, external)
    })
}

/// What a change of user counts did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Changed {
    pub preview: ChangePreview,
    /// The upgrade's invoice (`null` for a decrease).
    pub invoice_id: Option<i64>,
    pub invoice_number: Option<String>,
}

/// Changes the user counts: an upgrade is invoiced now (prorated, Stripe's rule) and
/// the license reissued with the higher counts when it is paid; a decrease waits for
/// the next renewal. Audited.
#[allow(clippy::too_many_arguments)]
pub fn change_users(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
    internal: i64,
    external: i64,
) -> Result<Changed> {
    let mailing = Mailing::of(app, tenant)?;
    let sender = super::org_notifications::Sender::of(app, tenant)?;
    let actor = by.actor();
    tenant.db.write(|tx| {
        let s = owned(tx, by, org_id, id)?;
        let preview = change_plan(tx, now, &s, internal, external)?;
        let (invoice_id, invoice_number) = match &preview.quote {
            None => {
                store::set_counts(
                    tx,
                    id,
                    s.internal_users,
                    s.external_users,
                    Some((internal, external)),
                    now,
                )?;
                (None, None)
            }
            Some(q) => {
                let end = s.current_period_end.ok_or_else(not_found)?;
                let method = invoice_method(tx, org_id, &price_list_in(tx)?.1)?;
                let lines = q
                    .lines
                    .iter()
                    .map(|l| invoice_line(l, preview.effective, end.date_naive(), true))
                    .collect();
                let (i, n) = invoice_for(
                    tx,
                    tenant,
                    now,
                    &actor,
                    &mailing,
                    &sender,
                    &s,
                    ("upgrade", &method, ""),
                    lines,
                    (internal, external),
                    (midnight(preview.effective), end),
                )?;
                (Some(i), Some(n))
            }
        };
        audit::record(
            tx,
            now,
            &actor,
            &format!("subscription.{}", preview.kind),
            &target(id),
            json!({"from": [s.internal_users, s.external_users], "to": [internal, external],
                   "invoice": invoice_number,
                   "total_minor": preview.quote.as_ref().map(|q| q.total_minor)}),
        )?;
        Ok(Changed {
            preview,
            invoice_id,
            invoice_number,
        })
    })
}

/// The usage history and forecast of an Install ID for the purchase and upgrade pages:
/// only for an Install ID of the organization's own licenses or subscriptions (another
/// organization's installations are none of its business), `None` otherwise or
/// without reports.
pub fn usage_of(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    org_id: i64,
    install_id: &str,
) -> Result<Option<super::installations::UsageForecast>> {
    let Ok(install_id) = check_install_id(install_id) else {
        return Ok(None);
    };
    let known =
        tenant.db.read(|tx| -> Result<bool> {
            membership(tx, org_id, customer_id)?;
            let subscribed = store::of_organization(tx, org_id)?
                .iter()
                .any(|s| s.install_id == install_id);
            Ok(subscribed
                || crate::store::licenses::organization_has_install(tx, org_id, &install_id)?)
        })?;
    if !known {
        return Ok(None);
    }
    let f = super::installations::usage_forecast(
        tenant,
        now,
        &install_id,
        crate::domain::forecast::WINDOW_DAYS as u32,
    )?;
    Ok((!f.history.is_empty()).then_some(f))
}

/// What the purchase form needs, for an owner (`organization_owner_required` for a
/// member, `not_found` for anyone else): the organization, the active subscriptions a new
/// purchase may co-term with, and the price list (none until staff set one).
pub struct PurchaseContext {
    pub org: super::organizations::Organization,
    pub coterm_choices: Vec<SubscriptionView>,
    pub prices: Option<super::price_list::Stored>,
}

pub fn purchase_context(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    org_id: i64,
) -> Result<PurchaseContext> {
    tenant.db.read(|tx| {
        let org = ownership(tx, org_id, customer_id)?;
        let coterm_choices = store::of_organization(tx, org_id)?
            .into_iter()
            .map(|r| SubscriptionView::new(r, now))
            .filter(|s| s.can_change)
            .collect();
        Ok(PurchaseContext {
            org: org.into(),
            coterm_choices,
            prices: super::price_list::read(tx)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pricing::{TaxRule, UnitPrices};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// docs/billing.md, *Subscriptions*: 5 internal users at 100.00 EUR a year, co-termed
    /// on 15 March 2027 with a subscription from 1 January 2027: 292 of 365 days.
    #[test]
    fn the_co_term_example_of_the_docs() {
        let list = pricing::PriceList {
            currency: "EUR".parse().unwrap(),
            monthly: None,
            yearly: Some(UnitPrices {
                internal_user_minor: 10_000,
                external_user_minor: 5_000,
            }),
            minimum_internal: 5,
            minimum_external: 0,
            tax: TaxRule::Flat(1900),
            payment_terms_days: 14,
            allow_purchase_order: false,
        };
        let q = coterm_quote(
            &list,
            BillingPeriod::Yearly,
            (d(2027, 1, 1), d(2028, 1, 1), d(2027, 3, 15)),
            5,
            0,
            None,
        )
        .unwrap();
        assert_eq!(q.lines.len(), 1);
        assert_eq!(q.lines[0].unit_minor, 8_000);
        assert!(q.lines[0].description.contains("292 of 365 days"));
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (40_000, 7_600, 47_600)
        );
        // Below the minimum: refused like any purchase.
        assert!(
            coterm_quote(
                &list,
                BillingPeriod::Yearly,
                (d(2027, 1, 1), d(2028, 1, 1), d(2027, 3, 15)),
                4,
                0,
                None
            )
            .is_err()
        );
    }
}
