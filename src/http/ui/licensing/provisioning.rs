//! Provisioning tokens (license.issue): create (the secret is shown once), list, revoke.

use super::{features, flags, whole};
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::provisioning::{self, Template};
use crate::service::{ServiceError, refuse};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

type ProvisioningPage = Page<need::LicenseIssue>;

const VIEW: View = View {
    template: "licensing_provisioning.html",
    nav: "/licensing/provisioning",
};

/// The form as typed (shown again after a refusal).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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
            organization_id: None,
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

async fn view(page: &ProvisioningPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let list = page
        .run(|cx| provisioning::list(&cx.tenant, cx.now))
        .await?;
    let ctx = context! { tokens => list, form => blank_form() };
    page.render(VIEW, ctx, shown)
}

pub async fn show(
    page: ProvisioningPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

pub async fn create(
    page: ProvisioningPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let parsed = form.parse(page.now);
    let name = form.name.clone();
    let result = page
        .run(move |cx| {
            let (template, max_uses, expires_at) = parsed?;
            provisioning::create(
                &cx.tenant, cx.now, &cx.actor, &name, template, max_uses, expires_at,
            )
        })
        .await;
    submit(
        &page,
        "create-provisioning",
        &form,
        result,
        |created| {
            Done::to("/licensing/provisioning")
                .notice(Notice::ProvisioningCreated)
                .show_once("created", &created)
        },
        |shown| view(&page, shown),
    )
    .await
}

pub async fn revoke(page: ProvisioningPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run(move |cx| provisioning::revoke(&cx.tenant, cx.now, &cx.actor, id))
        .await;
    submit(
        &page,
        "provisioning-tokens",
        &(),
        result,
        |_| Done::to("/licensing/provisioning").notice(Notice::ProvisioningRevoked),
        |shown| view(&page, shown),
    )
    .await
}
