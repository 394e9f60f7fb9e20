//! `/healthz` (the process answers), `/readyz` (every database opens and takes writes),
//! `/ca.pem` (the local CA certificate).

use super::auth::state;
use super::problem::ApiError;
use super::state::blocking;
use crate::error::ErrorCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let app = state.app.clone();
    let probe = blocking(move || Ok(app.tenants.probe())).await?;
    match probe {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::error!(error = %e, "readiness probe failed");
            Err(ApiError::new(
                ErrorCode::Unavailable,
                "a database is not writable; the server log has the cause",
            ))
        }
    }
}

/// `GET /ca.pem`: the local CA certificate, for clients at an air-gapped site to trust.
/// `X-Licd-CA-Fingerprint` carries its SHA-256 to compare out of band.
pub async fn ca_pem(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let ca = &state.app.ca;
    Ok(HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header(("x-licd-ca-fingerprint", ca.fingerprint()))
        .insert_header((
            "content-disposition",
            "attachment; filename=\"licd-ca.pem\"",
        ))
        .body(ca.cert_pem().to_owned()))
}
