//! One license (license.read): its key, state, binding, subscription, history,
//! activations, heartbeats, directives and air gap (offline boxes, bundles, usage
//! reports), and the staff actions the visitor may use (their forms are in `actions`,
//! `keys`, `air_gap`).

use crate::domain::lifecycle::LicenseState;
use crate::domain::permissions::Permission;
use crate::http::auth::{Caller, Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::license_actions::DIRECTIVE_KINDS;
use crate::service::{self, air_gap, licenses, organization_admin};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;

/// Subscription statuses staff may set from the page.
const SUBSCRIPTION_STATUSES: &[&str] = &["active", "past_due", "canceled"];

const VIEW: View = View {
    template: "licensing_detail.html",
    nav: "/licensing",
};

/// A license's page; a missing license is the 404 page.
pub async fn view(caller: &Caller, id: String, shown: Shown) -> Result<HttpResponse, UiReject> {
    let can_orgs = caller.principal.can(Permission::OrgsManage);
    let (detail, organization, organizations, air_gap) = caller
        .run(move |cx| {
            let detail = licenses::detail(&cx.tenant, cx.now, &id)?;
            let air_gap = air_gap::overview(&cx.tenant, &id)?;
            let organization = match detail.license.organization_id {
                Some(org) => organization_admin::name_of(&cx.tenant, org)?,
                None => None,
            };
            let choices = if can_orgs {
                organization_admin::choices(&cx.tenant)?
            } else {
                Vec::new()
            };
            Ok((detail, organization, choices, air_gap))
        })
        .await?;
    let live = !detail.license.state.is_final();
    let suspended = detail.license.state == LicenseState::Suspended;
    let can_act = caller.principal.can(Permission::LicenseRevoke);
    let can_issue = caller.principal.can(Permission::LicenseIssue);
    let ctx = context! {
        l => detail,
        organization => organization,
        organizations => organizations,
        can_orgs => can_orgs,
        can_act => can_act,
        can_issue => can_issue,
        live => live,
        suspended => suspended,
        subscription_statuses => SUBSCRIPTION_STATUSES,
        directive_kinds => DIRECTIVE_KINDS,
        air_gap => air_gap,
        bundle_kinds => ["renewal", "revocation"],
    };
    caller.render(VIEW, ctx, shown)
}

pub async fn show(
    page: Page<need::LicenseRead>,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    view(&page, id.into_inner(), page.shown(&q)).await
}

/// The answer to a form on license `id`'s page (its HTML id `form`): on success back to
/// the page with `notice`, else the page again with the refusal and what was typed.
pub async fn answer<T>(
    caller: &Caller,
    id: String,
    form: &'static str,
    typed: &impl Serialize,
    notice: Notice,
    result: service::Result<T>,
) -> Result<HttpResponse, UiReject> {
    // Only an existing license (a UUID) gets to `Done`, so the id is safe in a URL.
    let to = format!("/licensing/licenses/{id}");
    submit(
        caller,
        form,
        typed,
        result,
        |_| Done::to(to).notice(notice),
        |shown| view(caller, id, shown),
    )
    .await
}
