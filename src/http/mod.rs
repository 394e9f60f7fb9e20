//! HTTP: actix routes, extractors, middleware. Handlers hold no SQL and no rules: they
//! authenticate, parse, call a service function on a blocking thread, and answer.

pub mod api;
pub mod auth;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod optional_json;
pub mod problem;
pub mod routing;
pub mod state;
pub mod static_files;
pub mod ui;

use crate::error::{ErrorCode, Problem};
use actix_web::dev::Extensions;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use problem::{ApiError, problem_response, wants_html};
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

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
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
    ApiError(p).into()
}

fn form_error(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
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
    ApiError(p).into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::BadRequest, format!("query string: {err}")).into()
}

fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::NotFound,
        format!("nothing exists at {}", req.path()),
    )
    .into()
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_html(&req) {
        return HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(ui::reject::error_html(
                actix_web::http::StatusCode::NOT_FOUND,
                "Not found",
                "There is no page at this address.",
            ));
    }
    problem_response(&Problem::new(
        ErrorCode::RouteNotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
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
    .app_data(web::PayloadConfig::new(max_body))
    .service(routing::resource("/healthz").get(health::healthz).build())
    .service(routing::resource("/readyz").get(health::readyz).build())
    .service(routing::resource("/ca.pem").get(health::ca_pem).build())
    .service(routing::resource("/metrics").get(metrics::metrics).build())
    .service(
        routing::resource("/static/{path:.*}")
            .get(static_files::serve)
            .build(),
    )
    .configure(api::routes)
    .configure(ui::routes)
    .default_service(web::to(not_found));
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
    let cfg = state.app.config.server.clone();
    let max_body = cfg.max_body_bytes;
    let mut server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .configure(move |c| configure(c, max_body))
            .wrap(from_fn(middleware::read_only::enforce))
            .wrap(from_fn(auth::authenticate))
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
