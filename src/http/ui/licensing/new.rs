//! Issuing a license (license.issue): a form, then the new license's page.

use super::{date, features, flags, whole};
use crate::domain::license::LicenseRequest;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{form_error, render_status, see_other};
use crate::service::{ServiceError, licenses, refuse};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

type IssuePage = Page<need::LicenseIssue>;

/// The form as typed (also what the page shows again after a refusal).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct IssueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    install_id: String,
    #[serde(default)]
    organization: String,
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

fn render_form(
    state: &AppState,
    page: &IssuePage,
    form: &IssueForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let ctx = context! { form => form, error => error };
    Ok(render_status(
        state,
        page,
        "licensing_new.html",
        "/licensing",
        ctx,
        None,
        status,
    )?)
}

/// A year from now, as the suggested expiry.
fn default_expiry(now: DateTime<Utc>) -> String {
    (now + Duration::days(365)).format("%Y-%m-%d").to_string()
}

pub async fn show(req: HttpRequest, page: IssuePage) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let form = IssueForm {
        internal_users: "1".into(),
        external_users: "0".into(),
        expires: default_expiry(state.now()),
        ..Default::default()
    };
    render_form(&state, &page, &form, None, StatusCode::OK)
}

pub async fn create(
    req: HttpRequest,
    page: IssuePage,
    form: web::Form<IssueForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let form = form.into_inner();
    let request = form.request();
    let result = blocking(move || {
        licenses::issue(&caller.tenant, now, &caller.principal.actor(), &request?)
    })
    .await;
    match result {
        Ok(license) => Ok(see_other(&format!(
            "/licensing/licenses/{}?notice=license_issued",
            license.id
        ))),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_form(&state, &page, &form, Some(message), status)
        }
    }
}
