//! Installations (license.read): usage against capacity, stage, expiry; detail with the
//! licenses that cover it and its timeline.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::installations;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

const LIST: View = View {
    template: "installations.html",
    nav: "/installations",
};

const DETAIL: View = View {
    template: "installation_detail.html",
    nav: "/installations",
};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

pub async fn list(
    page: Page<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiReject> {
    let cursor = q.into_inner().cursor;
    let result = page
        .run(move |cx| installations::list(&cx.tenant, cx.now, cursor.as_deref(), 50))
        .await?;
    let next = result.next_cursor.as_ref().map(|c| {
        format!(
            "/installations?{}",
            serde_urlencoded::to_string([("cursor", c.as_str())]).unwrap_or_default()
        )
    });
    let ctx = context! { items => result.items, next => next };
    page.render(LIST, ctx, Shown::default())
}

pub async fn detail(
    page: Page<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let d = page
        .run(move |cx| installations::detail(&cx.tenant, cx.now, &id))
        .await?;
    page.render(DETAIL, context! { d => d }, Shown::default())
}
