//! The license page's air gap: one upload that takes whatever an air-gapped appliance
//! wrote (a request, a release proof or a usage report: the token's `typ` says which)
//! and what the page shows of the box, its bundles and its reports.

use super::licenses::load;
use super::offline_activation::{self, Released};
use super::tenant::Tenant;
use super::transfer_files::{self, what};
use super::usage_reports::{self, UsageReportView};
use super::{Actor, Result, refuse};
use crate::error::ErrorCode;
use crate::pki::jws;
use crate::store::license_bundles::{self, BundleRow};
use crate::store::offline_activations::{self, OfflineActivationRow};
use crate::store::usage_reports as report_store;
use chrono::{DateTime, Utc};
use licd_client::formats::{OFFLINE_REQUEST_TYP, RELEASE_TYP, Transfer, USAGE_REPORT_TYP};
use serde::Serialize;

/// What an upload came to.
#[derive(Debug)]
pub enum Uploaded {
    /// A file to hand back to the appliance (an offline response, a usage report's
    /// acknowledgement), with its kind.
    Answer(&'static str, Transfer),
    /// A release proof was recorded.
    Released(Box<Released>),
}

/// Handles an uploaded file by the kind of its first token.
pub fn upload(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license_id: &str,
    text: &str,
) -> Result<Uploaded> {
    let file = transfer_files::parse(text)?;
    let typ = file
        .tokens
        .first()
        .and_then(|t| jws::parse(t).ok())
        .map(|p| p.header.typ)
        .unwrap_or_default();
    match typ.as_str() {
        OFFLINE_REQUEST_TYP => Ok(Uploaded::Answer(
            "offline-response",
            offline_activation::activate(tenant, now, actor, license_id, &file)?,
        )),
        RELEASE_TYP => Ok(Uploaded::Released(Box::new(offline_activation::release(
            tenant, now, actor, license_id, &file,
        )?))),
        USAGE_REPORT_TYP => Ok(Uploaded::Answer(
            "usage-ack",
            usage_reports::ingest(tenant, now, actor, license_id, &file)?,
        )),
        _ => Err(refuse(
            ErrorCode::TransferInvalid,
            format!(
                "{} cannot be uploaded here: upload an offline request, a release proof or a usage report",
                what(&typ)
            ),
        )),
    }
}

/// A box activated from a request file, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineBoxView {
    pub fingerprint: String,
    pub appliance_kid: String,
    pub activated_at: DateTime<Utc>,
    pub response_deadline: DateTime<Utc>,
    pub lease_expires_at: DateTime<Utc>,
    pub current: bool,
    pub released_at: Option<DateTime<Utc>>,
    pub final_internal_users: Option<u32>,
    pub final_external_users: Option<u32>,
}

impl From<OfflineActivationRow> for OfflineBoxView {
    fn from(o: OfflineActivationRow) -> Self {
        OfflineBoxView {
            fingerprint: o.fingerprint,
            appliance_kid: o.appliance_kid,
            activated_at: o.created_at,
            response_deadline: o.response_deadline,
            lease_expires_at: o.lease_expires_at,
            current: o.current,
            released_at: o.released_at,
            final_internal_users: o.final_usage.map(|u| u.0),
            final_external_users: o.final_usage.map(|u| u.1),
        }
    }
}

/// A bundle, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BundleView {
    pub bundle_seq: i64,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl From<BundleRow> for BundleView {
    fn from(b: BundleRow) -> Self {
        BundleView {
            bundle_seq: b.bundle_seq,
            kind: b.kind,
            created_at: b.created_at,
            created_by: b.created_by,
        }
    }
}

/// The air gap of one license: its offline boxes, bundles and usage reports.
#[derive(Debug, Clone, Serialize)]
pub struct AirGapView {
    pub boxes: Vec<OfflineBoxView>,
    pub bundles: Vec<BundleView>,
    pub reports: Vec<UsageReportView>,
}

pub fn overview(tenant: &Tenant, license_id: &str) -> Result<AirGapView> {
    tenant.db.read(|tx| {
        load(tx, license_id)?;
        Ok(AirGapView {
            boxes: offline_activations::for_license(tx, license_id)?
                .into_iter()
                .map(OfflineBoxView::from)
                .collect(),
            bundles: license_bundles::for_license(tx, license_id)?
                .into_iter()
                .map(BundleView::from)
                .collect(),
            reports: report_store::for_license(tx, license_id, 50)?
                .into_iter()
                .map(UsageReportView::from)
                .collect(),
        })
    })
}
