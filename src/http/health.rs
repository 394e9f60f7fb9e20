//! `/healthz` (the process answers) and `/readyz` (every database opens and takes writes).

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
