//! Provisioning tokens (license.issue): create (the secret is shown once), list, revoke.

use super::{features, flags, whole};
use crate::error::ErrorCode;
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{PageQuery, form_error, render_status, see_other};
use crate::service::provisioning::{self, Template};
use crate::service::{ServiceError, refuse};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

type ProvisioningPage = Page<need::LicenseIssue>;

/// The form as typed (shown again after a refusal).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    internal_users: String,
    #[serde(default)]
    external_users: String,
    #[serde(default)]
    duration_days: String,
    #[serde(default)]
    features: String,
    #[serde(default)]
    trial: Option<String>,
    #[serde(default)]
    non_production: Option<String>,
    #[serde(default)]
    max_uses: String,
    /// Days until the token expires; blank for never.
    #[serde(default)]
    expires_in_days: String,
}

impl CreateForm {
    fn parse(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Template, i64, Option<DateTime<Utc>>), ServiceError> {
        let template = Template {
            organization: self.organization.trim().to_owned(),
            internal_users: whole("internal_users", &self.internal_users, Some(0))?,
            external_users: whole("external_users", &self.external_users, Some(0))?,
            duration_days: whole("duration_days", &self.duration_days, None)?,
            features: features(&self.features),
            flags: flags(self.trial.is_some(), self.non_production.is_some()),
        };
        let max_uses = whole("max_uses", &self.max_uses, None)?;
        let expires_at = match self.expires_in_days.trim() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(d) if (1..=3650).contains(&d) => Some(now + Duration::days(d)),
                _ => {
                    return Err(refuse(
                        ErrorCode::ValidationFailed,
                        "expires_in_days: a whole number of days from 1 to 3650, or empty",
                    ));
                }
            },
        };
        Ok((template, i64::from(max_uses), expires_at))
    }
}

async fn render_provisioning(
    state: &AppState,
    page: &ProvisioningPage,
    form: &CreateForm,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let (tenant, now) = (page.tenant.clone(), state.now());
    let list = blocking(move || provisioning::list(&tenant, now)).await?;
    let ctx = context! { tokens => list, form => form, ..extra };
    Ok(render_status(
        state,
        page,
        "licensing_provisioning.html",
        "/licensing/provisioning",
        ctx,
        notice,
        status,
    )?)
}

/// The form's starting values.
fn blank_form() -> CreateForm {
    CreateForm {
        internal_users: "1".into(),
        external_users: "0".into(),
        duration_days: "365".into(),
        max_uses: "1".into(),
        ..Default::default()
    }
}

pub async fn show(
    req: HttpRequest,
    page: ProvisioningPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_provisioning(
        &state,
        &page,
        &blank_form(),
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    page: ProvisioningPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let form = form.into_inner();
    let parsed = form.parse(now);
    let name = form.name.clone();
    let result = blocking(move || {
        let (template, max_uses, expires_at) = parsed?;
        provisioning::create(
            &caller.tenant,
            now,
            &caller.principal.actor(),
            &name,
            template,
            max_uses,
            expires_at,
        )
    })
    .await;
    match result {
        Ok(created) => {
            let extra = context! { created => created };
            render_provisioning(
                &state,
                &page,
                &blank_form(),
                extra,
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            let extra = context! { error => message };
            render_provisioning(&state, &page, &form, extra, None, status).await
        }
    }
}

pub async fn revoke(
    req: HttpRequest,
    page: ProvisioningPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, id) = (page.caller.clone(), state.now(), id.into_inner());
    let result =
        blocking(move || provisioning::revoke(&caller.tenant, now, &caller.principal.actor(), id))
            .await;
    match result {
        Ok(_) => Ok(see_other(
            "/licensing/provisioning?notice=provisioning_revoked",
        )),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            let extra = context! { error => message };
            render_provisioning(&state, &page, &blank_form(), extra, None, status).await
        }
    }
}
