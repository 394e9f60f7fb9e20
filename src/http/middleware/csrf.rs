//! CSRF protection for every state-changing request a browser could be tricked into
//! sending. A request that carries licd's cookies must present the CSRF token (derived
//! from the session or pre-login cookie) in the `X-CSRF-Token` header or, for HTML
//! forms, the `csrf` field. A form post without any licd cookie is refused too (it
//! cannot come from a licd page). Only a licd API token (`Authorization: Bearer
//! licd_...`) passes without: it is not cookie-borne, and with it the cookie is never
//! used (`http::auth::presented`). Any other `Authorization` header (Basic or Negotiate
//! that a browser adds by itself behind some proxies, an empty one) skips nothing.

use crate::error::{ErrorCode, Problem};
use crate::http::auth::{
    CSRF_FIELD, CSRF_HEADER, Presented, SESSION_COOKIE, cookie, csrf_basis, presented,
};
use crate::http::problem::problem_response;
use crate::service::secrets::{constant_time_eq, csrf_token};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;

/// Largest form body the check reads (forms are small; larger bodies are refused later
/// by the form extractor's own limit anyway).
const MAX_FORM_BYTES: usize = 64 * 1024;

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/x-www-form-urlencoded")
                || ct.starts_with("multipart/form-data")
        })
}

fn refuse(req: ServiceRequest, why: &str) -> ServiceResponse<BoxBody> {
    tracing::warn!(path = req.path(), why, "CSRF check refused a request");
    let resp = problem_response(&Problem::new(ErrorCode::CsrfFailed, why));
    req.into_response(resp)
}

fn form_token(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let safe = req.method().is_safe();
    if safe || matches!(presented(req.request()), Presented::ApiToken(_)) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let form = is_form(&req);
    let basis = csrf_basis(req.request());
    let Some(basis) = basis else {
        if form {
            return Ok(refuse(
                req,
                "form posts need the page's CSRF token; reload the page and try again",
            ));
        }
        // No cookie: nothing a third-party page could ride on.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let expected = csrf_token(&basis);
    if let Some(sent) = req.headers().get(CSRF_HEADER) {
        let ok = sent.to_str().is_ok_and(|s| constant_time_eq(s, &expected));
        if !ok {
            return Ok(refuse(
                req,
                "the X-CSRF-Token header does not match this session",
            ));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    if !form {
        if cookie(req.request(), SESSION_COOKIE).is_none() {
            // Only a pre-login cookie and no form: nothing to protect.
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        return Ok(refuse(
            req,
            "requests made with a session cookie need the X-CSRF-Token header",
        ));
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            let resp = problem_response(&Problem::new(
                ErrorCode::PayloadTooLarge,
                "form body too large",
            ));
            return Ok(req.into_response(resp));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    let ok = form_token(&body).is_some_and(|t| constant_time_eq(&t, &expected));
    if !ok {
        return Ok(refuse(
            req,
            "the form's CSRF token is missing or stale; reload the page and try again",
        ));
    }
    req.set_payload(bytes_payload(body));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

fn bytes_payload(body: Bytes) -> Payload {
    let (_, mut inner) = actix_http::h1::Payload::create(true);
    inner.unread_data(body);
    Payload::from(inner)
}
