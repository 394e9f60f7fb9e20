//! Billing (billing.manage): the invoices (filters open, overdue, paid, void), an
//! invoice's page (lines, payments, credit notes; record a payment, void, credit), its
//! print-ready view (A4, no navigation), and the price list form.

use crate::domain::money::Currency;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::{self, Notice};
use crate::http::ui::reject::UiReject;
use crate::service::invoices::{self, NewCreditNoteInput, NewPaymentInput, Show};
use crate::service::price_list::{self, PriceList};
use crate::service::{ServiceError, refuse};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type BillingPage = Page<need::BillingManage>;

const LIST: View = View {
    template: "billing_invoices.html",
    nav: "/billing/invoices",
};

const DETAIL: View = View {
    template: "billing_invoice.html",
    nav: "/billing/invoices",
};

const PRICES: View = View {
    template: "billing_price_list.html",
    nav: "/billing/price-list",
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    show: String,
    #[serde(default, deserialize_with = "notice::lenient")]
    notice: Option<Notice>,
    shown: Option<String>,
}

pub async fn list(page: BillingPage, q: web::Query<ListQuery>) -> Result<HttpResponse, UiReject> {
    let q = q.into_inner();
    let shown = page.shown(&PageQuery {
        notice: q.notice,
        shown: q.shown,
    });
    let filter = Show::parse(&q.show).unwrap_or_default();
    let items = page
        .run(move |cx| invoices::list(&cx.tenant, cx.now, filter, None))
        .await?;
    let items: Vec<_> = items
        .into_iter()
        .map(|i| context! { total => i.show(i.total_minor), due => i.show(i.amount_due), i => i })
        .collect();
    let filters: Vec<&str> = Show::ALL.iter().map(|s| s.as_str()).collect();
    let ctx = context! { items => items, show => filter.as_str(), filters => filters, limit => invoices::LIST_MAX };
    page.render(LIST, ctx, shown)
}

/// An invoice's values for its page and its print view: the invoice and its amounts as
/// text.
pub(crate) fn invoice_ctx(d: &invoices::Detail) -> minijinja::Value {
    let i = &d.invoice;
    let lines: Vec<_> = d
        .lines
        .iter()
        .map(|l| {
            context! {
                unit => i.show(l.unit_minor), amount => i.show(l.amount_minor),
                tax => i.show(l.tax_minor), rate => format!("{}.{:02} %", l.tax_rate_bp / 100, l.tax_rate_bp % 100),
                l => l,
            }
        })
        .collect();
    let payments: Vec<_> = d
        .payments
        .iter()
        .map(|p| context! { amount => i.show(p.amount_minor), p => p })
        .collect();
    let credits: Vec<_> = d
        .credit_notes
        .iter()
        .map(|c| context! { amount => i.show(c.amount_minor), c => c })
        .collect();
    context! {
        d => d, lines => lines, payments => payments, credits => credits,
        subtotal => i.show(i.subtotal_minor), tax => i.show(i.tax_minor), total => i.show(i.total_minor),
        paid => i.show(i.amount_paid), credited => i.show(i.amount_credited), due => i.show(i.amount_due),
    }
}

pub(super) async fn detail_view(
    page: &BillingPage,
    id: i64,
    shown: Shown,
) -> Result<HttpResponse, UiReject> {
    let d = page
        .run(move |cx| invoices::detail(&cx.tenant, cx.now, id))
        .await?;
    let today = page.now.date_naive().to_string();
    page.render(
        DETAIL,
        context! { today => today, ..invoice_ctx(&d) },
        shown,
    )
}

pub async fn detail(
    page: BillingPage,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    detail_view(&page, id.into_inner(), shown).await
}

/// The print-ready view: the vendor's and customer's details, lines, tax, totals, bank
/// details and terms, with a print stylesheet for A4 and no navigation.
pub async fn print(page: BillingPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let (d, prices) = page
        .run(move |cx| {
            Ok((
                invoices::detail(&cx.tenant, cx.now, id)?,
                price_list::get(&cx.tenant)?,
            ))
        })
        .await?;
    let html = page.state.templates.render(
        "billing_print.html",
        context! { vendor => page.tenant.name(), prices => prices.map(|p| p.prices), ..invoice_ctx(&d) },
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// An amount typed as `1234.50` in `currency`, in minor units.
fn minor_of(field: &'static str, typed: &str, currency: &str) -> Result<i64, ServiceError> {
    let currency: Currency = currency.parse()?;
    Ok(crate::domain::money::parse_major(field, typed, currency)?)
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    method: String,
    /// One per form shown: a double submission records one payment.
    #[serde(default)]
    idempotency_key: String,
}

pub async fn payment(
    page: BillingPage,
    id: web::Path<i64>,
    form: web::Form<PaymentForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let typed = (
        form.amount.clone(),
        form.received_on.clone(),
        form.reference.clone(),
        form.method.clone(),
        form.idempotency_key.clone(),
    );
    let result = page
        .run(move |cx| {
            let d = invoices::detail(&cx.tenant, cx.now, id)?;
            let amount_minor = minor_of("amount", &typed.0, &d.invoice.currency)?;
            let received_on = typed.1.trim().parse().map_err(|_| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "received_on: a date such as 2026-06-01",
                )
            })?;
            let key = typed.4.trim();
            crate::service::payments::record(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.actor,
                id,
                &NewPaymentInput {
                    amount_minor,
                    received_on,
                    reference: typed.2,
                    method: Some(typed.3).filter(|m| !m.is_empty()),
                    idempotency_key: (!key.is_empty()).then(|| format!("console:{key}")),
                },
            )
        })
        .await;
    submit(
        &page,
        "record-payment",
        &form,
        result,
        |_| Done::to(format!("/billing/invoices/{id}")).notice(Notice::PaymentRecorded),
        |shown| detail_view(&page, id, shown),
    )
    .await
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct VoidForm {
    #[serde(default)]
    reason: String,
}

pub async fn void(
    page: BillingPage,
    id: web::Path<i64>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let reason = form.reason.clone();
    let result = page
        .run(move |cx| invoices::void(&cx.tenant, cx.now, &cx.actor, id, &reason))
        .await;
    submit(
        &page,
        "void-invoice",
        &form,
        result,
        |_| Done::to(format!("/billing/invoices/{id}")).notice(Notice::InvoiceVoided),
        |shown| detail_view(&page, id, shown),
    )
    .await
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct CreditForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    amount: String,
}

pub async fn credit_note(
    page: BillingPage,
    id: web::Path<i64>,
    form: web::Form<CreditForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (reason, amount) = (form.reason.clone(), form.amount.clone());
    let result = page
        .run(move |cx| {
            let d = invoices::detail(&cx.tenant, cx.now, id)?;
            let amount_minor = minor_of("amount", &amount, &d.invoice.currency)?;
            crate::service::payments::credit(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.actor,
                id,
                &NewCreditNoteInput {
                    reason,
                    amount_minor,
                    lines: Vec::new(),
                },
            )
        })
        .await;
    submit(
        &page,
        "credit-note",
        &form,
        result,
        |_| Done::to(format!("/billing/invoices/{id}")).notice(Notice::CreditNoteIssued),
        |shown| detail_view(&page, id, shown),
    )
    .await
}

/// The price list form as typed (amounts in minor units, the tax rule as JSON).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PriceForm {
    #[serde(default)]
    currency: String,
    #[serde(default)]
    internal_monthly_minor: String,
    #[serde(default)]
    internal_yearly_minor: String,
    #[serde(default)]
    external_monthly_minor: String,
    #[serde(default)]
    external_yearly_minor: String,
    #[serde(default)]
    min_internal_users: String,
    #[serde(default)]
    min_external_users: String,
    #[serde(default)]
    tax_rule: String,
    #[serde(default)]
    payment_terms_days: String,
    #[serde(default)]
    allow_purchase_order: String,
    #[serde(default)]
    bank_details: String,
    #[serde(default)]
    renewal_days_before: String,
    #[serde(default)]
    dunning_grace_days: String,
}

fn number(field: &str, typed: &str) -> Result<i64, ServiceError> {
    typed.trim().parse().map_err(|_| {
        refuse(
            ErrorCode::ValidationFailed,
            format!("{field}: a whole number"),
        )
    })
}

impl PriceForm {
    fn prices(&self) -> Result<PriceList, ServiceError> {
        let tax_rule = if self.tax_rule.trim().is_empty() {
            serde_json::json!({})
        } else {
            serde_json::from_str(&self.tax_rule).map_err(|_| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "tax_rule: JSON such as {\"default_rate_bp\": 1900}",
                )
            })?
        };
        Ok(PriceList {
            currency: self.currency.clone(),
            internal_monthly_minor: number("internal_monthly_minor", &self.internal_monthly_minor)?,
            internal_yearly_minor: number("internal_yearly_minor", &self.internal_yearly_minor)?,
            external_monthly_minor: number("external_monthly_minor", &self.external_monthly_minor)?,
            external_yearly_minor: number("external_yearly_minor", &self.external_yearly_minor)?,
            min_internal_users: number("min_internal_users", &self.min_internal_users)?,
            min_external_users: number("min_external_users", &self.min_external_users)?,
            tax_rule,
            payment_terms_days: number("payment_terms_days", &self.payment_terms_days)?,
            allow_purchase_order: !self.allow_purchase_order.is_empty(),
            bank_details: self.bank_details.clone(),
            renewal_days_before: number("renewal_days_before", &self.renewal_days_before)?,
            dunning_grace_days: number("dunning_grace_days", &self.dunning_grace_days)?,
        })
    }
}

impl From<PriceList> for PriceForm {
    fn from(p: PriceList) -> Self {
        PriceForm {
            currency: p.currency,
            internal_monthly_minor: p.internal_monthly_minor.to_string(),
            internal_yearly_minor: p.internal_yearly_minor.to_string(),
            external_monthly_minor: p.external_monthly_minor.to_string(),
            external_yearly_minor: p.external_yearly_minor.to_string(),
            min_internal_users: p.min_internal_users.to_string(),
            min_external_users: p.min_external_users.to_string(),
            tax_rule: p.tax_rule.to_string(),
            payment_terms_days: p.payment_terms_days.to_string(),
            allow_purchase_order: if p.allow_purchase_order {
                "1".into()
            } else {
                String::new()
            },
            bank_details: p.bank_details,
            renewal_days_before: p.renewal_days_before.to_string(),
            dunning_grace_days: p.dunning_grace_days.to_string(),
        }
    }
}

async fn prices_view(page: &BillingPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let stored = page.run(move |cx| price_list::get(&cx.tenant)).await?;
    let (form, updated) = match stored {
        Some(s) => (
            PriceForm::from(s.prices),
            Some((
                s.updated_at.format("%Y-%m-%d %H:%M").to_string(),
                s.updated_by,
            )),
        ),
        None => (
            PriceForm {
                currency: "EUR".into(),
                tax_rule: "{}".into(),
                payment_terms_days: "30".into(),
                renewal_days_before: "30".into(),
                dunning_grace_days: "14".into(),
                ..PriceForm::default()
            },
            None,
        ),
    };
    page.render(PRICES, context! { form => form, updated => updated }, shown)
}

pub async fn price_list_show(
    page: BillingPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    prices_view(&page, shown).await
}

pub async fn price_list_save(
    page: BillingPage,
    form: web::Form<PriceForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let prices = form.prices();
    let result = match prices {
        Ok(p) => {
            page.run(move |cx| price_list::replace(&cx.tenant, cx.now, &cx.actor, &p))
                .await
        }
        Err(e) => Err(e),
    };
    submit(
        &page,
        "price-list",
        &form,
        result,
        |_| Done::to("/billing/price-list").notice(Notice::PriceListSaved),
        |shown| prices_view(&page, shown),
    )
    .await
}
