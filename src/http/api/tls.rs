//! `GET /api/v1/tls` (license.read): the local CA, the served certificate and the
//! appliance mTLS mode, as Settings > TLS shows them.

use crate::http::auth::{Staff, need, state};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::tls;
use actix_web::{HttpRequest, HttpResponse};

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
    security(("bearer_token" = ["license.read"]), ("session_cookie" = ["license.read"])),
)]
pub async fn overview(
    req: HttpRequest,
    _staff: Staff<need::LicenseRead>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    Ok(HttpResponse::Ok().json(tls::overview(&state.app)))
}
