//! Installations (license.read): usage against capacity, stage, expiry; detail with the
//! licenses that cover it and its timeline.

use super::render;
use crate::http::auth::{Page, need, state};
use crate::http::state::blocking;
use crate::http::ui::reject::UiReject;
use crate::service::installations;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

pub async fn list(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (tenant, now, cursor) = (page.tenant.clone(), state.now(), q.into_inner().cursor);
    let result = blocking(move || installations::list(&tenant, now, cursor.as_deref(), 50)).await?;
    let next = result.next_cursor.as_ref().map(|c| {
        format!(
            "/installations?{}",
            serde_urlencoded::to_string([("cursor", c.as_str())]).unwrap_or_default()
        )
    });
    let ctx = context! { items => result.items, next => next };
    Ok(render(
        &state,
        &page,
        "installations.html",
        "/installations",
        ctx,
    )?)
}

pub async fn detail(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (tenant, now, id) = (page.tenant.clone(), state.now(), id.into_inner());
    let d = blocking(move || installations::detail(&tenant, now, &id)).await?;
    Ok(render(
        &state,
        &page,
        "installation_detail.html",
        "/installations",
        context! { d => d },
    )?)
}
