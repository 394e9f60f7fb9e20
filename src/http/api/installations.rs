//! `/api/v1/installations` (license.read): capacity, usage, stage and timeline per
//! Install ID.

use crate::domain::violation::{Condition, Stage};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::installations::{self, ListFilter};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only installations in this condition now.
    condition: Option<Condition>,
    /// Only installations at this stage now.
    stage: Option<Stage>,
    /// `next_cursor` of the previous page (with a filter, a page can hold fewer
    /// installations than `limit` and still have one).
    cursor: Option<String>,
    /// Installations per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

refusals!(ListRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists installations
///
/// Every Install ID with a license or a heartbeat: capacity summed over the licenses
/// valid now, latest usage, condition and violation stage, assessed at the request.
#[utoipa::path(
    get,
    path = "/api/v1/installations",
    operation_id = "list_installations",
    tag = "installations",
    params(ListQuery),
    responses((status = 200, description = "A page of installations", body = installations::Page), ListRefusals),
)]
pub async fn list(
    staff: Staff<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = staff
        .run(move |cx| {
            installations::list(
                &cx.tenant,
                cx.now,
                ListFilter {
                    condition: q.condition,
                    stage: q.stage,
                },
                q.cursor.as_deref(),
                q.limit.unwrap_or(100),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows an installation
///
/// With its licenses and its timeline (usage reports and stage changes, newest first).
#[utoipa::path(
    get,
    path = "/api/v1/installations/{install_id}",
    operation_id = "get_installation",
    tag = "installations",
    params(("install_id" = String, Path, description = "The Install ID")),
    responses((status = 200, description = "The installation", body = installations::InstallationDetail), GetRefusals),
)]
pub async fn get(
    staff: Staff<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let detail = staff
        .run(move |cx| installations::detail(&cx.tenant, cx.now, &id))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// Days of history, 1 to 365 (default 90).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// An installation's daily usage and its 12-month forecast (seed 000: how the number of
/// users is forecast), for choosing how many users to buy.
#[utoipa::path(
    get,
    path = "/api/v1/installations/{install_id}/usage",
    operation_id = "get_installation_usage",
    tag = "installations",
    params(("install_id" = String, Path, description = "The Install ID"), UsageQuery),
    responses((status = 200, description = "History and forecast (empty history for an Install ID that never reported)", body = installations::UsageForecast), ListRefusals),
)]
pub async fn usage(
    staff: Staff<need::LicenseRead>,
    path: web::Path<String>,
    q: web::Query<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = q.days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(ApiError(crate::error::Problem::new(
            crate::error::ErrorCode::ValidationFailed,
            "days: 1 to 365",
        )));
    }
    let install_id = path.into_inner();
    let f = staff
        .run(move |cx| installations::usage_forecast(&cx.tenant, cx.now, &install_id, days))
        .await?;
    Ok(HttpResponse::Ok().json(f))
}
