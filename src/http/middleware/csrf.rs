//! CSRF protection for every state-changing request a browser could be tricked into
//! sending. A request that carries licd's cookies must present the CSRF token (derived
//! from the session or pre-login cookie) in the `X-CSRF-Token` header or, for HTML
//! forms, the `csrf` field. A form post without any licd cookie is refused too (it
//! cannot come from a licd page). Only a licd API token (`Authorization: Bearer
//! licd_...`) passes without: it is not cookie-borne, and with it the cookie is never
//! used (`http::auth::presented`). Any other `Authorization` header (Basic or Negotiate
//! that a browser adds by itself behind some proxies, an empty one) skips nothing.
//!
//! On the customer portal (`/portal`) the token derives from the portal cookie or the
//! pre-login cookie (never the staff session cookie), and no `Authorization` header
//! skips the check: the portal knows no bearer credential.
//!
//! Refusals on console and portal routes are HTML pages that say nothing was changed
//! and link back (to the sign-in page when there was no session); on the API,
//! problem+json.

use crate::error::{ErrorCode, Problem};
use crate::http::auth::{
    CSRF_FIELD, CSRF_HEADER, Presented, SESSION_COOKIE, cookie, csrf_basis, presented,
};
use crate::http::customer_auth::{self, PORTAL_COOKIE, is_portal_path, portal_csrf_basis};
use crate::http::problem::problem_response;
use crate::http::routing::{self, Access, Surface, page_of};
use crate::http::ui::reject::{error_page, sign_in_again};
use crate::service::secrets::{constant_time_eq, csrf_token};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
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

/// Why a request was refused.
enum Refusal {
    /// No licd cookie at all with a form: the session ended (the browser dropped its
    /// cookie), or the form did not come from a licd page.
    NoSession,
    /// A token that does not match this session or page.
    Stale,
}

fn refuse(req: ServiceRequest, refusal: Refusal, why: &str) -> ServiceResponse<BoxBody> {
    tracing::warn!(path = req.path(), why, "CSRF check refused a request");
    let resp = if routing::surface_of(req.path()) == Some(Surface::Portal) {
        portal_refusal(&req, refusal)
    } else if routing::surface_of(req.path()) == Some(Surface::Console) {
        let (title, message, back) = match refusal {
            Refusal::NoSession if req.path() == "/login" => (
                "This sign-in form is out of date",
                "The browser sent the form without the sign-in page's cookie. Nothing was \
                 changed. Open the sign-in page again and sign in.",
                "/login".to_owned(),
            ),
            Refusal::NoSession => (
                "Your session has ended",
                "The browser sent this form without a session (it may have ended), or the form \
                 did not come from a licd page. Nothing was changed. Sign in again and repeat \
                 the change.",
                sign_in_again(req.request()),
            ),
            Refusal::Stale => (
                "This form is out of date",
                "Its security token belongs to an earlier session or page (perhaps you signed \
                 out and in again since it was loaded). Nothing was changed. Reload the page \
                 and try again.",
                page_of(req.path()),
            ),
        };
        error_page(StatusCode::FORBIDDEN, title, message, &back)
    } else {
        problem_response(&Problem::new(ErrorCode::CsrfFailed, why))
    };
    req.into_response(resp)
}

/// A portal form refused: a form anyone may post (sign-in, sign-up, an emailed link)
/// without the page's cookie is out of date; a signed-in customer's without the portal
/// cookie means the session ended.
fn portal_refusal(req: &ServiceRequest, refusal: Refusal) -> actix_web::HttpResponse {
    let open_form = routing::lookup(req.method().as_str(), req.path())
        .is_some_and(|r| r.access == Access::Public);
    let (title, message, back) = match refusal {
        Refusal::NoSession if open_form => (
            "This form is out of date",
            "The browser sent the form without the page's cookie. Nothing was changed. Open \
             the page again and repeat what you did.",
            page_of(req.path()),
        ),
        Refusal::NoSession => (
            "Your session has ended",
            "The browser sent this form without a session (it may have ended). Nothing was \
             changed. Sign in again and repeat the change.",
            customer_auth::sign_in_again(req.request()),
        ),
        Refusal::Stale => (
            "This form is out of date",
            "Its security token belongs to an earlier session or page (perhaps you signed \
             out and in again since it was loaded). Nothing was changed. Reload the page and \
             try again.",
            page_of(req.path()),
        ),
    };
    error_page(StatusCode::FORBIDDEN, title, message, &back)
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
    let portal = is_portal_path(req.path());
    if safe || (!portal && matches!(presented(req.request()), Presented::ApiToken(_))) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let form = is_form(&req);
    let (basis, session_cookie) = if portal {
        (portal_csrf_basis(req.request()), PORTAL_COOKIE)
    } else {
        (csrf_basis(req.request()), SESSION_COOKIE)
    };
    let Some(basis) = basis else {
        if form {
            return Ok(refuse(
                req,
                Refusal::NoSession,
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
                Refusal::Stale,
                "the X-CSRF-Token header does not match this session",
            ));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    if !form {
        if cookie(req.request(), session_cookie).is_none() {
            // Only a pre-login cookie and no form: nothing to protect.
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        return Ok(refuse(
            req,
            Refusal::Stale,
            "requests made with a session cookie need the X-CSRF-Token header",
        ));
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            let p = Problem::new(ErrorCode::PayloadTooLarge, "form body too large");
            let resp = crate::http::problem::refusal(req.request(), p).error_response();
            return Ok(req.into_response(resp));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    let ok = form_token(&body).is_some_and(|t| constant_time_eq(&t, &expected));
    if !ok {
        return Ok(refuse(
            req,
            Refusal::Stale,
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
