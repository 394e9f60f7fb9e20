//! Heartbeats (license.read): the latest heartbeats across the fleet and the directives
//! appliances have not acknowledged yet.

use crate::http::auth::{Page, need};
use crate::http::ui::form::{Shown, View};
use crate::http::ui::reject::UiReject;
use crate::service::licenses;
use actix_web::HttpResponse;
use minijinja::context;

/// Rows shown of each list.
const LIMIT: usize = 100;

const VIEW: View = View {
    template: "licensing_heartbeats.html",
    nav: "/licensing/heartbeats",
};

pub async fn show(page: Page<need::LicenseRead>) -> Result<HttpResponse, UiReject> {
    let overview = page
        .run(|cx| licenses::heartbeats_overview(&cx.tenant, LIMIT))
        .await?;
    let settings = page.tenant.settings();
    let ctx = context! {
        heartbeats => overview.heartbeats,
        pending => overview.pending_directives,
        names => overview.licenses,
        limit => LIMIT,
        interval_secs => settings.heartbeat_interval_secs,
        grace_days => settings.grace_days,
    };
    page.render(VIEW, ctx, Shown::default())
}
