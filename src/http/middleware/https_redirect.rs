//! With TLS on, the plain HTTP listener only redirects to HTTPS (308, so the method and
//! body survive), except for the paths an air-gapped client needs before it can trust
//! the local CA, and the health checks a load balancer or systemd probe uses. `GET /`
//! is the first-run page (`ui::first_run`): how to trust the local CA, then a link on to
//! HTTPS; the stylesheet it uses is served plainly too.

use crate::http::state::AppState;
use crate::http::ui::first_run;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

/// Served over plain HTTP even when TLS is on.
pub const OPEN_PATHS: &[&str] = &["/healthz", "/readyz", "/ca.pem", "/static/app.css"];

/// Where the plain listener sends a visitor: the same host on the HTTPS port.
fn https_url(host: &str, port: u16, path: &str) -> String {
    match port {
        443 => format!("https://{host}{path}"),
        p => format!("https://{host}:{p}{path}"),
    }
}

/// The host part of a Host header: `[::1]:8080` -> `[::1]`, `example:80` -> `example`.
fn host_only(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

pub async fn redirect(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let https_port = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.https_port);
    let Some(port) = https_port.filter(|_| !req.app_config().secure()) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if OPEN_PATHS.contains(&req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    // The Host header itself (not Forwarded / X-Forwarded-Host, which anyone can send).
    let sent_host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
        .to_owned();
    let host = host_only(&sent_host).to_owned();
    if req.path() == "/"
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        let res = first_run::page(state, &sent_host, &https_url(&host, port, "/"));
        return Ok(req.into_response(res).map_into_right_body());
    }
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let location = https_url(&host, port, &path);
    let res = HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish();
    Ok(req.into_response(res).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::host_only;

    #[test]
    fn strips_the_port() {
        assert_eq!(host_only("example.com:8080"), "example.com");
        assert_eq!(host_only("example.com"), "example.com");
        assert_eq!(host_only("[::1]:8080"), "[::1]");
        assert_eq!(host_only("[::1]"), "[::1]");
        assert_eq!(host_only("10.0.0.1:80"), "10.0.0.1");
    }
}
