//! `/api/v1/enterprise` (settings.manage): licd's own licenses.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::enterprise;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

type Manager = Staff<need::SettingsManage>;

refusals!(OverviewRefusals: PasswordChangeRequired);

/// Shows licd's own licensing
///
/// This tenant's Install ID, its installed licenses, usage (enabled staff), and where it
/// stands on the violation timeline.
#[utoipa::path(
    get,
    path = "/api/v1/enterprise",
    operation_id = "enterprise_overview",
    tag = "enterprise",
    responses((status = 200, description = "Enterprise > Licenses", body = enterprise::Overview), OverviewRefusals),
)]
pub async fn overview(staff: Manager) -> Result<HttpResponse, ApiError> {
    let o = staff
        .run(|cx| enterprise::overview(&cx.tenant, cx.now))
        .await?;
    Ok(HttpResponse::Ok().json(o))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallBody {
    /// A license key signed by a trusted issuer (`licensing.trusted_issuers`) for this
    /// tenant's Install ID.
    license_key: String,
}

refusals!(InstallRefusals:
    PasswordChangeRequired,
    LicenseKeyUntrusted,
    WrongInstallId,
    LicenseNotYetValid,
    LicenseExpired,
);

/// Installs a license for licd itself
///
/// Checked in order: the key's shape and signature by a trusted issuer, the Install ID,
/// the validity window. Works in read-only mode. `validation_failed` when the text is not
/// a license key at all.
#[utoipa::path(
    post,
    path = "/api/v1/enterprise/licenses",
    operation_id = "install_enterprise_license",
    tag = "enterprise",
    request_body = InstallBody,
    responses((status = 201, description = "Installed; the new overview", body = enterprise::Overview), InstallRefusals),
)]
pub async fn install(
    staff: Manager,
    body: web::Json<InstallBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let o = staff
        .run(move |cx| enterprise::install(&cx.app, &cx.tenant, cx.now, &cx.actor, &b.license_key))
        .await?;
    Ok(HttpResponse::Created().json(o))
}

refusals!(RemoveRefusals: PasswordChangeRequired, NotFound);

/// Removes one of licd's own licenses
///
/// Works in read-only mode.
#[utoipa::path(
    delete,
    path = "/api/v1/enterprise/licenses/{id}",
    operation_id = "remove_enterprise_license",
    tag = "enterprise",
    params(("id" = String, Path, description = "The installed license's id (its `jti`)")),
    responses((status = 200, description = "Removed; the new overview", body = enterprise::Overview), RemoveRefusals),
)]
pub async fn remove(staff: Manager, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let o = staff
        .run(move |cx| enterprise::remove(&cx.tenant, cx.now, &cx.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(o))
}
