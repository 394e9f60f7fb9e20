//! `/healthz` (the process answers), `/readyz` (every database opens and takes writes),
//! `/ca.pem` (the local CA certificate).

use super::auth::state;
use super::openapi::refusals;
use super::problem::ApiError;
use super::state::blocking;
use crate::error::ErrorCode;
use crate::service::job_health::JobStatus;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    #[schema(examples("ok"))]
    pub status: &'static str,
}

/// `/readyz`: the databases take writes; `degraded` while a scheduled job's last run
/// failed (the server still serves; the jobs listed need attention).
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `degraded` while a scheduled job is failing.
    #[schema(examples("ready"))]
    pub status: &'static str,
    /// The scheduled jobs whose last run failed (their cause is in the server log).
    pub failing_jobs: Vec<JobStatus>,
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
/// Every database opens and takes writes. Served over plain HTTP too. The answer is 200
/// `degraded`, listing the jobs, while a scheduled job (the fleet sweep, certificate
/// renewal, cleanups) keeps failing: the server still serves, but needs attention.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "system",
    responses((status = 200, description = "Ready, or degraded", body = Readiness), ReadyRefusals),
)]
pub async fn readyz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let app = state.app.clone();
    let probe = blocking(move || Ok(app.tenants.probe())).await?;
    match probe {
        Ok(()) => {
            let failing_jobs = state.app.jobs.failing();
            let status = if failing_jobs.is_empty() {
                "ready"
            } else {
                "degraded"
            };
            Ok(HttpResponse::Ok().json(Readiness {
                status,
                failing_jobs,
            }))
        }
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
