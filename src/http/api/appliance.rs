//! What appliances call: activate (license key), heartbeat (activation secret),
//! provision (provisioning token). No staff authentication; each has its own secret.

use crate::config::ApplianceMtls;
use crate::error::ErrorCode;
use crate::http::ClientCert;
use crate::http::auth::{state, tenant_of};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::appliance::{self, ActivateRequest, ApplianceCredential, HeartbeatRequest};
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
    let app = state.app.clone();
    let activated =
        blocking(move || appliance::activate(&tenant, now, &id, &body, app.client_cert_issuer()))
            .await?;
    Ok(HttpResponse::Ok().json(activated))
}

/// A heartbeat's credential: the client certificate from the TLS handshake when
/// appliance mTLS is on and one was presented, else the bearer activation secret
/// (refused when mTLS is `required`).
fn credential(req: &HttpRequest, mtls: ApplianceMtls) -> Result<ApplianceCredential, ApiError> {
    if mtls != ApplianceMtls::Off
        && let Some(cert) = req.conn_data::<ClientCert>()
    {
        return Ok(ApplianceCredential::Certificate {
            sha256: cert.sha256.clone(),
        });
    }
    if mtls == ApplianceMtls::Required {
        return Err(ApiError::new(
            ErrorCode::ClientCertificateRequired,
            "appliance mTLS is required: connect over HTTPS with the client certificate issued at activation",
        ));
    }
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, s)| ApplianceCredential::Secret(s.trim().to_owned()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ActivationInvalid,
                "send the activation secret as `Authorization: Bearer lact_...`",
            )
        })
}

pub async fn heartbeat(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<HeartbeatRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let credential = credential(&req, state.app.config.tls.appliance_mtls)?;
    let (now, id, body) = (state.now(), id.into_inner(), body.into_inner());
    let lease =
        blocking(move || appliance::heartbeat(&tenant, now, &id, &credential, &body)).await?;
    Ok(HttpResponse::Ok().json(lease))
}

pub async fn provision(
    req: HttpRequest,
    body: web::Json<ProvisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let (now, body) = (state.now(), body.into_inner());
    let app = state.app.clone();
    let provisioned =
        blocking(move || provisioning::provision(&tenant, now, &body, app.client_cert_issuer()))
            .await?;
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
