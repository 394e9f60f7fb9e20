//! `GET /api/v1/licensing/heartbeats` (license.read): the fleet's recent heartbeats.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::licenses;
use actix_web::HttpResponse;

refusals!(HeartbeatsRefusals: PasswordChangeRequired);

/// Shows recent heartbeats across the fleet
///
/// The last 200 heartbeats and the directives still waiting to be acknowledged.
#[utoipa::path(
    get,
    path = "/api/v1/licensing/heartbeats",
    operation_id = "list_heartbeats",
    tag = "licensing",
    responses((status = 200, description = "Recent heartbeats and pending directives", body = licenses::HeartbeatsOverview), HeartbeatsRefusals),
)]
pub async fn list(staff: Staff<need::LicenseRead>) -> Result<HttpResponse, ApiError> {
    let overview = staff
        .run(|cx| licenses::heartbeats_overview(&cx.tenant, 200))
        .await?;
    Ok(HttpResponse::Ok().json(overview))
}
