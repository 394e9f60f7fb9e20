//! Licensing settings (settings.manage): grace window, heartbeat interval, sweep
//! interval, heartbeat retention.

use super::whole;
use crate::domain::settings::LicensingSettings;
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{PageQuery, form_error, render_status, see_other};
use crate::service::{ServiceError, licensing_settings};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type SettingsPage = Page<need::SettingsManage>;

/// The form as typed (shown again after a refusal).
#[derive(Debug, Deserialize, Serialize)]
pub struct SettingsForm {
    #[serde(default)]
    grace_days: String,
    #[serde(default)]
    heartbeat_interval_secs: String,
    #[serde(default)]
    sweep_interval_secs: String,
    #[serde(default)]
    heartbeat_retention_days: String,
    #[serde(default)]
    admin_warning_days: String,
    #[serde(default)]
    users_warning_days: String,
    #[serde(default)]
    read_only_days: String,
    #[serde(default)]
    expiry_warning_days: String,
}

impl From<LicensingSettings> for SettingsForm {
    fn from(s: LicensingSettings) -> Self {
        SettingsForm {
            grace_days: s.grace_days.to_string(),
            heartbeat_interval_secs: s.heartbeat_interval_secs.to_string(),
            sweep_interval_secs: s.sweep_interval_secs.to_string(),
            heartbeat_retention_days: s.heartbeat_retention_days.to_string(),
            admin_warning_days: s.admin_warning_days.to_string(),
            users_warning_days: s.users_warning_days.to_string(),
            read_only_days: s.read_only_days.to_string(),
            expiry_warning_days: s.expiry_warning_days.to_string(),
        }
    }
}

impl SettingsForm {
    fn settings(&self) -> Result<LicensingSettings, ServiceError> {
        Ok(LicensingSettings {
            grace_days: whole("grace_days", &self.grace_days, None)?,
            heartbeat_interval_secs: whole(
                "heartbeat_interval_secs",
                &self.heartbeat_interval_secs,
                None,
            )?,
            sweep_interval_secs: whole("sweep_interval_secs", &self.sweep_interval_secs, None)?,
            heartbeat_retention_days: whole(
                "heartbeat_retention_days",
                &self.heartbeat_retention_days,
                None,
            )?,
            admin_warning_days: whole("admin_warning_days", &self.admin_warning_days, None)?,
            users_warning_days: whole("users_warning_days", &self.users_warning_days, None)?,
            read_only_days: whole("read_only_days", &self.read_only_days, None)?,
            expiry_warning_days: whole("expiry_warning_days", &self.expiry_warning_days, None)?,
        })
    }
}

fn render_settings(
    state: &AppState,
    page: &SettingsPage,
    form: &SettingsForm,
    error: Option<String>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let ctx = context! {
        form => form,
        error => error,
        defaults => LicensingSettings::default(),
    };
    Ok(render_status(
        state,
        page,
        "licensing_settings.html",
        "/licensing/settings",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: SettingsPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let form = SettingsForm::from(page.tenant.settings());
    render_settings(
        &state,
        &page,
        &form,
        None,
        q.notice.as_deref(),
        StatusCode::OK,
    )
}

pub async fn save(
    req: HttpRequest,
    page: SettingsPage,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let form = form.into_inner();
    let new = form.settings();
    let result = blocking(move || {
        licensing_settings::update(&caller.tenant, now, &caller.principal.actor(), new?)
    })
    .await;
    match result {
        Ok(_) => Ok(see_other("/licensing/settings?notice=settings_saved")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_settings(&state, &page, &form, Some(message), None, status)
        }
    }
}
