//! `/api/v1/licenses`: issue, list, show. Staff actions on one license are in
//! `license_actions`, the fleet sweep in `sweep`, heartbeats in `heartbeats`.

use crate::domain::license::LicenseRequest;
use crate::domain::lifecycle::LicenseState;
use crate::domain::timestamp::{self, InputTime};
use crate::error::ErrorCode;
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::licenses::Filter;
use crate::service::{ServiceError, licenses};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

refusals!(IssueRefusals: PasswordChangeRequired, UnknownOrganization);

/// Issues a license
///
/// Signs a license key (ES256 JWS, `typ=licd-license+jwt`) with the tenant's active
/// signing key. `validation_failed` names the field (name, install_id, users, features,
/// flags, dates). With `organization_id`, the license belongs to that organization
/// (`unknown_organization` if there is none), which is told by email.
#[utoipa::path(
    post,
    path = "/api/v1/licenses",
    operation_id = "issue_license",
    tag = "licenses",
    request_body = LicenseRequest,
    responses((status = 201, description = "Issued; `license_key` goes to the appliance", body = licenses::LicenseView), IssueRefusals),
)]
pub async fn issue(
    staff: Staff<need::LicenseIssue>,
    body: web::Json<LicenseRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = staff
        .run(move |cx| licenses::issue(&cx.app, &cx.tenant, cx.now, &cx.actor, &body))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only licenses in this (effective) state.
    #[param(value_type = Option<LicenseState>)]
    state: Option<String>,
    /// Only licenses for this Install ID.
    install_id: Option<String>,
    /// Only licenses that expire before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    expiring_before: Option<InputTime>,
    /// Only licenses that belong to this organization.
    organization_id: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Licenses per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

refusals!(ReadRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists licenses
///
/// Newest first, a page at a time; `state` is the effective state now.
#[utoipa::path(
    get,
    path = "/api/v1/licenses",
    operation_id = "list_licenses",
    tag = "licenses",
    params(ListQuery),
    responses((status = 200, description = "A page of licenses", body = licenses::Page), ReadRefusals),
)]
pub async fn list(
    staff: Staff<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let license_state = q
        .state
        .as_deref()
        .map(str::parse::<LicenseState>)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::ValidationFailed, format!("state: {e}")))?;
    let filter = Filter {
        state: license_state,
        install_id: q.install_id,
        expiring_before: timestamp::parse_opt("expiring_before", q.expiring_before.as_ref())
            .map_err(ServiceError::from)?,
        organization_id: q.organization_id,
    };
    let page = staff
        .run(move |cx| {
            licenses::list(
                &cx.tenant,
                cx.now,
                filter,
                q.cursor.as_deref(),
                q.limit.unwrap_or(100),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows a license
///
/// With its state history, current activations, recent heartbeats (50) and directives.
#[utoipa::path(
    get,
    path = "/api/v1/licenses/{id}",
    operation_id = "get_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id (the key's `jti`)")),
    responses((status = 200, description = "The license and its records", body = licenses::LicenseDetail), GetRefusals),
)]
pub async fn get(
    staff: Staff<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let detail = staff
        .run(move |cx| licenses::detail(&cx.tenant, cx.now, &id))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}
