//! *Purchase license* (seed 000): the owner types the Install ID, the user counts, the
//! period and optionally a name (and may co-term with an existing subscription); *Continue*
//! shows the checkout (lines, tax, total, the period, bank transfer or purchase order,
//! and the Install ID's usage with its forecast when it reports usage); *Pay and
//! subscribe* makes the subscription and its invoice and lands on the organization page
//! with the seed's message. Owners only (`service::subscriptions`); members get 403,
//! anyone else 404.

use super::frame::{self, Frame, Rendered};
use super::notice::PortalNotice;
use super::organizations::{acting, portal_error, to_org};
use crate::error::ErrorCode;
use crate::http::customer_auth::Customer;
use crate::http::ui::charts::{self, Chart, Point, Shape};
use crate::http::ui::reject::UiReject;
use crate::service::installations::UsageForecast;
use crate::service::subscriptions::{self as subs, Checkout, PurchaseInput};
use crate::service::{ServiceError, invoices, refuse};
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The purchase form as typed (numbers as text, so a bad one is shown back).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PurchaseForm {
    #[serde(default)]
    install_id: String,
    #[serde(default)]
    license_name: String,
    #[serde(default)]
    internal_users: String,
    #[serde(default)]
    external_users: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    payment_method: String,
    #[serde(default)]
    po_number: String,
    /// A subscription id, or empty for a purchase of its own.
    #[serde(default)]
    coterm_with: String,
}

fn count(field: &str, typed: &str) -> Result<i64, ServiceError> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        refuse(
            ErrorCode::ValidationFailed,
            format!("{field}: a whole number of users such as 25"),
        )
    })
}

impl PurchaseForm {
    fn input(&self) -> Result<PurchaseInput, ServiceError> {
        let coterm_with = match self.coterm_with.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "coterm_with: choose a subscription from the list",
                )
            })?),
        };
        Ok(PurchaseInput {
            install_id: self.install_id.clone(),
            license_name: self.license_name.clone(),
            internal_users: count("internal_users", &self.internal_users)?,
            external_users: count("external_users", &self.external_users)?,
            period: self.period.clone(),
            payment_method: self.payment_method.clone(),
            po_number: self.po_number.clone(),
            coterm_with,
        })
    }
}

/// The usage charts of an Install ID (history and forecast) for the purchase pages.
pub(super) fn usage_view(f: &UsageForecast) -> serde_json::Value {
    let series =
        |title: &str, id: &str, pick: fn(&crate::domain::usage_history::DailyUsage) -> u32| {
            let points: Vec<Point> = f
                .history
                .iter()
                .map(|d| Point {
                    label: format!("{}: {}", d.day, pick(d)),
                    value: f64::from(pick(d)),
                    tick: None,
                })
                .collect();
            let max = f.history.iter().map(pick).max().unwrap_or(0);
            charts::render(&Chart {
                id,
                title,
                description: &format!("{title}, one bar per day; the highest is {max}."),
                shape: Shape::Line,
                points: &points,
            })
        };
    let forecast = |fc: &crate::domain::forecast::Forecast| {
        fc.points
            .iter()
            .map(|p| json!({"date": p.date.to_string(), "count": p.count}))
            .collect::<Vec<_>>()
    };
    json!({
        "days": f.history.len(),
        "internal_chart": series("Internal users per day", "usage-internal", |d| d.internal_users),
        "external_chart": series("External users per day", "usage-external", |d| d.external_users),
        "internal_today": f.internal_users.today_count,
        "external_today": f.external_users.today_count,
        "internal_in_12": f.internal_users.points.last().map_or(0, |p| p.count),
        "external_in_12": f.external_users.points.last().map_or(0, |p| p.count),
        "internal_forecast": forecast(&f.internal_users),
        "external_forecast": forecast(&f.external_users),
    })
}

async fn usage(page: &Customer, org_id: i64, install_id: &str) -> Option<serde_json::Value> {
    let me = page.principal.customer.id;
    let install_id = install_id.to_owned();
    page.run(move |cx| subs::usage_of(&cx.tenant, cx.now, me, org_id, &install_id))
        .await
        .ok()
        .flatten()
        .map(|f| usage_view(&f))
}

async fn form_page(
    page: &Customer,
    org_id: i64,
    typed: &PurchaseForm,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let me = page.principal.customer.id;
    let subs::PurchaseContext {
        org,
        coterm_choices: choices,
        prices,
    } = page
        .run(move |cx| subs::purchase_context(&cx.tenant, cx.now, me, org_id))
        .await
        .map_err(portal_error)?;
    let usage = if typed.install_id.trim().is_empty() {
        None
    } else {
        usage(page, org_id, &typed.install_id).await
    };
    let prices = prices.map(|p| {
        let terms = p.prices.terms().ok();
        json!({
            "currency": p.prices.currency,
            "monthly": terms.as_ref().and_then(|t| t.monthly).map(|u| json!({
                "internal": invoices::show(&p.prices.currency, u.internal_user_minor),
                "external": invoices::show(&p.prices.currency, u.external_user_minor)})),
            "yearly": terms.as_ref().and_then(|t| t.yearly).map(|u| json!({
                "internal": invoices::show(&p.prices.currency, u.internal_user_minor),
                "external": invoices::show(&p.prices.currency, u.external_user_minor)})),
            "allow_purchase_order": p.prices.allow_purchase_order,
            "min_internal": p.prices.min_internal_users,
            "min_external": p.prices.min_external_users,
        })
    });
    let choices: Vec<serde_json::Value> = choices
        .iter()
        .map(|s| {
            json!({"id": s.id, "label": format!("{} ({}, renews {})", s.license_name, s.install_id,
                s.current_period_end.map(|e| e.date_naive().to_string()).unwrap_or_default())})
        })
        .collect();
    frame::render(
        &page.state,
        "portal_purchase.html",
        Frame::of(page, None),
        context! {
            org => json!({"id": org.id, "name": org.name}),
            form => typed, error => error, prices => prices, coterm_choices => choices,
            usage => usage,
        },
        how,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct PrefillQuery {
    #[serde(default)]
    install_id: String,
    #[serde(default)]
    coterm_with: String,
}

/// `GET /portal/organizations/{id}/purchase`: the form (`?install_id=` prefills it,
/// e.g. from *Buy more users*).
pub async fn form(
    page: Customer,
    path: web::Path<i64>,
    q: web::Query<PrefillQuery>,
) -> Result<HttpResponse, UiReject> {
    let q = q.into_inner();
    let typed = PurchaseForm {
        install_id: q.install_id,
        coterm_with: q.coterm_with,
        period: "yearly".into(),
        ..PurchaseForm::default()
    };
    form_page(&page, path.into_inner(), &typed, None, Rendered::default()).await
}

fn checkout_json(c: &Checkout) -> serde_json::Value {
    let cur = c.quote.currency.as_str();
    let lines: Vec<serde_json::Value> = c
        .quote
        .lines
        .iter()
        .map(|l| {
            json!({"description": l.description, "quantity": l.quantity,
                   "unit": invoices::show(cur, l.unit_minor), "amount": invoices::show(cur, l.amount_minor),
                   "rate": format!("{}.{:02} %", l.tax_rate_bp / 100, l.tax_rate_bp % 100),
                   "tax": invoices::show(cur, l.tax_minor)})
        })
        .collect();
    json!({
        "install_id": c.install_id, "license_name": c.license_name,
        "internal_users": c.internal_users, "external_users": c.external_users,
        "period": c.period.as_str(), "lines": lines,
        "subtotal": invoices::show(cur, c.quote.subtotal_minor),
        "tax": invoices::show(cur, c.quote.tax_minor),
        "total": invoices::show(cur, c.quote.total_minor),
        "period_start": c.period_start.to_string(), "period_end": c.period_end.to_string(),
        "coterm": c.coterm_with.is_some(),
        "payment_method": c.payment_method, "po_number": c.po_number,
        "terms_days": c.payment_terms_days, "bank_details": c.bank_details,
    })
}

/// `POST /portal/organizations/{id}/purchase/checkout`: *Continue*, the checkout page;
/// a refusal shows the form again.
pub async fn checkout(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<PurchaseForm>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let typed = form.into_inner();
    let t = typed.clone();
    let result = page
        .run(move |cx| subs::checkout(&cx.tenant, cx.now, &acting(cx), org_id, &t.input()?))
        .await;
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            return form_page(&page, org_id, &typed, Some(message), how).await;
        }
    };
    let usage = usage(&page, org_id, &c.install_id).await;
    let page_values: Value = context! {
        org => json!({"id": org_id}),
        checkout => checkout_json(&c),
        form => typed,
        usage => usage,
    };
    frame::render(
        &page.state,
        "portal_checkout.html",
        Frame::of(&page, None),
        page_values,
        Rendered::default(),
    )
}

/// `POST /portal/organizations/{id}/purchase`: *Pay and subscribe*.
pub async fn pay(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<PurchaseForm>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let typed = form.into_inner();
    let t = typed.clone();
    let result = page
        .run(move |cx| {
            subs::purchase(
                &cx.app,
                &cx.tenant,
                cx.now,
                &acting(cx),
                org_id,
                &t.input()?,
            )
        })
        .await;
    match result {
        Ok(_) => Ok(to_org(org_id, PortalNotice::Purchased)),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            form_page(&page, org_id, &typed, Some(message), how).await
        }
    }
}
