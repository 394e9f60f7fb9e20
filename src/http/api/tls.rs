//! `GET /api/v1/tls` (license.read): the local CA, the served certificate and the
//! appliance mTLS mode, as Settings > TLS shows them.

use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::service::tls;
use actix_web::{HttpRequest, HttpResponse};

pub async fn overview(
    req: HttpRequest,
    _staff: Staff<need::LicenseRead>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    Ok(HttpResponse::Ok().json(tls::overview(&state.app)))
}
