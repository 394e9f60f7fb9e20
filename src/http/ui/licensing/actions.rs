//! Staff actions on a license (license.revoke): revoke, rebind, suspend, reinstate, set
//! the subscription, queue a directive. Each redirects back to the license's page with a
//! notice, or shows that page again with the refusal and what was typed. Those that stop
//! an appliance (revoke, rebind, suspend, a lock directive, a subscription change that
//! suspends) first ask for confirmation (`ui::confirm`).

use super::date;
use super::detail::answer;
use crate::domain::lifecycle::{Subscription, SubscriptionStatus};
use crate::error::ErrorCode;
use crate::http::auth::{Caller, Page, need};
use crate::http::context::StaffContext;
use crate::http::ui::confirm::{Confirm, is_confirmed};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::licenses::{self, LicenseView};
use crate::service::{Result, license_actions as act, refuse};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

type ActPage = Page<need::LicenseRevoke>;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirmed: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RebindForm {
    #[serde(default)]
    fingerprint: String,
    #[serde(default)]
    confirmed: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SubscriptionForm {
    #[serde(default)]
    status: String,
    /// `YYYY-MM-DD`, the last paid day; blank for none.
    #[serde(default)]
    period_end: String,
    #[serde(default)]
    confirmed: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DirectiveForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    confirmed: String,
}

/// The license an action is about (a missing one is the 404 page).
async fn license(caller: &Caller, id: &str) -> std::result::Result<LicenseView, UiReject> {
    let id = id.to_owned();
    Ok(caller
        .run(move |cx| licenses::detail(&cx.tenant, cx.now, &id))
        .await?
        .license)
}

/// The appliance a license's actions reach, in words (a sentence's start).
fn appliance(l: &LicenseView) -> String {
    match &l.bound_fingerprint {
        Some(fp) => format!("The appliance {fp} (Install ID {})", l.install_id),
        None => format!(
            "No appliance holds it yet (Install ID {}); the one that activates it",
            l.install_id
        ),
    }
}

/// A confirmation about license `l`, posting back to `/licensing/licenses/{id}/{action}`.
fn about(l: &LicenseView, action: &str, title: String, what: String, yes: &str) -> Confirm {
    Confirm {
        title,
        what,
        consequences: Vec::new(),
        yes: yes.to_owned(),
        action: format!("/licensing/licenses/{}/{action}", l.id),
        cancel: format!("/licensing/licenses/{}", l.id),
    }
}

const NAV: &str = "/licensing";

/// Runs an action on license `id` from the form `form` (its HTML id); on success, back
/// to the license's page with `notice`.
async fn apply<T, F>(
    page: ActPage,
    id: String,
    form: &'static str,
    typed: &impl Serialize,
    notice: Notice,
    action: F,
) -> std::result::Result<HttpResponse, UiReject>
where
    T: Send + 'static,
    F: FnOnce(&StaffContext, &str) -> Result<T> + Send + 'static,
{
    let target = id.clone();
    let result = page.run(move |cx| action(cx, &target)).await;
    answer(&page, id, form, typed, notice, result).await
}

pub async fn revoke(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if !is_confirmed(&form.confirmed) {
        let l = license(&page, &id).await?;
        let mut c = about(
            &l,
            "revoke",
            format!("Revoke the license “{}”?", l.name),
            format!(
                "{} locks at its next heartbeat and gets no more offline time.",
                appliance(&l)
            ),
            "Yes, revoke it",
        );
        c.consequences = vec![
            "Activation with this license key is refused from now on.".to_owned(),
            "Revoking is final: the license cannot be reinstated or renewed.".to_owned(),
        ];
        if !form.reason.trim().is_empty() {
            c.consequences
                .push(format!("The reason recorded: {}", form.reason.trim()));
        }
        return c.ask(&page, NAV, &form);
    }
    let reason = form.reason.clone();
    apply(
        page,
        id.into_inner(),
        "revoke-form",
        &form,
        Notice::LicenseRevoked,
        move |cx, id| act::revoke(&cx.tenant, cx.now, &cx.actor, id, &reason),
    )
    .await
}

pub async fn rebind(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<RebindForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if !is_confirmed(&form.confirmed) {
        let l = license(&page, &id).await?;
        let mut c = about(
            &l,
            "rebind",
            format!("Move the license “{}” to other hardware?", l.name),
            format!(
                "{} locks at its next heartbeat; the appliance with fingerprint {} activates with the same license key.",
                appliance(&l),
                form.fingerprint.trim()
            ),
            "Yes, rebind it",
        );
        c.consequences =
            vec!["The old appliance's directives that were not confirmed are not delivered to the new one.".to_owned()];
        return c.ask(&page, NAV, &form);
    }
    let fingerprint = form.fingerprint.clone();
    apply(
        page,
        id.into_inner(),
        "rebind-form",
        &form,
        Notice::LicenseRebound,
        move |cx, id| act::rebind(&cx.tenant, cx.now, &cx.actor, id, &fingerprint),
    )
    .await
}

pub async fn suspend(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if !is_confirmed(&form.confirmed) {
        let l = license(&page, &id).await?;
        let c = about(
            &l,
            "suspend",
            format!("Suspend the license “{}”?", l.name),
            format!(
                "{} locks at its next heartbeat and stays locked until the license is reinstated.",
                appliance(&l)
            ),
            "Yes, suspend it",
        );
        return c.ask(&page, NAV, &form);
    }
    let reason = form.reason.clone();
    apply(
        page,
        id.into_inner(),
        "suspend-form",
        &form,
        Notice::LicenseSuspended,
        move |cx, id| act::suspend(&cx.tenant, cx.now, &cx.actor, id, &reason),
    )
    .await
}

pub async fn reinstate(
    page: ActPage,
    id: web::Path<String>,
) -> std::result::Result<HttpResponse, UiReject> {
    apply(
        page,
        id.into_inner(),
        "reinstate-form",
        &(),
        Notice::LicenseReinstated,
        |cx, id| act::reinstate(&cx.tenant, cx.now, &cx.actor, id),
    )
    .await
}

pub async fn subscription(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<SubscriptionForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if !is_confirmed(&form.confirmed)
        && let Ok(status) = form.status.parse::<SubscriptionStatus>()
        && let Ok(period_end) = date("period_end", &form.period_end, true)
    {
        let l = license(&page, &id).await?;
        let suspends = !(Subscription { status, period_end }).is_valid(page.now)
            && !l.state.is_final()
            && l.state != crate::domain::lifecycle::LicenseState::Suspended;
        if suspends {
            let mut c = about(
                &l,
                "subscription",
                format!(
                    "Set the subscription of “{}” to {}?",
                    l.name,
                    status.as_str()
                ),
                format!(
                    "The subscription is no longer valid, so the license is suspended at once. {} locks at its next heartbeat.",
                    appliance(&l)
                ),
                "Yes, suspend it",
            );
            c.consequences = vec![
                "The license is active again as soon as the subscription is restored.".to_owned(),
            ];
            return c.ask(&page, NAV, &form);
        }
    }
    let typed = form.clone();
    apply(
        page,
        id.into_inner(),
        "subscription-form",
        &typed,
        Notice::SubscriptionUpdated,
        move |cx, id| {
            let status: SubscriptionStatus = form
                .status
                .parse()
                .map_err(|e: String| refuse(ErrorCode::ValidationFailed, format!("status: {e}")))?;
            let period_end = date("period_end", &form.period_end, true)?;
            act::set_subscription(&cx.tenant, cx.now, &cx.actor, id, status, period_end)
        },
    )
    .await
}

pub async fn directive(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<DirectiveForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if !is_confirmed(&form.confirmed) && form.kind.trim() == "lock" {
        let l = license(&page, &id).await?;
        let mut c = about(
            &l,
            "directives",
            format!("Lock the appliance of “{}”?", l.name),
            format!(
                "{} stops working when its next lease carries the lock, until an unlock directive reaches it.",
                appliance(&l)
            ),
            "Yes, lock it",
        );
        if !form.message.trim().is_empty() {
            c.consequences = vec![format!("Its administrators see: {}", form.message.trim())];
        }
        return c.ask(&page, NAV, &form);
    }
    let typed = form.clone();
    apply(
        page,
        id.into_inner(),
        "directive-form",
        &typed,
        Notice::DirectiveQueued,
        move |cx, id| {
            act::queue_directive(&cx.tenant, cx.now, &cx.actor, id, &form.kind, &form.message)
        },
    )
    .await
}
