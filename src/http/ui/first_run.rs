//! The first-run page: with TLS on, the plain-HTTP listener answers `GET /` with one
//! small page (instead of the redirect) that explains the local CA, shows its SHA-256
//! fingerprint to compare, says how to install it on common systems, links `/ca.pem`,
//! and continues to the HTTPS console. A browser sent straight to HTTPS would only show
//! "Your connection is not private". Every other plain path keeps redirecting.

use crate::http::state::AppState;
use actix_web::HttpResponse;
use minijinja::context;

/// The page, for a visitor who reached the plain listener as `plain_host` (the Host
/// header as sent, port included); `https_url` is where the console is.
pub fn page(state: &AppState, plain_host: &str, https_url: &str) -> HttpResponse {
    let ca = &state.app.ca;
    let ctx = context! {
        ca_name => ca.name(),
        fingerprint => ca.fingerprint(),
        ca_url => format!("http://{plain_host}/ca.pem"),
        https_url => https_url,
    };
    match state.templates.render("first_run.html", ctx) {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "first-run page");
            HttpResponse::InternalServerError().finish()
        }
    }
}
