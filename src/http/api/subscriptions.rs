//! `/api/v1/billing/subscriptions` and purchase orders (billing.manage): the
//! subscriptions customers bought in the portal, and accepting an invoice's purchase
//! order, which issues its license before payment (when the price list allows it).

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::invoices::Detail;
use crate::service::subscription_billing;
use crate::service::subscriptions::{self, SubscriptionView};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Manager = Staff<need::BillingManage>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// Only this status: `pending`, `active`, `past_due`, `canceled` or `ended`.
    status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    /// Newest first, at most 500.
    pub items: Vec<SubscriptionView>,
}

refusals!(ListRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists subscriptions
#[utoipa::path(
    get,
    path = "/api/v1/billing/subscriptions",
    operation_id = "list_subscriptions",
    tag = "billing",
    params(SubscriptionQuery),
    responses((status = 200, description = "Subscriptions, newest first", body = SubscriptionList), ListRefusals),
)]
pub async fn list(
    staff: Manager,
    q: web::Query<SubscriptionQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q.into_inner().status;
    let items = staff
        .run(move |cx| subscriptions::list(&cx.tenant, cx.now, status.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(SubscriptionList { items }))
}

refusals!(AcceptRefusals: PasswordChangeRequired, NotFound, ValidationFailed, InvoiceState, SubscriptionState, PurchaseOrderNotAccepted, PriceListMissing);

/// Accepts an invoice's purchase order
///
/// For an open invoice of a subscription to be paid by purchase order: what paying it
/// does happens now (a purchase issues its license), and the invoice stays open until
/// paid on its terms. Needs `allow_purchase_order` in the price list.
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices/{id}/accept-purchase-order",
    operation_id = "accept_purchase_order",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    responses((status = 200, description = "The invoice", body = Detail), AcceptRefusals),
)]
pub async fn accept_purchase_order(
    staff: Manager,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let d = staff
        .run(move |cx| {
            subscription_billing::accept_purchase_order(&cx.app, &cx.tenant, cx.now, &cx.actor, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
