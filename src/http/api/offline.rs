//! `/api/v1/licenses/{id}/offline-activations|offline-releases|bundles|usage-reports`
//! (license.revoke, like rebind and revoke): the air gap. Staff upload what an
//! air-gapped appliance wrote (a request, a release proof, a usage report) and download
//! licd's answer, a transfer file (`licd-transfer/1`) carried back to the box.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::offline_activation::{self, Released};
use crate::service::offline_bundles::{self, BundleKind};
use crate::service::transfer_files;
use crate::service::usage_reports::{self, UsageReportView};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use licd_client::formats::Transfer;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type AirGap = Staff<need::LicenseRevoke>;

/// A file carried across the air gap: one or more compact JWS tokens, each saying by
/// its `typ` what it is (`kind` and `summary` are for people and not trusted).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Transfer)]
pub struct TransferBody {
    /// Always `licd-transfer/1`.
    #[schema(example = "licd-transfer/1")]
    pub format: String,
    /// `offline-request`, `offline-response`, `release`, `renewal`, `revocation`,
    /// `usage-report` or `usage-ack` (informative only).
    pub kind: String,
    /// One line for the person carrying the file (informative only).
    #[serde(default)]
    pub summary: String,
    /// Compact JWS tokens.
    pub tokens: Vec<String>,
}

impl From<TransferBody> for Transfer {
    fn from(b: TransferBody) -> Self {
        Transfer {
            format: b.format,
            kind: b.kind,
            summary: b.summary,
            tokens: b.tokens,
        }
    }
}

impl From<Transfer> for TransferBody {
    fn from(t: Transfer) -> Self {
        TransferBody {
            format: t.format,
            kind: t.kind,
            summary: t.summary,
            tokens: t.tokens,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    kind: BundleKind,
}

/// The answer file as a download.
fn attachment(kind: &str, license_id: &str, file: Transfer) -> HttpResponse {
    let name = transfer_files::file_name(kind, license_id);
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .json(TransferBody::from(file))
}

refusals!(ActivateRefusals:
    PasswordChangeRequired,
    NotFound,
    TransferInvalid,
    ApplianceSignatureInvalid,
    OfflineLicenseMismatch,
    OfflineRequestReplayed,
    LicenseRevoked,
    LicenseExpired,
    LicenseNotYetValid,
    LicenseSuspended,
    BoundElsewhere,
);
refusals!(ReleaseRefusals:
    PasswordChangeRequired,
    NotFound,
    TransferInvalid,
    ApplianceSignatureInvalid,
    OfflineLicenseMismatch,
    OfflineReleaseReplayed,
    OfflineActivationUnknown,
    BoundElsewhere,
);
refusals!(BundleRefusals: PasswordChangeRequired, NotFound, BundleNotAvailable);
refusals!(ReportRefusals:
    PasswordChangeRequired,
    NotFound,
    TransferInvalid,
    ApplianceSignatureInvalid,
    OfflineLicenseMismatch,
    OfflineActivationUnknown,
);
refusals!(ListRefusals: PasswordChangeRequired, NotFound);

/// Answers an offline activation request
///
/// The body is the request file an air-gapped appliance wrote (`licd agent
/// offline-request`), signed by the appliance key it carries. licd binds the license to
/// that box like an activation and answers with a response file: a JWS
/// (`licd-offline-response+jwt`) naming the box's fingerprint and the request's nonce,
/// carrying the license key and a lease valid offline for `offline_lease_days`, to be
/// applied before `offline_response_days` pass. A request is answered once
/// (`offline_request_replayed`).
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/offline-activations",
    operation_id = "offline_activate_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = TransferBody,
    responses((status = 200, description = "The response file (a download)", body = TransferBody), ActivateRefusals),
)]
pub async fn activate(
    staff: AirGap,
    id: web::Path<String>,
    body: web::Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = (id.into_inner(), Transfer::from(body.into_inner()));
    let license_id = id.clone();
    let answer = staff
        .run(move |cx| offline_activation::activate(&cx.tenant, cx.now, &cx.actor, &id, &file))
        .await?;
    Ok(attachment("offline-response", &license_id, answer))
}

/// Records an offline deactivation
///
/// The body is the release proof the appliance wrote (`licd agent release`), signed by
/// the key recorded at its offline activation. The license is unbound (back to
/// `issued`, free to activate elsewhere), the activation ends `released`, and the final
/// user counts are recorded.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/offline-releases",
    operation_id = "offline_release_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = TransferBody,
    responses((status = 200, description = "The license, released", body = Released), ReleaseRefusals),
)]
pub async fn release(
    staff: AirGap,
    id: web::Path<String>,
    body: web::Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = (id.into_inner(), Transfer::from(body.into_inner()));
    let released = staff
        .run(move |cx| offline_activation::release(&cx.tenant, cx.now, &cx.actor, &id, &file))
        .await?;
    Ok(HttpResponse::Ok().json(released))
}

/// Makes a renewal or revocation bundle
///
/// A renewal (`licd-renewal+jwt`) carries the license key in force and the next lease
/// of the box holding the license offline; a revocation (`licd-revocation+jwt`) says
/// the license is revoked. Each takes the license's next `bundle_seq`, so the box never
/// lets an older bundle undo a newer one.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/bundles",
    operation_id = "make_license_bundle",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = BundleBody,
    responses((status = 200, description = "The bundle file (a download)", body = TransferBody), BundleRefusals),
)]
pub async fn bundle(
    staff: AirGap,
    id: web::Path<String>,
    body: web::Json<BundleBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = (id.into_inner(), body.into_inner().kind);
    let license_id = id.clone();
    let answer = staff
        .run(move |cx| offline_bundles::make(&cx.tenant, cx.now, &cx.actor, &id, kind))
        .await?;
    Ok(attachment(kind.as_str(), &license_id, answer))
}

/// Ingests a true-up usage report
///
/// The body is the report an air-gapped appliance wrote (`licd agent usage-report`),
/// signed by the key recorded at its offline activation. It is recorded once per
/// (license, appliance, `report_seq`): a replay is answered `duplicate` and records
/// nothing. Gaps and chain breaks are flagged; the reported peak is the installation's
/// usage and its stage is assessed from the daily peaks. The answer file holds the
/// acknowledgement (`licd-usage-ack+jwt`) and, when due, a renewal or revocation bundle.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/usage-reports",
    operation_id = "ingest_usage_report",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = TransferBody,
    responses((status = 200, description = "The acknowledgement file (a download)", body = TransferBody), ReportRefusals),
)]
pub async fn ingest(
    staff: AirGap,
    id: web::Path<String>,
    body: web::Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = (id.into_inner(), Transfer::from(body.into_inner()));
    let license_id = id.clone();
    let answer = staff
        .run(move |cx| usage_reports::ingest(&cx.tenant, cx.now, &cx.actor, &id, &file))
        .await?;
    Ok(attachment("usage-ack", &license_id, answer))
}

/// Lists a license's usage reports
///
/// Newest first (at most 200), with the gaps and chain breaks seen on arrival.
#[utoipa::path(
    get,
    path = "/api/v1/licenses/{id}/usage-reports",
    operation_id = "list_usage_reports",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    responses((status = 200, description = "The reports", body = Vec<UsageReportView>), ListRefusals),
)]
pub async fn list(staff: AirGap, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reports = staff
        .run(move |cx| usage_reports::list(&cx.tenant, &id))
        .await?;
    Ok(HttpResponse::Ok().json(reports))
}
