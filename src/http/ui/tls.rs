//! Settings > TLS (license.read): the local CA's fingerprint and download, the served
//! certificate's names and expiry, and the appliance mTLS mode.

use super::render;
use crate::http::auth::{Page, need, state};
use crate::http::ui::reject::UiReject;
use crate::service::tls;
use actix_web::{HttpRequest, HttpResponse};
use minijinja::context;

pub async fn show(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let overview = tls::overview(&state.app);
    Ok(render(
        &state,
        &page,
        "settings_tls.html",
        "/settings/tls",
        context! { tls => overview },
    )?)
}
