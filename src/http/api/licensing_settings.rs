//! `/api/v1/licensing/settings` (settings.manage): grace window, heartbeat and sweep
//! intervals, heartbeat retention, the violation timeline.

use crate::domain::settings::LicensingSettings;
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::licensing_settings;
use actix_web::{HttpResponse, web};

type Manager = Staff<need::SettingsManage>;

refusals!(StaffRefusals: PasswordChangeRequired);

/// Shows the licensing settings
#[utoipa::path(
    get,
    path = "/api/v1/licensing/settings",
    operation_id = "get_licensing_settings",
    tag = "licensing",
    responses((status = 200, description = "The tenant's licensing settings", body = LicensingSettings), StaffRefusals),
)]
pub async fn get(staff: Manager) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff.tenant.settings()))
}

/// Replaces the licensing settings
///
/// Absent fields take their defaults. `validation_failed` names a field out of range
/// (the heartbeat interval must also be at most half the grace window).
#[utoipa::path(
    put,
    path = "/api/v1/licensing/settings",
    operation_id = "put_licensing_settings",
    tag = "licensing",
    request_body = LicensingSettings,
    responses((status = 200, description = "The settings as saved", body = LicensingSettings), StaffRefusals),
)]
pub async fn put(
    staff: Manager,
    body: web::Json<LicensingSettings>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let saved = staff
        .run(move |cx| licensing_settings::update(&cx.tenant, cx.now, &cx.actor, body))
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}
