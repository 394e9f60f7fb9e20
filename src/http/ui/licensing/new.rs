//! Issuing a license (license.issue): a form, then the new license's page.

use super::{date, features, flags, whole};
use crate::domain::license::LicenseRequest;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::{ServiceError, licenses, organization_admin, refuse};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

type IssuePage = Page<need::LicenseIssue>;

const VIEW: View = View {
    template: "licensing_new.html",
    nav: "/licensing",
};

/// The form as typed (also what the page shows again after a refusal).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IssueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    install_id: String,
    #[serde(default)]
    organization: String,
    /// An organization's id, or blank for none.
    #[serde(default)]
    organization_id: String,
    #[serde(default)]
    internal_users: String,
    #[serde(default)]
    external_users: String,
    /// Comma-separated.
    #[serde(default)]
    features: String,
    #[serde(default)]
    trial: Option<String>,
    #[serde(default)]
    non_production: Option<String>,
    /// `YYYY-MM-DD`; blank for now.
    #[serde(default)]
    not_before: String,
    /// `YYYY-MM-DD`; the license runs to the end of that day (UTC).
    #[serde(default)]
    expires: String,
}

impl IssueForm {
    fn request(&self) -> Result<LicenseRequest, ServiceError> {
        Ok(LicenseRequest {
            name: self.name.clone(),
            install_id: self.install_id.clone(),
            organization: self.organization.clone(),
            organization_id: organization_id(&self.organization_id)?,
            internal_users: whole("internal_users", &self.internal_users, Some(0))?,
            external_users: whole("external_users", &self.external_users, Some(0))?,
            features: features(&self.features),
            flags: flags(self.trial.is_some(), self.non_production.is_some()),
            not_before: date("not_before", &self.not_before, false)?,
            expires_at: date("expires", &self.expires, true)?.ok_or_else(|| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "expires: give the last day the license runs (YYYY-MM-DD)",
                )
            })?,
        })
    }
}

/// An organization chosen in a select: its id, or `None` for blank.
pub fn organization_id(s: &str) -> Result<Option<i64>, ServiceError> {
    match s.trim() {
        "" => Ok(None),
        id => id.parse().map(Some).map_err(|_| {
            refuse(
                ErrorCode::ValidationFailed,
                "organization_id: choose an organization from the list",
            )
        }),
    }
}

/// A year from now, as the suggested expiry.
fn default_expiry(now: DateTime<Utc>) -> String {
    (now + Duration::days(365)).format("%Y-%m-%d").to_string()
}

/// The form (its starting values, or what was typed before a refusal), with the
/// organizations to choose from.
async fn view(page: &IssuePage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let blank = IssueForm {
        internal_users: "1".into(),
        external_users: "0".into(),
        expires: default_expiry(page.now),
        ..Default::default()
    };
    let organizations = page
        .run(|cx| organization_admin::choices(&cx.tenant))
        .await?;
    let ctx = context! { form => blank, organizations => organizations };
    page.render(VIEW, ctx, shown)
}

pub async fn show(page: IssuePage) -> Result<HttpResponse, UiReject> {
    view(&page, Shown::default()).await
}

pub async fn create(page: IssuePage, form: web::Form<IssueForm>) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let request = form.request();
    let result = page
        .run(move |cx| licenses::issue(&cx.app, &cx.tenant, cx.now, &cx.actor, &request?))
        .await;
    submit(
        &page,
        "license-form",
        &form,
        result,
        |license| {
            Done::to(format!("/licensing/licenses/{}", license.id)).notice(Notice::LicenseIssued)
        },
        |shown| view(&page, shown),
    )
    .await
}
