//! Settings > TLS (license.read): the local CA's fingerprint and download, the served
//! certificate's names and expiry, and the appliance mTLS mode.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::tls;
use actix_web::HttpResponse;
use minijinja::context;

const VIEW: View = View {
    template: "settings_tls.html",
    nav: "/settings/tls",
};

pub async fn show(page: Page<need::LicenseRead>) -> Result<HttpResponse, UiReject> {
    let overview = tls::overview(&page.state.app);
    page.render(VIEW, context! { tls => overview }, Shown::default())
}
