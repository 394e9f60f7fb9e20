//! Picks the request's tenant once, before anything else needs it, and opens it on the
//! blocking pool when it is closed (opening reads its database and unseals its keys,
//! which must not happen on the async executor). The tenant rides in the request's
//! extensions (`auth::tenant_of` takes it from there) and is held for the request's
//! whole life, so it is never closed under a request.

use crate::http::state::{AppState, blocking};
use crate::service::tenant_domains;
use crate::service::tenants::Tenant;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use std::sync::Arc;

/// The tenant a request was routed to.
#[derive(Debug, Clone)]
pub struct RoutedTenant(pub Arc<Tenant>);

pub async fn route(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        let host = req.connection_info().host().to_owned();
        let tenant = match tenant_domains::route_open(&state.app, &host) {
            Some(routed) => routed.ok(),
            // Closed: open it off the executor. An error (also `unknown_host`) is left
            // for `tenant_of` to answer the way every other failure to pick a tenant is
            // answered.
            None => blocking(move || tenant_domains::route(&state.app, &host))
                .await
                .ok(),
        };
        if let Some(t) = tenant {
            req.extensions_mut().insert(RoutedTenant(t));
        }
    }
    next.call(req).await
}
