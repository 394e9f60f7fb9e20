//! Security headers on every response (set only where a handler has not set its own);
//! HSTS on responses served over TLS, or through an HTTPS proxy (`server.public_url`).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::sync::LazyLock;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers, parsed once (`HeaderName::from_static` checks its text each time it runs).
static HEADERS: LazyLock<[(HeaderName, HeaderValue); 9]> = LazyLock::new(|| {
    let h = |name: &'static str, value: &'static str| {
        (
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    [
        h("content-security-policy", CONTENT_SECURITY_POLICY),
        h("x-content-type-options", "nosniff"),
        h("x-frame-options", "DENY"),
        h("referrer-policy", "no-referrer"),
        h(
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
        h("cross-origin-opener-policy", "same-origin"),
        h("cross-origin-resource-policy", "same-origin"),
        // Default for everything dynamic; static files set their own caching.
        h("cache-control", "no-store"),
        h("x-xss-protection", "0"),
    ]
});

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let secure = req.app_config().secure()
        || req
            .app_data::<actix_web::web::Data<crate::http::state::AppState>>()
            .is_some_and(|s| s.behind_https_proxy);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if secure && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    for (name, value) in HEADERS.iter() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    Ok(res)
}
