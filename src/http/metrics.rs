//! `GET /metrics`: Prometheus/OpenMetrics text. Open to loopback clients only (and not
//! to requests a proxy forwarded), unless `metrics.token` (or `token_file`) is set: then
//! every client must send it as a bearer token, from any address.

use super::auth::state;
use super::problem::ApiError;
use super::state::blocking;
use crate::error::ErrorCode;
use crate::service;
use crate::service::secrets::constant_time_eq;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether a proxy forwarded the request (it then came from elsewhere).
fn forwarded(req: &HttpRequest) -> bool {
    ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| req.headers().contains_key(*h))
}

fn admitted(req: &HttpRequest, token: Option<&str>) -> Result<(), ApiError> {
    match token {
        Some(token) => {
            let sent = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            match sent {
                // Constant time, so the token cannot be guessed byte by byte.
                Some(s) if constant_time_eq(s, token) => Ok(()),
                _ => Err(ApiError::new(
                    ErrorCode::Unauthenticated,
                    "send the metrics token as `Authorization: Bearer ...`",
                )),
            }
        }
        // A proxy on the same host connects from loopback too: a forwarded request is
        // not a local one.
        None => match req.peer_addr() {
            Some(a) if a.ip().is_loopback() && !forwarded(req) => Ok(()),
            _ => Err(ApiError::new(
                ErrorCode::Forbidden,
                "/metrics answers loopback clients only; set metrics.token to scrape from elsewhere",
            )),
        },
    }
}

crate::http::openapi::refusals!(MetricsRefusals: Unauthenticated, Forbidden);

/// Prometheus metrics
///
/// OpenMetrics text. Loopback clients only, unless `metrics.token` (or `token_file`) is
/// set: then every client sends it as a bearer token, from any address.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "system",
    responses(
        (status = 200, description = "The metrics (OpenMetrics text)", body = String,
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        MetricsRefusals,
    ),
)]
pub async fn metrics(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    admitted(&req, state.metrics_token.as_deref())?;
    let app = state.app.clone();
    let text = blocking(move || {
        service::metrics::refresh(&app)?;
        app.metrics
            .encode()
            .map_err(|e| service::ServiceError::internal("encoding metrics", e))
    })
    .await?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}
