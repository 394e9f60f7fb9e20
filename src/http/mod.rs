//! HTTP: actix routes, extractors, middleware. Handlers hold no SQL and no rules: they
//! authenticate (their extractor), parse, run a service function off the async threads
//! (`Caller::run`, `Open::run`), and answer. Every route is in one table (`routes`; see
//! `routing`).

pub mod api;
pub mod audit_export;
pub mod auth;
pub mod context;
pub mod customer_auth;
pub mod gateway_signed;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod optional_json;
pub mod portal;
pub mod problem;
pub mod routing;
pub mod sign_in;
pub mod state;
pub mod static_files;
pub mod tenancy_key;
pub mod ui;

use crate::error::{ErrorCode, Problem};
use actix_web::dev::Extensions;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use problem::{problem_response, refusal, wants_html};
use routing::{Access, Routes};
use state::AppState;
use std::any::Any;
use std::net::TcpListener;

/// The answer for a body that did not arrive within `server.request_timeout_secs`.
fn body_too_slow() -> Problem {
    Problem::new(
        ErrorCode::RequestTimeout,
        "the request body did not arrive in time (server.request_timeout_secs)",
    )
}

fn json_error(err: JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let p = match &err {
        JsonPayloadError::Payload(e) if middleware::body_deadline::timed_out(e) => body_too_slow(),
        JsonPayloadError::ContentType => Problem::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => Problem::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            Problem::new(ErrorCode::ValidationFailed, e.to_string())
        }
        JsonPayloadError::Deserialize(e) => Problem::new(ErrorCode::MalformedJson, e.to_string()),
        other => Problem::new(ErrorCode::BadRequest, other.to_string()),
    };
    refusal(req, p)
}

fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let p = match &err {
        UrlencodedError::Payload(e) if middleware::body_deadline::timed_out(e) => body_too_slow(),
        UrlencodedError::ContentType => Problem::new(
            ErrorCode::UnsupportedMediaType,
            "send the form as application/x-www-form-urlencoded",
        ),
        UrlencodedError::Overflow { limit, .. } => Problem::new(
            ErrorCode::PayloadTooLarge,
            format!("the form is larger than {limit} bytes"),
        ),
        other => Problem::new(ErrorCode::MalformedForm, other.to_string()),
    };
    refusal(req, p)
}

fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    refusal(
        req,
        Problem::new(ErrorCode::BadRequest, format!("query string: {err}")),
    )
}

fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    refusal(
        req,
        Problem::new(
            ErrorCode::NotFound,
            format!("nothing exists at {}", req.path()),
        ),
    )
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_html(&req) {
        return HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(ui::reject::error_html(
                actix_web::http::StatusCode::NOT_FOUND,
                "Not found",
                "There is no page at this address.",
                if customer_auth::is_portal_path(req.path()) {
                    "/portal/"
                } else {
                    "/"
                },
            ));
    }
    problem_response(&Problem::new(
        ErrorCode::RouteNotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

/// The route table: every route licd serves, with what it needs (see `routing`).
pub fn routes() -> Routes {
    let mut r = Routes::default();
    r.api("/healthz").get(Access::Public, health::healthz);
    r.api("/readyz").get(Access::Public, health::readyz);
    r.api("/ca.pem").get(Access::Public, health::ca_pem);
    r.api("/metrics")
        .get(Access::MetricsToken, metrics::metrics);
    r.api("/static/{path:.*}")
        .get(Access::Public, static_files::serve);
    api::routes(&mut r);
    ui::routes(&mut r);
    portal::routes(&mut r);
    r
}

/// Every route, extractor limit and error handler.
pub fn configure(cfg: &mut web::ServiceConfig, max_body: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(max_body)
            .content_type_required(true)
            .error_handler(json_error),
    )
    .app_data(
        web::FormConfig::default()
            .limit(max_body)
            .error_handler(form_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::PayloadConfig::new(max_body));
    routes().configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// The leaf certificate a client presented in the TLS handshake (appliance mTLS): the
/// lowercase hex SHA-256 of its DER. Verified against the local CA by rustls; what it
/// is worth is decided against licd's records on every request.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub sha256: String,
}

fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    if let Some(tls) = conn.downcast_ref::<Tls>() {
        let (_, session) = tls.get_ref();
        if let Some(leaf) = session.peer_certificates().and_then(|c| c.first()) {
            ext.insert(ClientCert {
                sha256: crate::pki::ca::der_sha256(leaf),
            });
        }
    }
}

/// Already-bound listeners: plain HTTP and/or HTTPS (with its rustls configuration).
#[derive(Debug, Default)]
pub struct Listeners {
    pub http: Option<TcpListener>,
    pub https: Option<(TcpListener, rustls::ServerConfig)>,
}

/// Builds the server on already-bound listeners.
pub fn server(
    state: web::Data<AppState>,
    listeners: Listeners,
) -> std::io::Result<actix_web::dev::Server> {
    // A handler whose extractor demands something other than its registration says is
    // a bug: refuse to start.
    let problems = routing::check(&routes().list());
    if !problems.is_empty() {
        return Err(std::io::Error::other(format!(
            "the route table is inconsistent:\n{}",
            problems.join("\n")
        )));
    }
    let cfg = state.app.config.server.clone();
    let max_body = cfg.max_body_bytes;
    let mut server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .configure(move |c| configure(c, max_body))
            .wrap(from_fn(middleware::read_only::enforce))
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(middleware::tenant_routing::route))
            .wrap(from_fn(middleware::csrf::check))
            .wrap(from_fn(middleware::body_deadline::limit))
            .wrap(from_fn(middleware::https_redirect::redirect))
            .wrap(from_fn(middleware::security_headers::add))
            .wrap(from_fn(middleware::request_log::log))
    })
    .on_connect(on_connect)
    .disable_signals()
    .shutdown_timeout(cfg.shutdown_timeout_secs);
    if cfg.workers > 0 {
        server = server.workers(cfg.workers);
    }
    if let Some(l) = listeners.http {
        server = server.listen(l)?;
    }
    if let Some((l, tls)) = listeners.https {
        server = server.listen_rustls_0_23(l, tls)?;
    }
    Ok(server.run())
}
