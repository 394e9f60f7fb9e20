//! Licensing settings (settings.manage): grace window, heartbeat interval, sweep
//! interval, heartbeat retention, violation stages, offline (air-gapped) lease and
//! response windows. A change that shortens a window (appliances lock
//! sooner, violations escalate sooner, history goes sooner) is confirmed first.

use crate::http::ui::confirm::{Confirm, is_confirmed};

use super::whole;
use crate::domain::settings::LicensingSettings;
use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::{ServiceError, licensing_settings};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type SettingsPage = Page<need::SettingsManage>;

const VIEW: View = View {
    template: "licensing_settings.html",
    nav: "/licensing/settings",
};

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
    #[serde(default)]
    offline_lease_days: String,
    #[serde(default)]
    offline_response_days: String,
    #[serde(default)]
    confirmed: String,
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
            offline_lease_days: s.offline_lease_days.to_string(),
            offline_response_days: s.offline_response_days.to_string(),
            confirmed: String::new(),
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
            offline_lease_days: whole("offline_lease_days", &self.offline_lease_days, None)?,
            offline_response_days: whole(
                "offline_response_days",
                &self.offline_response_days,
                None,
            )?,
        })
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The form, filled with the settings in force (or with what was typed before a refusal).
fn view(page: &SettingsPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let ctx = context! {
        form => SettingsForm::from(page.tenant.settings()),
        defaults => LicensingSettings::default(),
    };
    page.render(VIEW, ctx, shown)
}

pub async fn show(page: SettingsPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q))
}

pub async fn save(
    page: SettingsPage,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let new = form.settings();
    if !is_confirmed(&form.confirmed)
        && let Ok(new) = &new
        && new.validate().is_ok()
    {
        let shortened = page.tenant.settings().shortened(new);
        if !shortened.is_empty() {
            let c = Confirm {
                title: "Shorten licensing windows?".to_owned(),
                what: "Every appliance and installation of this tenant is held to the shorter windows at once.".to_owned(),
                consequences: shortened
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {} days instead of {} ({}).",
                            capitalized(s.what),
                            s.to_days,
                            s.from_days,
                            s.field
                        )
                    })
                    .collect(),
                yes: "Yes, shorten them".to_owned(),
                action: "/licensing/settings".to_owned(),
                cancel: "/licensing/settings".to_owned(),
            };
            return c.ask(&page, VIEW.nav, &form);
        }
    }
    let result = page
        .run(move |cx| licensing_settings::update(&cx.tenant, cx.now, &cx.actor, new?))
        .await;
    submit(
        &page,
        "licensing-settings",
        &form,
        result,
        |_| Done::to("/licensing/settings").notice(Notice::SettingsSaved),
        |shown| async { view(&page, shown) },
    )
    .await
}
