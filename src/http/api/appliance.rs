//! What appliances call: activate (license key), heartbeat (activation secret),
//! provision (provisioning token). No staff authentication; each has its own secret.

use crate::error::ErrorCode;
use crate::http::auth::{state, tenant_of};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::appliance::{self, ActivateRequest, HeartbeatRequest};
use crate::service::provisioning::{self, ProvisionRequest};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn activate(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ActivateRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let (now, id, body) = (state.now(), id.into_inner(), body.into_inner());
    let activated = blocking(move || appliance::activate(&tenant, now, &id, &body)).await?;
    Ok(HttpResponse::Ok().json(activated))
}

pub async fn heartbeat(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<HeartbeatRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, s)| s.trim().to_owned())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ActivationInvalid,
                "send the activation secret as `Authorization: Bearer lact_...`",
            )
        })?;
    let (now, id, body) = (state.now(), id.into_inner(), body.into_inner());
    let lease = blocking(move || appliance::heartbeat(&tenant, now, &id, &secret, &body)).await?;
    Ok(HttpResponse::Ok().json(lease))
}

pub async fn provision(
    req: HttpRequest,
    body: web::Json<ProvisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let (now, body) = (state.now(), body.into_inner());
    let provisioned = blocking(move || provisioning::provision(&tenant, now, &body)).await?;
    Ok(HttpResponse::Created().json(provisioned))
}

/// `GET /.well-known/jwks.json`: the tenant's public keys (active and rotated, not retired).
pub async fn jwks(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let ring = tenant.keyring()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(ring.jwks()))
}
