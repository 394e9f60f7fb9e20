//! Heartbeats (license.read): the latest heartbeats across the fleet and the directives
//! appliances have not acknowledged yet.

use crate::http::auth::{Page, need, state};
use crate::http::state::blocking;
use crate::http::ui::reject::UiReject;
use crate::http::ui::render;
use crate::service::licenses;
use actix_web::{HttpRequest, HttpResponse};
use minijinja::context;

/// Rows shown of each list.
const LIMIT: usize = 100;

pub async fn show(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let tenant = page.tenant.clone();
    let overview = blocking(move || licenses::heartbeats_overview(&tenant, LIMIT)).await?;
    let settings = page.tenant.settings();
    let ctx = context! {
        heartbeats => overview.heartbeats,
        pending => overview.pending_directives,
        limit => LIMIT,
        interval_secs => settings.heartbeat_interval_secs,
        grace_days => settings.grace_days,
    };
    Ok(render(
        &state,
        &page,
        "licensing_heartbeats.html",
        "/licensing/heartbeats",
        ctx,
    )?)
}
