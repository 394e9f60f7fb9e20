//! New keys for a license from its page (license.issue): renew, change, reissue; and
//! "reissue them all" from the signing-keys page. Each redirects back with a notice, or
//! shows the page again with the refusal and what was typed.

use super::{date, detail::answer, features, whole};
use crate::domain::license::Amendment;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::{Result, license_keys, refuse};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

type IssuePage = Page<need::LicenseIssue>;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RenewForm {
    /// `YYYY-MM-DD`: the license runs to the end of that day (UTC).
    #[serde(default)]
    expires_on: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChangeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    internal_users: String,
    #[serde(default)]
    external_users: String,
    /// Comma-separated.
    #[serde(default)]
    features: String,
}

impl ChangeForm {
    /// Every field is sent (the form is filled with the current values); the service
    /// refuses a change that changes nothing.
    fn amendment(&self) -> Result<Amendment> {
        Ok(Amendment {
            name: Some(self.name.clone()),
            internal_users: Some(whole("internal_users", &self.internal_users, None)?),
            external_users: Some(whole("external_users", &self.external_users, None)?),
            features: Some(features(&self.features)),
            expires_at: None,
        })
    }
}

pub async fn renew(
    page: IssuePage,
    id: web::Path<String>,
    form: web::Form<RenewForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (target, typed) = (id.clone(), form.clone());
    let result = page
        .run(move |cx| {
            let expires_at = date("expires_on", &form.expires_on, true)?.ok_or_else(|| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "expires_on: give the new last day (YYYY-MM-DD)",
                )
            })?;
            license_keys::renew(&cx.tenant, cx.now, &cx.actor, &target, expires_at)
        })
        .await;
    answer(
        &page,
        id,
        "renew-form",
        &typed,
        Notice::LicenseRenewed,
        result,
    )
    .await
}

pub async fn change(
    page: IssuePage,
    id: web::Path<String>,
    form: web::Form<ChangeForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (target, typed) = (id.clone(), form.clone());
    let result = page
        .run(move |cx| {
            license_keys::change(&cx.tenant, cx.now, &cx.actor, &target, &form.amendment()?)
        })
        .await;
    answer(
        &page,
        id,
        "change-form",
        &typed,
        Notice::LicenseChanged,
        result,
    )
    .await
}

pub async fn reissue(
    page: IssuePage,
    id: web::Path<String>,
) -> std::result::Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let target = id.clone();
    let result = page
        .run(move |cx| license_keys::reissue(&cx.tenant, cx.now, &cx.actor, &target))
        .await;
    answer(
        &page,
        id,
        "reissue-form",
        &(),
        Notice::LicenseReissued,
        result,
    )
    .await
}
