//! Moving a license to another customer organization, or to none (orgs.manage), from
//! the license's page.

use super::detail::answer;
use super::new::organization_id;
use crate::http::auth::{Page, need};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::organization_admin;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct MoveForm {
    /// An organization's id; blank for none.
    #[serde(default)]
    organization_id: String,
}

pub async fn move_to(
    page: Page<need::OrgsManage>,
    id: web::Path<String>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, UiReject> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let to = organization_id(&form.organization_id);
    let license = id.clone();
    let result = page
        .run(move |cx| {
            organization_admin::move_license(&cx.tenant, cx.now, &cx.actor, &license, to?)
        })
        .await;
    answer(
        &page,
        id,
        "organization-form",
        &form,
        Notice::LicenseMoved,
        result,
    )
    .await
}
