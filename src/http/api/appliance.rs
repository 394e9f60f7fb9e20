//! What appliances call: activate (license key), heartbeat (activation secret),
//! provision (provisioning token). No staff authentication; each has its own secret.

use crate::config::ApplianceMtls;
use crate::error::ErrorCode;
use crate::http::ClientCert;
use crate::http::context::Open;
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::metrics::{self, OutcomeLabels};
use crate::service;
use crate::service::appliance::{self, ActivateRequest, ApplianceCredential, HeartbeatRequest};
use crate::service::provisioning::{self, ProvisionRequest};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus_client::metrics::{counter::Counter, family::Family};

/// The heartbeat's route: most of licd's traffic (one request per appliance per
/// interval), so the request log keeps its answered ones at `debug`.
pub const HEARTBEAT_ROUTE: &str = "/api/v1/licenses/{id}/heartbeat";

/// Counts an appliance call's outcome (`ok` or its problem code), passing it through.
/// Errors before it (say, a body that is not JSON) show only in the request counters.
fn counted<T>(
    family: &Family<OutcomeLabels, Counter>,
    tenant: &str,
    result: service::Result<T>,
) -> service::Result<T> {
    let code = result.as_ref().err().map(|e| e.problem().code.as_str());
    metrics::outcome(family, tenant, code);
    result
}

refusals!(ActivateRefusals:
    LicenseKeyInvalid,
    LicenseKeyMismatch,
    WrongInstallId,
    NotFound,
    LicenseRevoked,
    LicenseExpired,
    LicenseNotYetValid,
    LicenseSuspended,
    BoundElsewhere,
    CsrInvalid,
);

/// Activates a license on an appliance
///
/// Authenticated by the license key in the body (signed by this tenant, for this
/// license and Install ID). Binds the fingerprint, answers with the first signed lease
/// and a new activation secret (shown once; any earlier activation from this
/// fingerprint is replaced). With appliance mTLS on and a `csr`, also a client
/// certificate for heartbeats.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/activate",
    operation_id = "activate_license",
    tag = "appliance",
    params(("id" = String, Path, description = "The license id (the key's `jti`)")),
    request_body = ActivateRequest,
    responses((status = 200, description = "Activated: the secret, the lease, and a client certificate when asked for", body = appliance::Activated), ActivateRefusals),
)]
pub async fn activate(
    open: Open,
    id: web::Path<String>,
    body: web::Json<ActivateRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let activated = open
        .run(move |cx| {
            appliance::activate(&cx.tenant, cx.now, &id, &body, cx.app.client_cert_issuer())
        })
        .await;
    let activated = counted(
        &open.state.app.metrics.activations,
        &open.tenant.schema_name,
        activated,
    )?;
    Ok(HttpResponse::Ok().json(activated))
}

/// A heartbeat's credential: the client certificate from the TLS handshake when
/// appliance mTLS is on and one was presented, else the bearer activation secret
/// (refused when mTLS is `required`).
fn credential(req: &HttpRequest, mtls: ApplianceMtls) -> Result<ApplianceCredential, ApiError> {
    let cert = match mtls {
        ApplianceMtls::Off => None,
        _ => req.conn_data::<ClientCert>(),
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, s)| ApplianceCredential::Secret(s.trim().to_owned()));
    let by_cert = cert.map(|c| ApplianceCredential::Certificate {
        sha256: c.sha256.clone(),
    });
    let chosen = match mtls {
        ApplianceMtls::Required => by_cert.ok_or_else(|| {
            ApiError::new(
                ErrorCode::ClientCertificateRequired,
                "appliance mTLS is required: connect over HTTPS with the client certificate issued at activation",
            )
        })?,
        // Optional: a secret the appliance chose to send wins over a certificate its
        // TLS stack may still present from an earlier activation.
        _ => match bearer.or(by_cert) {
            Some(c) => c,
            None => {
                return Err(ApiError::new(
                    ErrorCode::ActivationInvalid,
                    "send the activation secret as `Authorization: Bearer lact_...`",
                ));
            }
        },
    };
    Ok(chosen)
}

refusals!(HeartbeatRefusals:
    ActivationInvalid,
    ClientCertificateRequired,
    ClientCertificateUnknown,
    ClientCertificateRevoked,
    BoundElsewhere,
    NotActivated,
    LeaseSeqAhead,
);

/// Reports in and renews the lease
///
/// Authenticated by the activation secret (`Bearer lact_...`) or, with appliance mTLS
/// on, the client certificate issued at activation (the only way when mTLS is
/// `required`). Answers with the next lease; a revoked, expired or suspended license (or
/// one moved to other hardware) gets a lock lease rather than a refusal: `lock_reason`
/// set, a `lock` directive first, `state` saying so (`locked` for a box the license moved
/// away from, which gets nothing else), and no offline time (`lease_expires_at` =
/// `server_time`). Directives ride only on their own activation's leases. Usage counts
/// only when both user counts are sent.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/heartbeat",
    operation_id = "heartbeat",
    tag = "appliance",
    params(("id" = String, Path, description = "The license id")),
    request_body = HeartbeatRequest,
    responses((status = 200, description = "The next lease", body = appliance::LeaseReply), HeartbeatRefusals),
)]
pub async fn heartbeat(
    req: HttpRequest,
    open: Open,
    id: web::Path<String>,
    body: web::Json<HeartbeatRequest>,
) -> Result<HttpResponse, ApiError> {
    let app = &open.state.app;
    let credential = credential(&req, app.config.tls.appliance_mtls).inspect_err(|e| {
        metrics::outcome(
            &app.metrics.heartbeats,
            &open.tenant.schema_name,
            Some(e.0.code.as_str()),
        );
    })?;
    // Queued for the next group commit without taking a blocking thread.
    let lease = appliance::heartbeat_queued(&open.tenant, open.now, &id, &credential, &body).await;
    let lease = counted(&app.metrics.heartbeats, &open.tenant.schema_name, lease)?;
    Ok(HttpResponse::Ok().json(lease))
}

refusals!(ProvisionRefusals: ProvisioningTokenInvalid, CsrInvalid);

/// Redeems a provisioning token
///
/// Authenticated by the provisioning token (`lprov_...`) in the body. Issues a license
/// from the token's template for this Install ID and activates it in one step: the
/// reply is an activation plus the license key.
#[utoipa::path(
    post,
    path = "/api/v1/provision",
    operation_id = "provision",
    tag = "appliance",
    request_body = ProvisionRequest,
    responses((status = 201, description = "Provisioned: the license key and its activation", body = provisioning::Provisioned), ProvisionRefusals),
)]
pub async fn provision(
    open: Open,
    body: web::Json<ProvisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let provisioned = open
        .run(move |cx| provisioning::provision(&cx.app, &cx.tenant, cx.now, &body))
        .await;
    let provisioned = counted(
        &open.state.app.metrics.provisions,
        &open.tenant.schema_name,
        provisioned,
    )?;
    Ok(HttpResponse::Created().json(provisioned))
}

/// The public signing keys
///
/// The tenant's keys that verify license keys and leases (active and rotated, not
/// retired), as a JWK Set; `kid` in a key's header picks one. Cacheable for 5 minutes.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "appliance",
    responses((status = 200, description = "The JWK Set", body = crate::pki::keys::Jwks)),
)]
pub async fn jwks(open: Open) -> Result<HttpResponse, ApiError> {
    let ring = open.tenant.keyring()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(ring.jwks()))
}
