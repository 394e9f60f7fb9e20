//! One log line per request: method, path (never the query, which may hold secrets),
//! status, latency, and the signed-in user when there is one; and the same request in
//! the metrics, by route pattern (so ids in paths do not multiply the series).
//!
//! Two kinds of request are logged at `debug`, not `info`: static files, and heartbeats
//! that were answered. A fleet heartbeats every minute or so per appliance: 100,000
//! appliances make about 1,700 lines a second. That is about all journald lets a
//! service log by default: `RateLimitBurst=10000` per `RateLimitIntervalSec=30s`,
//! times 1 to 6 by the journal's free space (5 for 4 to 64 GB). Past it, journald
//! drops the service's lines, warnings and errors among them, for the rest of the
//! interval; below it, the lines fill the journal's size cap and push older ones out.
//! Answered heartbeats are counted in `/metrics` (`licd_heartbeats_total`) and kept in
//! the heartbeat history. A refused heartbeat (any status of 400 or more) is logged at
//! `info` like every other request.

use crate::http::api::appliance::HEARTBEAT_ROUTE;
use crate::http::auth::LoggedActor;
use crate::http::state::AppState;
use crate::metrics::Stopwatch;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Stopwatch::start();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, actor, route) = match &res {
        Ok(r) => (
            r.status().as_u16(),
            r.request()
                .extensions()
                .get::<LoggedActor>()
                .map(|a| a.0.clone()),
            r.request().match_pattern(),
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), None, None),
    };
    let route = route.as_deref().unwrap_or("unmatched");
    if let Some(state) = state {
        state
            .app
            .metrics
            .request(method.as_str(), route, status, started.elapsed());
    }
    if path.starts_with("/static/") || (route == HEARTBEAT_ROUTE && status < 400) {
        // At info they would drown the requests that matter (the module's doc).
        tracing::debug!(target: "licd::http", method = %method, path = %path, status, latency_ms = format_args!("{latency_ms:.2}"), "request");
        return res;
    }
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
