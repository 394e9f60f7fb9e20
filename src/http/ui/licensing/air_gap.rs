//! The license page's "Air-gapped appliance" forms (license.revoke): upload what an
//! air-gapped appliance wrote (a request, a release proof or a usage report) and get
//! the answer file as a download, or make a renewal or revocation bundle. A refusal
//! shows the page again with the message and what was pasted.

use super::detail::answer;
use crate::http::auth::{Page, need};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::air_gap::{self, Uploaded};
use crate::service::offline_bundles;
use crate::service::transfer_files;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use licd_client::formats::Transfer;
use serde::{Deserialize, Serialize};

type ActPage = Page<need::LicenseRevoke>;

/// The pasted (or chosen, with JavaScript) file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UploadForm {
    #[serde(default)]
    file: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BundleForm {
    #[serde(default)]
    kind: String,
}

/// An answer file as a download.
fn download(kind: &str, license_id: &str, file: &Transfer) -> HttpResponse {
    let name = transfer_files::file_name(kind, license_id);
    let body = serde_json::to_string_pretty(file).unwrap_or_default();
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub async fn upload(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<UploadForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (target, text) = (id.clone(), form.file.clone());
    let result = page
        .run(move |cx| air_gap::upload(&cx.tenant, cx.now, &cx.actor, &target, &text))
        .await;
    match result {
        Ok(Uploaded::Answer(kind, file)) => Ok(download(kind, &id, &file)),
        Ok(Uploaded::Released(_)) => {
            answer(
                &page,
                id,
                "air-gap-upload-form",
                &form,
                Notice::OfflineReleased,
                Ok(()),
            )
            .await
        }
        Err(e) => {
            answer::<()>(
                &page,
                id,
                "air-gap-upload-form",
                &form,
                Notice::OfflineReleased,
                Err(e),
            )
            .await
        }
    }
}

pub async fn bundle(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<BundleForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (target, kind) = (id.clone(), form.kind.clone());
    let result = page
        .run(move |cx| {
            let kind: offline_bundles::BundleKind = kind.parse()?;
            offline_bundles::make(&cx.tenant, cx.now, &cx.actor, &target, kind)
                .map(|file| (kind, file))
        })
        .await;
    match result {
        Ok((kind, file)) => Ok(download(kind.as_str(), &id, &file)),
        Err(e) => {
            answer::<()>(
                &page,
                id,
                "bundle-form",
                &form,
                Notice::OfflineReleased,
                Err(e),
            )
            .await
        }
    }
}
