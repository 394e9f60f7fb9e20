//! One log line per request: method, path (never the query, which may hold secrets),
//! status, latency, and the signed-in user when there is one.

use crate::http::auth::LoggedActor;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, actor) = match &res {
        Ok(r) => (
            r.status().as_u16(),
            r.request()
                .extensions()
                .get::<LoggedActor>()
                .map(|a| a.0.clone()),
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), None),
    };
    tracing::info!(
        target: "licd::http",
        method = %method,
        path = %path,
        status,
        latency_ms = format_args!("{latency_ms:.2}"),
        user = actor.as_deref().unwrap_or("-"),
        "request"
    );
    res
}
