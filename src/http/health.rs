//! `/healthz` (the process answers), `/readyz` (every database opens and takes writes),
//! `/ca.pem` (the local CA certificate).

use super::auth::state;
use super::openapi::refusals;
use super::problem::ApiError;
use super::state::blocking;
use crate::error::ErrorCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    #[schema(examples("ok"))]
    pub status: &'static str,
}

/// Liveness
///
/// The process answers. Served over plain HTTP too (no redirect to HTTPS).
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "system",
    responses((status = 200, description = "Alive", body = Health)),
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

refusals!(ReadyRefusals: Unavailable);

/// Readiness
///
/// Every database opens and takes writes. Served over plain HTTP too.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "system",
    responses((status = 200, description = "Ready", body = Health), ReadyRefusals),
)]
pub async fn readyz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let app = state.app.clone();
    let probe = blocking(move || Ok(app.tenants.probe())).await?;
    match probe {
        Ok(()) => Ok(HttpResponse::Ok().json(Health { status: "ready" })),
        Err(e) => {
            tracing::error!(error = %e, "readiness probe failed");
            Err(ApiError::new(
                ErrorCode::Unavailable,
                "a database is not writable; the server log has the cause",
            ))
        }
    }
}

/// The local CA certificate
///
/// For clients at an air-gapped site to trust. `X-Licd-CA-Fingerprint` carries its
/// SHA-256 to compare out of band. Served over plain HTTP too.
#[utoipa::path(
    get,
    path = "/ca.pem",
    operation_id = "ca_certificate",
    tag = "system",
    responses(
        (status = 200, description = "The CA certificate (PEM)", body = String,
            content_type = "application/x-pem-file",
            headers(("X-Licd-CA-Fingerprint" = String, description = "SHA-256 of the certificate (DER), colon-separated hex"))),
    ),
)]
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
