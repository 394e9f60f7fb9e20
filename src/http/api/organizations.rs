//! `/api/v1/organizations` (orgs.manage): customer organizations, staff side: search,
//! detail, delete; and `POST /api/v1/licenses/{id}/organization`, moving a license to
//! another organization or to none.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::licenses::LicenseView;
use crate::service::organization_admin::{self, Deleted, Detail, SummaryView};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Manager = Staff<need::OrgsManage>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of the name or of the notification email (any case); absent: all.
    q: Option<String>,
    /// Organizations to return, 1 to 200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationList {
    /// By name.
    pub items: Vec<SummaryView>,
}

refusals!(SearchRefusals: PasswordChangeRequired, ValidationFailed);

/// Searches organizations
///
/// By name or notification email, with member and license counts and any deletion
/// request an owner made.
#[utoipa::path(
    get,
    path = "/api/v1/organizations",
    operation_id = "search_organizations",
    tag = "organizations",
    params(SearchQuery),
    responses((status = 200, description = "Matching organizations, by name", body = OrganizationList), SearchRefusals),
)]
pub async fn search(staff: Manager, q: web::Query<SearchQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let items = staff
        .run(move |cx| {
            organization_admin::search(
                &cx.tenant,
                q.q.as_deref().unwrap_or(""),
                q.limit.unwrap_or(100),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrganizationList { items }))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows an organization
///
/// With its members and their roles, pending invitations (who invited, expiry), its
/// licenses (state, expiry) and any deletion request.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{id}",
    operation_id = "get_organization",
    tag = "organizations",
    params(("id" = i64, Path, description = "The organization's id")),
    responses((status = 200, description = "The organization", body = Detail), GetRefusals),
)]
pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let detail = staff
        .run(move |cx| organization_admin::detail(&cx.tenant, cx.now, id))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

refusals!(DeleteRefusals: PasswordChangeRequired, NotFound, OrganizationHasValidLicenses);

/// Deletes an organization
///
/// With its memberships and invitations; its licenses are kept and belong to no
/// organization afterwards. Refused with `organization_has_valid_licenses` while any of
/// its licenses is neither revoked nor expired: revoke them or move them to another
/// organization first.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{id}",
    operation_id = "delete_organization",
    tag = "organizations",
    params(("id" = i64, Path, description = "The organization's id")),
    responses((status = 200, description = "Deleted: what went with it", body = Deleted), DeleteRefusals),
)]
pub async fn delete(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let deleted = staff
        .run(move |cx| organization_admin::delete(&cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(deleted))
}

/// Where a license moves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The organization it belongs to from now on; `null` (or absent): none.
    #[schema(minimum = 1)]
    organization_id: Option<i64>,
}

refusals!(MoveRefusals: PasswordChangeRequired, NotFound, UnknownOrganization);

/// Moves a license to another organization
///
/// Or to none (`organization_id: null`). Its new organization's members see it in the
/// portal, and its notification address gets its notices from now on. The signed key
/// keeps the `org` text it was issued with.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/organization",
    operation_id = "move_license_organization",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = MoveBody,
    responses((status = 200, description = "The license, moved", body = LicenseView), MoveRefusals),
)]
pub async fn move_license(
    staff: Manager,
    id: web::Path<String>,
    body: web::Json<MoveBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, to) = (id.into_inner(), body.into_inner().organization_id);
    let license = staff
        .run(move |cx| organization_admin::move_license(&cx.tenant, cx.now, &cx.actor, &id, to))
        .await?;
    Ok(HttpResponse::Ok().json(license))
}
