//! `GET /api/v1/tls` (license.read): the local CA, the served certificate and the
//! appliance mTLS mode, as Settings > TLS shows them.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::tls;
use actix_web::HttpResponse;

refusals!(OverviewRefusals: PasswordChangeRequired);

/// Shows the TLS setup
///
/// The local CA, the served certificate (source, names, expiry, renewal) and the
/// appliance mTLS mode.
#[utoipa::path(
    get,
    path = "/api/v1/tls",
    operation_id = "tls_overview",
    tag = "system",
    responses((status = 200, description = "TLS as Settings > TLS shows it", body = tls::TlsOverview), OverviewRefusals),
)]
pub async fn overview(staff: Staff<need::LicenseRead>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tls::overview(&staff.state.app)))
}
