//! `GET /api/v1/billing/summary` (billing.manage): the revenue summary the console's
//! Billing > Revenue page shows (`service::revenue`).

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::revenue::{self, RevenueSummary};
use actix_web::HttpResponse;

refusals!(SummaryRefusals: PasswordChangeRequired);

/// Shows the revenue summary
///
/// Monthly recurring revenue (active and past-due subscriptions' users × the price
/// list's unit prices for their period, yearly ones ÷ 12, rounded once to the minor
/// unit, halves away from zero), what is left to pay on open and on overdue invoices,
/// payments received in the last 30 days, and invoiced against paid per month over the
/// last 12 months. Amounts are in the price list's currency, in minor units; invoices
/// in another currency are left out and counted.
#[utoipa::path(
    get,
    path = "/api/v1/billing/summary",
    operation_id = "billing_summary",
    tag = "billing",
    responses((status = 200, description = "The revenue summary", body = RevenueSummary), SummaryRefusals),
)]
pub async fn summary(staff: Staff<need::BillingManage>) -> Result<HttpResponse, ApiError> {
    let s = staff
        .run(move |cx| revenue::summary(&cx.tenant, cx.now))
        .await?;
    Ok(HttpResponse::Ok().json(s))
}
