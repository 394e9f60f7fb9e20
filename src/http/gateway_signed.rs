//! `GatewaySigned`: the extractor of the payment gateway's route
//! (`Access::GatewaySigned`, `POST /api/v1/billing/payments`). It admits a request only
//! when its `Licd-Signature` header signs the raw body with a secret of
//! `billing.gateway_secret_file`, within the replay window
//! (`service::payment_gateway::authenticate`). Nothing else counts here: no staff
//! session, API token or cookie. In order: no secret configured → 404
//! `gateway_disabled` (the body is not read); body over `server.max_body_bytes` → 413;
//! bad or missing signature → 401 `signature_invalid`; a good one outside the window →
//! 401 `signature_expired`. Only then is the body parsed (`json`). The tenant is the one
//! the request's Host routes to, as for every API route.

use super::auth::{state, tenant_of};
use super::context::Open;
use super::middleware::body_deadline::timed_out;
use super::problem::ApiError;
use super::routing::{Access, Demands};
use crate::error::ErrorCode;
use crate::service::payment_gateway::{self, SIGNATURE_HEADER};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// A request the payment gateway signed, with its verified body.
pub struct GatewaySigned {
    /// The app, the tenant the Host routes to, and the request's time.
    pub open: Open,
    body: Bytes,
    json: bool,
}

impl GatewaySigned {
    /// The verified body as JSON: 415 without `Content-Type: application/json`,
    /// `malformed_json` or `validation_failed` (naming the field) as for every JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            let code = if e.is_data() {
                ErrorCode::ValidationFailed
            } else {
                ErrorCode::MalformedJson
            };
            ApiError::new(code, e.to_string())
        })
    }
}

fn body_refused(e: &actix_web::Error) -> ApiError {
    match e.as_error::<PayloadError>() {
        Some(p) if timed_out(p) => ApiError::new(
            ErrorCode::RequestTimeout,
            "the request body did not arrive in time (server.request_timeout_secs)",
        ),
        Some(PayloadError::Overflow) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the body is larger than server.max_body_bytes",
        ),
        _ => ApiError::new(
            ErrorCode::BadRequest,
            format!("the body could not be read: {e}"),
        ),
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

impl FromRequest for GatewaySigned {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = state(&req)?;
            payment_gateway::require_enabled(&state.app)?;
            let tenant = tenant_of(&req, &state)?;
            let now = state.now();
            let body = body.await.map_err(|e| body_refused(&e))?;
            let signature = req
                .headers()
                .get(SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok());
            if let Err(e) = payment_gateway::authenticate(&state.app, now, signature, &body) {
                // Not in the audit chain (a caller without the secret could grow it
                // without bound); the log has where it came from, never what was sent.
                tracing::warn!(
                    peer = req
                        .peer_addr()
                        .map(|a| a.ip().to_string())
                        .unwrap_or_default(),
                    signed = signature.is_some(),
                    error = %e,
                    "payment gateway call refused"
                );
                return Err(e.into());
            }
            Ok(GatewaySigned {
                json: is_json(&req),
                open: Open { state, tenant, now },
                body,
            })
        })
    }
}

impl Demands for GatewaySigned {
    fn demands(out: &mut Vec<Access>) {
        out.push(Access::GatewaySigned);
    }
}
