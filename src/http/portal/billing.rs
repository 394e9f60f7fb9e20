//! An organization's billing in the portal (seed 000, "Manage Billing"): the Billing
//! page (the owners' billing details and offline payment method, the invoices and the
//! payment history), an invoice's page (the link in the invoice email) and its print
//! view (the console's `billing_print.html` and `print.css`, one template for both).
//!
//! Members see invoices and payments read-only; owners also see and change the billing
//! details. Who may see what is decided by `service::portal_billing` and
//! `service::billing_accounts`: anyone outside the organization, another
//! organization's invoice and a draft are 404.

use super::frame::{self, Frame, Refused, Rendered};
use super::notice::{NoticeQuery, PortalNotice};
use super::organizations::{acting, portal_error};
use crate::http::customer_auth::Customer;
use crate::http::ui::billing::invoice_ctx;
use crate::http::ui::reject::UiReject;
use crate::service;
use crate::service::billing_accounts::{self, AccountInput, PAYMENT_METHODS, PaymentMethodInput};
use crate::service::invoices::{InvoiceView, show};
use crate::service::portal_billing;
use crate::service::subscriptions;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde_json::json;

fn billing_path(org_id: i64) -> String {
    format!("/portal/organizations/{org_id}/billing")
}

fn invoice_json(i: &InvoiceView) -> serde_json::Value {
    json!({
        "id": i.id, "number": i.number, "state": i.state, "overdue": i.overdue,
        "issued_at": i.issued_at.map(super::organizations::ts),
        "due_at": i.due_at.map(super::organizations::ts),
        "total": i.show(i.total_minor), "due": i.show(i.amount_due),
    })
}

pub(super) async fn billing_page(
    page: &Customer,
    org_id: i64,
    notice: Option<PortalNotice>,
    refused: Refused,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let me = page.principal.customer.id;
    let (v, subs) = page
        .run(move |cx| {
            let v = portal_billing::overview(&cx.tenant, cx.now, me, org_id)?;
            let subs = subscriptions::of_organization(&cx.tenant, cx.now, me, org_id)?;
            Ok((v, subs))
        })
        .await
        .map_err(portal_error)?;
    let subs: Vec<serde_json::Value> = subs
        .iter()
        .map(super::subscriptions::subscription_json)
        .collect();
    let invoices: Vec<serde_json::Value> = v.invoices.iter().map(invoice_json).collect();
    let payments: Vec<serde_json::Value> = v
        .payments
        .iter()
        .map(|p| {
            json!({
                "received_on": p.payment.received_on.to_string(),
                "amount": show(&p.currency, p.payment.amount_minor),
                "method": p.payment.method.replace('_', " "),
                "reference": p.payment.reference,
                "invoice_id": p.payment.invoice_id,
                "invoice_number": p.invoice_number,
            })
        })
        .collect();
    let account = v.account.as_ref().map(|a| {
        json!({
            "legal_name": a.legal_name, "address": a.address, "phone": a.phone,
            "tax_id": a.tax_id, "tax_id_type": a.tax_id_type, "country": a.country,
            "payment_method": a.payment_method, "po_reference": a.po_reference,
            "billing_contact": a.billing_contact,
        })
    });
    let values: Value = context! {
        org => json!({"id": v.org.id, "name": v.org.name}),
        owner => v.role.manages(),
        account => account,
        methods => PAYMENT_METHODS,
        invoices => invoices,
        subscriptions => subs,
        payments => payments,
        payments_max => portal_billing::PAYMENTS_MAX,
        failed => refused.form,
        error => refused.error,
        form => refused.typed,
    };
    frame::render(
        &page.state,
        "portal_billing.html",
        Frame::of(page, notice),
        values,
        how,
    )
}

/// `GET /portal/organizations/{id}/billing`.
pub async fn show_page(
    page: Customer,
    path: web::Path<i64>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiReject> {
    billing_page(
        &page,
        path.into_inner(),
        q.notice,
        Refused::default(),
        Rendered::default(),
    )
    .await
}

/// Back to the billing page with a notice, or the page again with the refusal beside
/// `form` and what was typed.
async fn finish(
    page: &Customer,
    org_id: i64,
    form: &'static str,
    typed: serde_json::Value,
    result: service::Result<()>,
    notice: PortalNotice,
) -> Result<HttpResponse, UiReject> {
    let done = format!("{}?notice={}", billing_path(org_id), notice.code());
    frame::finish(result, &done, form, Some(typed), |refused, how| {
        billing_page(page, org_id, None, refused, how)
    })
    .await
}

/// `POST /portal/organizations/{id}/billing/account` (owners).
pub async fn save_account(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<AccountInput>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let f = form.into_inner();
    let typed = serde_json::to_value(&f).unwrap_or_default();
    let result = page
        .run(move |cx| billing_accounts::save_account(&cx.tenant, cx.now, &acting(cx), org_id, &f))
        .await;
    let notice = PortalNotice::BillingAccountSaved;
    finish(&page, org_id, "account", typed, result, notice).await
}

/// `POST /portal/organizations/{id}/billing/payment-method` (owners).
pub async fn save_payment_method(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<PaymentMethodInput>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let f = form.into_inner();
    let typed = serde_json::to_value(&f).unwrap_or_default();
    let result = page
        .run(move |cx| {
            billing_accounts::save_payment_method(&cx.tenant, cx.now, &acting(cx), org_id, &f)
        })
        .await;
    let notice = PortalNotice::PaymentMethodSaved;
    finish(&page, org_id, "payment-method", typed, result, notice).await
}

async fn load(
    page: &Customer,
    org_id: i64,
    invoice_id: i64,
) -> Result<(portal_billing::OrgName, service::invoices::Detail), UiReject> {
    let me = page.principal.customer.id;
    page.run(move |cx| portal_billing::invoice(&cx.tenant, cx.now, me, org_id, invoice_id))
        .await
        .map_err(portal_error)
}

/// `GET /portal/organizations/{id}/invoices/{invoice}`: the invoice, read-only.
pub async fn invoice(
    page: Customer,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, invoice_id) = path.into_inner();
    let (org, d) = load(&page, org_id, invoice_id).await?;
    let values = context! {
        org => json!({"id": org.id, "name": org.name}),
        ..invoice_ctx(&d)
    };
    frame::render(
        &page.state,
        "portal_invoice.html",
        Frame::of(&page, None),
        values,
        Rendered::default(),
    )
}

/// `GET /portal/organizations/{id}/invoices/{invoice}/print`: the print-ready view
/// (the console's template: A4, no navigation).
pub async fn print(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, invoice_id) = path.into_inner();
    let (_, d) = load(&page, org_id, invoice_id).await?;
    let html = page.state.templates.render(
        "billing_print.html",
        context! { vendor => page.tenant.name(), prices => Value::from(()), ..invoice_ctx(&d) },
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
