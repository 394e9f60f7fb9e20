//! Customers > Organizations (orgs.manage): the list with a search by name or
//! notification email (member and license counts, a badge for a deletion request), an
//! organization's page (members with role, pending invitations with who invited and
//! expiry, licenses with state and expiry, the deletion request), and deleting one after
//! a confirmation (refused while it has valid licenses).

use crate::http::auth::{Page, need};
use crate::http::ui::confirm::{Confirm, is_confirmed};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::{self, Notice};
use crate::http::ui::reject::UiReject;
use crate::service::organization_admin;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type OrgsPage = Page<need::OrgsManage>;

const LIST: View = View {
    template: "customers_organizations.html",
    nav: "/customers/organizations",
};

const DETAIL: View = View {
    template: "customers_organizations_detail.html",
    nav: "/customers/organizations",
};

/// Organizations a list shows.
const LIST_LIMIT: i64 = 100;

/// The list's query: the search, and what a redirect asks the page to show.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, deserialize_with = "notice::lenient")]
    notice: Option<Notice>,
    shown: Option<String>,
}

pub async fn list(page: OrgsPage, q: web::Query<ListQuery>) -> Result<HttpResponse, UiReject> {
    let q = q.into_inner();
    let shown = page.shown(&PageQuery {
        notice: q.notice,
        shown: q.shown,
    });
    let search = q.q.clone();
    let items = page
        .run(move |cx| organization_admin::search(&cx.tenant, &search, LIST_LIMIT))
        .await?;
    let ctx = context! {
        items => items,
        q => q.q.trim(),
        limit => LIST_LIMIT,
    };
    page.render(LIST, ctx, shown)
}

async fn detail_view(page: &OrgsPage, id: i64, shown: Shown) -> Result<HttpResponse, UiReject> {
    let org = page
        .run(move |cx| organization_admin::detail(&cx.tenant, cx.now, id))
        .await?;
    let ctx = context! { o => org, license_limit => organization_admin::LICENSES_MAX };
    page.render(DETAIL, ctx, shown)
}

pub async fn detail(
    page: OrgsPage,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    detail_view(&page, id.into_inner(), shown).await
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirmed: String,
}

/// Deletes the organization once confirmed; a refusal (valid licenses) shows its page
/// again with the reason.
pub async fn delete(
    page: OrgsPage,
    id: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    if !is_confirmed(&form.confirmed) {
        let o = page
            .run(move |cx| organization_admin::detail(&cx.tenant, cx.now, id))
            .await?;
        let mut consequences = vec![
            format!(
                "Its {} membership(s) and {} pending invitation(s) go with it; its members keep their customer accounts.",
                o.members.len(),
                o.invitations.len()
            ),
            format!(
                "Its {} license(s) are kept and belong to no organization afterwards.",
                o.licenses.len()
            ),
            "It cannot be undone; the audit log records who deleted it.".to_owned(),
        ];
        if o.valid_licenses > 0 {
            consequences.insert(
                0,
                format!(
                    "It still has {} valid license(s): deleting it is refused until they are revoked or moved to another organization.",
                    o.valid_licenses
                ),
            );
        }
        let c = Confirm {
            title: format!("Delete the organization {}?", o.organization.name),
            what: format!(
                "{} ({}) is deleted.",
                o.organization.name, o.organization.notification_email
            ),
            consequences,
            yes: "Yes, delete it".to_owned(),
            action: format!("/customers/organizations/{id}/delete"),
            cancel: format!("/customers/organizations/{id}"),
        };
        return c.ask(&page, "/customers/organizations", &form.into_inner());
    }
    let result = page
        .run(move |cx| organization_admin::delete(&cx.tenant, cx.now, &cx.actor, id))
        .await;
    submit(
        &page,
        "delete-organization",
        &form.into_inner(),
        result,
        |_| Done::to("/customers/organizations").notice(Notice::OrganizationDeleted),
        |shown| detail_view(&page, id, shown),
    )
    .await
}
