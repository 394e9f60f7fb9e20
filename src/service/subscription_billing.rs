//! What paying does, and what time does, to a subscription (issue 15):
//! - an invoice of a subscription is *applied* once, when it is paid (or earlier, when
//!   staff accept its purchase order): a purchase activates the subscription and issues
//!   its license for the Install ID; a renewal moves the paid period on and renews the
//!   license (a new key, delivered to the bound appliance in its next lease); an upgrade
//!   reissues the license with the higher counts (same license id);
//! - the scheduler ([`run_due`]) issues the renewal invoice `renewal_days_before` the
//!   period's end, marks an unpaid subscription past due at the end, cancels it (and so
//!   suspends its license) when the dunning grace is over, and ends a subscription
//!   canceled at the period's end. A later payment reactivates it.
//!
//! The license follows the subscription through `domain::billing_cycle`. Every
//! transition is audited in its transaction.

use super::invoices::{self, Mailing, NewDraft, NewLine};
use super::license_actions::set_subscription_in;
use super::license_keys::rekey_in_tx;
use super::licenses::{issue_in_tx, load as load_license};
use super::org_notifications::Sender;
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, price_list, refuse};
use crate::domain::billing_cycle::{self, midnight};
use crate::domain::invoice::{SubscriptionEvent, SubscriptionStatus};
use crate::domain::license::KeyReason;
use crate::domain::license::{Amendment, LicenseRequest};
use crate::domain::lifecycle::LicenseState;
use crate::domain::pricing::{self, BillingPeriod};
use crate::domain::pricing::{LineKind, QuoteLine};
use crate::error::ErrorCode;
use crate::store::invoices::InvoiceStatus;
use crate::store::subscription_invoices::{self as sub_invoices, SubscriptionInvoiceRow};
use crate::store::subscriptions::{self as store, SubscriptionRow};
use crate::store::{ReadTx, WriteTx, billing_accounts};
use chrono::NaiveDate;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Dunning grace and renewal lead when no price list is set.
const DEFAULT_DAYS: i64 = 14;

fn unexpected(what: &str) -> ServiceError {
    ServiceError::unexpected(what.to_owned())
}

fn dunning_days(tx: &WriteTx<'_>) -> Result<i64> {
    Ok(super::price_list::read(tx)?.map_or(DEFAULT_DAYS, |p| p.prices.dunning_grace_days))
}

fn load(tx: &WriteTx<'_>, id: i64) -> Result<SubscriptionRow> {
    store::find(tx, id)?.ok_or_else(|| unexpected("a subscription of an invoice is gone"))
}

fn status(s: &SubscriptionRow) -> Result<SubscriptionStatus> {
    Ok(SubscriptionStatus::parse(&s.status)?)
}

/// Moves the subscription by `event` (`SubscriptionStatus::next`), audited.
fn transition(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    s: &SubscriptionRow,
    event: SubscriptionEvent,
) -> Result<SubscriptionStatus> {
    let from = status(s)?;
    let to = from.next(event)?;
    if to != from {
        store::set_status(tx, s.id, to.as_str(), now)?;
        audit::record(
            tx,
            now,
            actor,
            "subscription.status",
            &target(s.id),
            json!({"from": from.as_str(), "to": to.as_str(), "event": event.as_str()}),
        )?;
    }
    Ok(to)
}

/// Sets the license's subscription from the billing subscription (suspending or
/// reactivating it through the license's life cycle), if it has a live license.
pub(super) fn follow_license(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<()> {
    let s = load(tx, id)?;
    let Some(license_id) = &s.license_id else {
        return Ok(());
    };
    let l = load_license(tx, license_id)?;
    if matches!(l.state, LicenseState::Revoked | LicenseState::Expired) {
        return Ok(());
    }
    let sub = billing_cycle::license_subscription(
        status(&s)?,
        s.cancel_at_period_end,
        s.current_period_end,
    );
    if l.subscription != sub {
        set_subscription_in(tx, tenant, now, actor, license_id, sub)?;
    }
    Ok(())
}

/// Issues the subscription's license (a purchase, or a renewal whose license expired).
fn issue_license(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    sender: &Sender,
    s: &SubscriptionRow,
    period_end: DateTime<Utc>,
) -> Result<()> {
    let grace = dunning_days(tx)?;
    let count = |n: i64, field: &str| {
        u32::try_from(n).map_err(|_| {
            refuse(
                ErrorCode::ValidationFailed,
                format!("{field}: out of range"),
            )
        })
    };
    let req = LicenseRequest {
        name: s.license_name.clone(),
        install_id: s.install_id.clone(),
        organization: String::new(),
        organization_id: Some(s.organization_id),
        internal_users: count(s.internal_users, "internal_users")?,
        external_users: count(s.external_users, "external_users")?,
        features: Vec::new(),
        flags: Vec::new(),
        not_before: Some(now),
        expires_at: billing_cycle::license_expiry(period_end, grace),
    };
    let valid = crate::domain::license::validate(&req, now)?;
    let (row, _key) = issue_in_tx(tx, tenant, now, actor, &valid, sender)?;
    store::set_license(tx, s.id, &row.id, now)?;
    follow_license(tx, tenant, now, actor, s.id)
}

/// A new key for the subscription's license: its expiry follows the paid period, and
/// its counts the subscription's. Revoked by staff: left alone (noted in the audit).
/// Expired: a new license for the Install ID.
fn renew_license(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    sender: &Sender,
    id: i64,
    reason: KeyReason,
) -> Result<()> {
    let s = load(tx, id)?;
    let end = s
        .current_period_end
        .ok_or_else(|| unexpected("an active subscription has no period"))?;
    let Some(license_id) = s.license_id.clone() else {
        return issue_license(tx, tenant, now, actor, sender, &s, end);
    };
    let l = load_license(tx, &license_id)?;
    let expired = l.state == LicenseState::Expired || l.expires_at <= now;
    if l.state == LicenseState::Revoked {
        return audit::record(
            tx,
            now,
            actor,
            "subscription.license_revoked",
            &target(id),
            json!({"license_id": license_id, "note": "the license is revoked; not renewed"}),
        );
    }
    if expired {
        return issue_license(tx, tenant, now, actor, sender, &s, end);
    }
    // The subscription first (a suspended license is reactivated), then the key.
    follow_license(tx, tenant, now, actor, id)?;
    let grace = dunning_days(tx)?;
    let amendment = Amendment {
        expires_at: (reason == KeyReason::Renew).then(|| billing_cycle::license_expiry(end, grace)),
        internal_users: u32::try_from(s.internal_users).ok(),
        external_users: u32::try_from(s.external_users).ok(),
        ..Amendment::default()
    };
    let l = load_license(tx, &license_id)?;
    rekey_in_tx(tx, tenant, now, actor, &l, reason, &amendment)
}

/// Applies what paying `si` does (once).
fn apply(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    sender: &Sender,
    si: &SubscriptionInvoiceRow,
) -> Result<()> {
    let s = load(tx, si.subscription_id)?;
    match si.purpose.as_str() {
        "purchase" => {
            let period = BillingPeriod::parse(&s.period)?;
            let today = now.date_naive();
            let (start, end, anchor) = match (s.anchor_date, s.current_period_end) {
                // Co-termed: from today to the joined subscription's renewal.
                (Some(anchor), Some(end)) if end > midnight(today) => {
                    (midnight(today), end, anchor)
                }
                _ => {
                    let (a, b) = billing_cycle::first_period(period, today);
                    (midnight(a), midnight(b), a)
                }
            };
            store::set_period(tx, s.id, start, end, anchor, now)?;
            transition(tx, now, actor, &s, SubscriptionEvent::Paid)?;
            let s = load(tx, s.id)?;
            issue_license(tx, tenant, now, actor, sender, &s, end)?;
        }
        "renewal" => {
            if status(&s)? == SubscriptionStatus::Ended {
                return audit::record(
                    tx,
                    now,
                    actor,
                    "subscription.renewal_after_end",
                    &target(s.id),
                    json!({"invoice_id": si.invoice_id, "note": "paid after the subscription ended; credit or refund it"}),
                );
            }
            let anchor = s.anchor_date.unwrap_or(si.period_start.date_naive());
            store::set_period(tx, s.id, si.period_start, si.period_end, anchor, now)?;
            store::set_counts(tx, s.id, si.internal_users, si.external_users, None, now)?;
            transition(tx, now, actor, &s, SubscriptionEvent::Paid)?;
            renew_license(tx, tenant, now, actor, sender, s.id, KeyReason::Renew)?;
        }
        "upgrade" => {
            let pending = s.pending_internal_users.zip(s.pending_external_users);
            store::set_counts(tx, s.id, si.internal_users, si.external_users, pending, now)?;
            renew_license(tx, tenant, now, actor, sender, s.id, KeyReason::Change)?;
        }
        other => return Err(unexpected(&format!("unknown invoice purpose {other}"))),
    }
    sub_invoices::mark_applied(tx, si.invoice_id, now)?;
    audit::record(
        tx,
        now,
        actor,
        &format!("subscription.{}_applied", si.purpose),
        &target(si.subscription_id),
        json!({"invoice_id": si.invoice_id, "internal_users": si.internal_users,
               "external_users": si.external_users, "period_start": si.period_start,
               "period_end": si.period_end}),
    )
}

/// An invoice became paid (`invoices::record_payment`, a settling credit note): applies
/// it if it belongs to a subscription and was not applied; if it was (an accepted
/// purchase order), the payment lifts a dunning stop.
pub(super) fn settled(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    sender: &Sender,
    invoice_id: i64,
) -> Result<()> {
    let Some(si) = sub_invoices::find(tx, invoice_id)? else {
        return Ok(());
    };
    if si.applied_at.is_none() {
        return apply(tx, tenant, now, actor, sender, &si);
    }
    let s = load(tx, si.subscription_id)?;
    if status(&s)? == SubscriptionStatus::Canceled {
        transition(tx, now, actor, &s, SubscriptionEvent::Paid)?;
        follow_license(tx, tenant, now, actor, s.id)?;
    }
    Ok(())
}

/// Staff accept the purchase order of an open invoice: its effect applies now (the
/// license is issued), the invoice stays open until paid on its net-N terms. Needs the
/// price list to allow purchase orders. Audited.
pub fn accept_purchase_order(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    invoice_id: i64,
) -> Result<invoices::Detail> {
    let sender = Sender::of(app, tenant)?;
    tenant.db.write(|tx| {
        let (_, list) = price_list_in(tx)?;
        if !list.allow_purchase_order {
            return Err(refuse(
                ErrorCode::PurchaseOrderNotAccepted,
                "the price list does not allow licenses on purchase orders",
            ));
        }
        let r = invoices::load(tx, invoice_id)?;
        if r.state != InvoiceStatus::Open || r.payment_method != "purchase_order" {
            return Err(refuse(
                ErrorCode::InvoiceState,
                "only an open invoice to be paid by purchase order can have its purchase order accepted",
            ));
        }
        let si = sub_invoices::find(tx, invoice_id)?.ok_or_else(|| {
            refuse(
                ErrorCode::ValidationFailed,
                "invoice: it is not an invoice of a subscription",
            )
        })?;
        if si.applied_at.is_some() {
            return Err(refuse(
                ErrorCode::SubscriptionState,
                "this invoice's purchase order was accepted already",
            ));
        }
        sub_invoices::mark_po_accepted(tx, invoice_id, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            actor,
            "invoice.purchase_order_accepted",
            &format!("invoice:{invoice_id}"),
            json!({"number": r.number, "po_number": r.po_number}),
        )?;
        apply(tx, tenant, now, actor, &sender, &si)?;
        invoices::detail_in(tx, now, invoice_id)
    })
}

/// What one run of the billing cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub renewal_invoices: usize,
    pub past_due: usize,
    pub canceled: usize,
    pub ended: usize,
}

impl CycleReport {
    pub fn is_empty(&self) -> bool {
        *self == CycleReport::default()
    }
}

/// The scheduler's billing step for one tenant (run with its sweep): renewal invoices,
/// period ends, dunning. Each subscription in its own transaction.
pub fn run_due(app: &App, tenant: &Tenant, now: DateTime<Utc>) -> Result<CycleReport> {
    let list = super::price_list::get(tenant)?;
    let (renew_days, grace) = list.as_ref().map_or((DEFAULT_DAYS, DEFAULT_DAYS), |p| {
        (p.prices.renewal_days_before, p.prices.dunning_grace_days)
    });
    let horizon = now + Duration::days(renew_days + 1);
    let (due, overdue_po) = tenant.db.read(|tx| -> Result<_> {
        Ok((
            store::ending_before(tx, horizon)?,
            sub_invoices::overdue_applied(tx, now - Duration::days(grace))?,
        ))
    })?;
    let mut report = CycleReport::default();
    if due.is_empty() && overdue_po.is_empty() {
        return Ok(report);
    }
    let mailing = Mailing::of(app, tenant)?;
    let sender = Sender::of(app, tenant)?;
    let actor = Actor::System;
    for s in due {
        tenant.db.write(|tx| -> Result<()> {
            let s = load(tx, s.id)?;
            step(
                tx,
                tenant,
                now,
                &actor,
                (&mailing, &sender),
                &s,
                (renew_days, grace),
                &mut report,
            )
        })?;
    }
    // Accepted purchase orders unpaid past their due date and the grace.
    for si in overdue_po {
        tenant.db.write(|tx| -> Result<()> {
            let s = load(tx, si.subscription_id)?;
            let mut st = status(&s)?;
            if st == SubscriptionStatus::Active {
                st = transition(tx, now, &actor, &s, SubscriptionEvent::PeriodEndedUnpaid)?;
            }
            if st == SubscriptionStatus::PastDue {
                let s = load(tx, s.id)?;
                transition(tx, now, &actor, &s, SubscriptionEvent::DunningGraceOver)?;
                follow_license(tx, tenant, now, &actor, s.id)?;
                report.canceled += 1;
            }
            Ok(())
        })?;
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn step(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    (mailing, sender): (&Mailing, &Sender),
    s: &SubscriptionRow,
    (renew_days, grace): (i64, i64),
    report: &mut CycleReport,
) -> Result<()> {
    let Some(end) = s.current_period_end else {
        return Ok(());
    };
    let st = status(s)?;
    if st == SubscriptionStatus::Active
        && !s.cancel_at_period_end
        && billing_cycle::renewal_due(now, end, renew_days)
        && sub_invoices::renewal_for(tx, s.id, end)?.is_none()
        && renewal_invoice(tx, tenant, now, actor, (mailing, sender), s, end)?
    {
        report.renewal_invoices += 1;
    }
    if end > now {
        return Ok(());
    }
    let s = load(tx, s.id)?;
    if s.current_period_end != Some(end) {
        // A renewal paid at once (nothing due) moved the period on.
        return Ok(());
    }
    match (st, s.cancel_at_period_end) {
        (SubscriptionStatus::Active, true) => {
            transition(
                tx,
                now,
                actor,
                &s,
                SubscriptionEvent::CancelAtPeriodEndReached,
            )?;
            follow_license(tx, tenant, now, actor, s.id)?;
            report.ended += 1;
        }
        (SubscriptionStatus::Active, false) => {
            transition(tx, now, actor, &s, SubscriptionEvent::PeriodEndedUnpaid)?;
            report.past_due += 1;
        }
        (SubscriptionStatus::PastDue, _) if billing_cycle::dunning_over(now, end, grace) => {
            transition(tx, now, actor, &s, SubscriptionEvent::DunningGraceOver)?;
            follow_license(tx, tenant, now, actor, s.id)?;
            report.canceled += 1;
        }
        _ => {}
    }
    Ok(())
}

/// Issues the renewal invoice for the period after `end` (the pending lower counts, if
/// any, else the current ones), at today's prices. `false` when there is no price list.
fn renewal_invoice(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    (mailing, sender): (&Mailing, &Sender),
    s: &SubscriptionRow,
    end: DateTime<Utc>,
) -> Result<bool> {
    let Ok((_, list)) = price_list_in(tx) else {
        return Ok(false);
    };
    let period = BillingPeriod::parse(&s.period)?;
    let anchor = s.anchor_date.unwrap_or(end.date_naive());
    let (start_day, end_day) = billing_cycle::next_period(period, anchor, end.date_naive());
    let counts = s
        .pending_internal_users
        .zip(s.pending_external_users)
        .unwrap_or((s.internal_users, s.external_users));
    let country = country(tx, s.organization_id)?;
    let quote = pricing::quote(&list, period, counts.0, counts.1, country.as_deref())?;
    let lines = quote
        .lines
        .iter()
        .map(|l| invoice_line(l, start_day, end_day, false))
        .collect();
    let method = invoice_method(tx, s.organization_id, &list)?;
    invoice_for(
        tx,
        tenant,
        now,
        actor,
        mailing,
        sender,
        s,
        ("renewal", &method, ""),
        lines,
        counts,
        (midnight(start_day), midnight(end_day)),
    )?;
    Ok(true)
}

pub(super) fn target(id: i64) -> String {
    format!("subscription:{id}")
}

/// A quote line as an invoice line: users lines keep their kind; a proration or a
/// credit is an `adjustment` flagged as proration.
pub(super) fn invoice_line(
    l: &QuoteLine,
    start: NaiveDate,
    end: NaiveDate,
    prorated: bool,
) -> NewLine {
    let kind = match l.kind {
        LineKind::InternalUsers => "internal_users",
        LineKind::ExternalUsers => "external_users",
        LineKind::Proration | LineKind::Credit => "adjustment",
    };
    NewLine {
        kind: kind.into(),
        description: l.description.clone(),
        period_start: Some(midnight(start)),
        period_end: Some(midnight(end)),
        quantity: l.quantity,
        unit_minor: l.unit_minor,
        tax_rate_bp: l.tax_rate_bp,
        proration: prorated || l.kind.is_proration(),
    }
}

/// How the organization pays invoices the scheduler or an upgrade makes: its preferred
/// method, a purchase order only while the price list accepts them.
pub(super) fn invoice_method(
    tx: &ReadTx<'_>,
    org_id: i64,
    list: &pricing::PriceList,
) -> Result<String> {
    Ok(billing_accounts::find(tx, org_id)?
        .map(|a| a.payment_method)
        .filter(|m| m == "purchase_order" && list.allow_purchase_order)
        .unwrap_or_else(|| "bank_transfer".into()))
}

/// The customer's country for tax (their billing account's).
pub(super) fn country(tx: &ReadTx<'_>, org_id: i64) -> Result<Option<String>> {
    Ok(billing_accounts::find(tx, org_id)?
        .map(|a| a.country)
        .filter(|c| !c.is_empty()))
}

/// The price list in `domain::pricing`'s terms, with the stored settings.
pub(super) fn price_list_in(tx: &ReadTx<'_>) -> Result<(price_list::Stored, pricing::PriceList)> {
    let stored = price_list::read(tx)?.ok_or_else(|| {
        refuse(
            ErrorCode::PriceListMissing,
            "purchases are not open yet: the vendor has not set a price list",
        )
    })?;
    let terms = stored.prices.terms()?;
    Ok((stored, terms))
}

/// Makes an invoice for a subscription from priced lines, says what paying it does,
/// finalises it (its number, its email) and, when nothing is due, settles it at once.
#[allow(clippy::too_many_arguments)]
pub(super) fn invoice_for(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &super::Actor,
    mailing: &Mailing,
    sender: &super::org_notifications::Sender,
    sub: &SubscriptionRow,
    (purpose, payment_method, po_number): (&str, &str, &str),
    lines: Vec<NewLine>,
    (internal_users, external_users): (i64, i64),
    (period_start, period_end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<(i64, String)> {
    let invoice_id = invoices::create_draft_in(
        tx,
        now,
        actor,
        &NewDraft {
            organization_id: sub.organization_id,
            subscription_id: Some(sub.id),
            currency: None,
            payment_method: Some(payment_method.into()),
            po_number: po_number.into(),
            lines,
        },
    )?;
    sub_invoices::insert(
        tx,
        &SubscriptionInvoiceRow {
            invoice_id,
            subscription_id: sub.id,
            purpose: purpose.into(),
            internal_users,
            external_users,
            period_start,
            period_end,
            applied_at: None,
            po_accepted_at: None,
        },
    )?;
    invoices::finalise_in(tx, tenant, now, actor, invoice_id, mailing)?;
    let r = invoices::load(tx, invoice_id)?;
    if invoices::due(&r) <= 0 {
        crate::store::invoices::set_settlement(
            tx,
            invoice_id,
            crate::store::invoices::InvoiceStatus::Paid,
            0,
            0,
            now,
        )?;
        settled(tx, tenant, now, actor, sender, invoice_id)?;
    }
    Ok((invoice_id, r.number.unwrap_or_default()))
}
