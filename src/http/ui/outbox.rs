//! Administration > Outbox (settings.manage): the tenant's outgoing email, newest
//! first, with state, recipient, subject, attempts and last error; a message's page
//! shows its text body (so that its links can be handed over by other means when no
//! SMTP server is configured) and marks it sent, after a confirmation (audited).

use super::confirm::{Confirm, is_confirmed};
use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::outbox;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type OutboxPage = Page<need::SettingsManage>;

const LIST: View = View {
    template: "outbox.html",
    nav: "/outbox",
};

const DETAIL: View = View {
    template: "outbox_detail.html",
    nav: "/outbox",
};

pub async fn list(page: OutboxPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    let messages = page.run(|cx| outbox::list(&cx.tenant)).await?;
    let smtp = page.state.app.mailer.as_ref().map(|m| m.server.clone());
    let ctx = context! { messages => messages, smtp => smtp, limit => outbox::LIST_LIMIT };
    page.render(LIST, ctx, page.shown(&q))
}

async fn detail_view(page: &OutboxPage, id: i64, shown: Shown) -> Result<HttpResponse, UiReject> {
    let message = page.run(move |cx| outbox::show(&cx.tenant, id)).await?;
    let smtp = page.state.app.mailer.is_some();
    page.render(DETAIL, context! { message => message, smtp => smtp }, shown)
}

pub async fn detail(
    page: OutboxPage,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    detail_view(&page, id.into_inner(), shown).await
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct MarkSentForm {
    #[serde(default)]
    confirmed: String,
}

pub async fn mark_sent(
    page: OutboxPage,
    id: web::Path<i64>,
    form: web::Form<MarkSentForm>,
) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    if !is_confirmed(&form.confirmed) {
        let m = page.run(move |cx| outbox::show(&cx.tenant, id)).await?;
        let c = Confirm {
            title: format!("Mark message {id} to {} as sent?", m.to_address),
            what: format!(
                "“{}” to {} is recorded as delivered.",
                m.subject, m.to_address
            ),
            consequences: vec![
                "licd never sends it after this; hand its contents over yourself.".to_owned(),
                "The audit log records who marked it.".to_owned(),
            ],
            yes: "Yes, mark it sent".to_owned(),
            action: format!("/outbox/{id}/mark-sent"),
            cancel: format!("/outbox/{id}"),
        };
        return c.ask(&page, "/outbox", &form.into_inner());
    }
    let result = page
        .run(move |cx| outbox::mark_sent(&cx.tenant, cx.now, &cx.actor, id))
        .await;
    submit(
        &page,
        "mark-sent",
        &form.into_inner(),
        result,
        |_| Done::to(format!("/outbox/{id}")).notice(Notice::OutboxMarkedSent),
        |shown| detail_view(&page, id, shown),
    )
    .await
}
