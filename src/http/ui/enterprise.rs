//! Enterprise > Licenses (settings.manage): this tenant's Install ID, install a license
//! key by pasting it, list and remove installed licenses, where the tenant stands.

use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::enterprise;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type EnterprisePage = Page<need::SettingsManage>;

const VIEW: View = View {
    template: "enterprise.html",
    nav: "/enterprise",
};

async fn view(page: &EnterprisePage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let overview = page
        .run(|cx| enterprise::overview(&cx.tenant, cx.now))
        .await?;
    page.render(VIEW, context! { overview => overview }, shown)
}

pub async fn show(
    page: EnterprisePage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

/// The form as typed (shown again after a refusal).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InstallForm {
    #[serde(default)]
    license_key: String,
}

pub async fn install(
    page: EnterprisePage,
    form: web::Form<InstallForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let key = form.license_key.clone();
    let result = page
        .run(move |cx| enterprise::install(&cx.app, &cx.tenant, cx.now, &cx.actor, &key))
        .await;
    submit(
        &page,
        "install-license",
        &form,
        result,
        |_| Done::to("/enterprise").notice(Notice::EnterpriseInstalled),
        |shown| view(&page, shown),
    )
    .await
}

pub async fn remove(page: EnterprisePage, id: web::Path<String>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run(move |cx| enterprise::remove(&cx.tenant, cx.now, &cx.actor, &id))
        .await;
    submit(
        &page,
        "enterprise-licenses",
        &(),
        result,
        |_| Done::to("/enterprise").notice(Notice::EnterpriseRemoved),
        |shown| view(&page, shown),
    )
    .await
}
