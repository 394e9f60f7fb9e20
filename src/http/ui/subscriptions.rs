//! Billing > Subscriptions (billing.manage): what customers bought in the portal, by
//! status; and accepting an invoice's purchase order from the invoice page (the license
//! is issued before payment when the price list allows it).

use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, View, submit};
use crate::http::ui::notice::{self, Notice};
use crate::http::ui::reject::UiReject;
use crate::service::subscription_billing;
use crate::service::subscriptions;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type BillingPage = Page<need::BillingManage>;

const LIST: View = View {
    template: "billing_subscriptions.html",
    nav: "/billing/subscriptions",
};

const STATUSES: &[&str] = &["all", "pending", "active", "past_due", "canceled", "ended"];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
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
    let status = STATUSES
        .iter()
        .copied()
        .find(|s| *s == q.status && *s != "all");
    let items = page
        .run(move |cx| subscriptions::list(&cx.tenant, cx.now, status))
        .await?;
    let ctx = context! {
        items => items, status => status.unwrap_or("all"), statuses => STATUSES,
        limit => subscriptions::LIST_MAX,
    };
    page.render(LIST, ctx, shown)
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct AcceptForm {}

/// `POST /billing/invoices/{id}/accept-purchase-order`.
pub async fn accept_purchase_order(
    page: BillingPage,
    id: web::Path<i64>,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let result = page
        .run(move |cx| {
            subscription_billing::accept_purchase_order(&cx.app, &cx.tenant, cx.now, &cx.actor, id)
        })
        .await;
    submit(
        &page,
        "accept-po",
        &form,
        result,
        |_| Done::to(format!("/billing/invoices/{id}")).notice(Notice::PurchaseOrderAccepted),
        |shown| super::billing::detail_view(&page, id, shown),
    )
    .await
}
