//! The staff console: server-rendered pages with plain forms (CSRF-checked by the
//! middleware) and a little vanilla JS. Every page follows one pattern (`form`): load
//! and show, submit, show again with the refusal and what was typed, or redirect.

pub mod audit;
pub mod billing;
pub mod billing_revenue;
pub mod charts;
pub mod confirm;
pub mod customers;
pub mod dashboard;
pub mod enterprise;
pub mod first_run;
pub mod flash;
pub mod form;
pub mod installations;
pub mod licensing;
pub mod login;
pub mod next_path;
pub mod notice;
pub mod outbox;
pub mod password;
pub mod recover;
pub mod reject;
pub mod service_tokens;
pub mod subscriptions;
pub mod templates;
pub mod tls;
pub mod tokens;
pub mod users;

use super::auth::{Caller, may_use};
use super::routing::{self, Access, NavGroup, ReadOnly, Routes};
use crate::domain::permissions::Permission;
use minijinja::{Value, context};
use notice::Notice;
use serde::Serialize;

#[derive(Serialize)]
struct NavItem {
    label: &'static str,
    href: &'static str,
    active: bool,
}

#[derive(Serialize)]
struct NavSection {
    id: &'static str,
    label: &'static str,
    links: Vec<NavItem>,
}

/// The navigation a caller sees: the route table's entries they may use, grouped by
/// `NavGroup` in its order, without empty groups. Nothing while a one-time password
/// must still be changed (every other page would only send them back to `/password`).
fn navigation(caller: &Caller, active: &str) -> Vec<NavSection> {
    if caller.principal.user.must_change_password {
        return Vec::new();
    }
    NavGroup::ALL
        .iter()
        .map(|&group| NavSection {
            id: group.id(),
            label: group.label(),
            links: routing::navigation()
                .filter(|r| may_use(r.access, &caller.principal))
                .filter_map(|r| {
                    let nav = r.nav.filter(|n| n.group == group)?;
                    Some(NavItem {
                        label: nav.label,
                        href: r.path,
                        active: r.path == active,
                    })
                })
                .collect(),
        })
        .filter(|s| !s.links.is_empty())
        .collect()
}

/// The frame every signed-in page shares: user, navigation (see `navigation`), CSRF
/// token, tenant, notice, banner. `pending` is set while the user must change a
/// one-time password: the frame then offers only signing out.
fn chrome(caller: &Caller, active: &str, notice: Option<Notice>) -> Value {
    let user = &caller.principal.user;
    context! {
        user => context! { email => user.email, display_name => user.display_name, role => user.role.as_str() },
        nav => navigation(caller, active),
        pending => user.must_change_password,
        csrf => caller.csrf.clone().unwrap_or_default(),
        tenant => context! { name => caller.tenant.name(), install_id => caller.tenant.install_id },
        notice => notice.map(Notice::text),
        banner => banner(caller),
    }
}

/// The banner for licd's own license stage (seed 000): administrators see the first
/// warning, every signed-in user the second, and everyone the read-only notice.
fn banner(caller: &Caller) -> Option<Value> {
    use crate::domain::violation::Stage;
    let admin = caller.principal.can(Permission::SettingsManage);
    let stage = caller.tenant.own_stage();
    let (class, text) = match stage {
        Stage::None => return None,
        Stage::ExpirySoon if admin => (
            "admin",
            "licd's license expires soon. Install a renewed license under Enterprise > Licenses.",
        ),
        Stage::AdminWarning if admin => (
            "admin",
            "licd's license is in violation (expired, or more users than licensed). All users will be warned in two weeks.",
        ),
        Stage::ExpirySoon | Stage::AdminWarning => return None,
        Stage::UsersWarning => (
            "users",
            "licd's license is in violation. In two weeks licd becomes read-only unless an administrator corrects it.",
        ),
        Stage::ReadOnly => (
            "readonly",
            "licd is read-only: its license is in violation. Signing in, license changes and user changes still work.",
        ),
    };
    Some(context! { class => class, text => text, stage => stage.as_str() })
}

/// Customers > Customer accounts (orgs.manage).
fn customers_routes(r: &mut Routes) {
    use ReadOnly::AllowedInReadOnly;
    use customers::accounts;
    let need = Access::Permission(Permission::OrgsManage);
    r.page("/customers/accounts")
        .nav(NavGroup::Customers, "Customer accounts")
        .get(need, accounts::list);
    r.page("/customers/accounts/{id}")
        .get(need, accounts::detail);
    // User changes: they work in read-only mode.
    r.page("/customers/accounts/{id}/disable")
        .post(need, AllowedInReadOnly, accounts::disable);
    r.page("/customers/accounts/{id}/enable")
        .post(need, AllowedInReadOnly, accounts::enable);
    r.page("/customers/accounts/{id}/reset-password").post(
        need,
        AllowedInReadOnly,
        accounts::send_reset,
    );
    r.page("/customers/accounts/{id}/resend-verification").post(
        need,
        AllowedInReadOnly,
        accounts::resend_verification,
    );
}

/// The console's part of the route table, in navigation order within each group.
pub fn routes(r: &mut Routes) {
    use Access::{PendingPasswordOk, Public, SignedIn};
    use NavGroup::{Administration, Billing, Customers, Fleet, Licensing};
    use Permission::*;
    use ReadOnly::{AllowedInReadOnly, Write};
    use licensing::{
        actions, air_gap, detail, heartbeats, keys, list, new, organization, provisioning,
        settings, signing, sweep,
    };
    let need = Access::Permission;

    r.page("/login")
        .get(Public, login::show)
        .post(Public, AllowedInReadOnly, login::submit);
    // A recovery link: the GET only shows what it would do; the POST redeems it.
    r.page("/recover")
        .get(Public, recover::show)
        .post(Public, AllowedInReadOnly, recover::redeem);
    r.page("/logout")
        .post(PendingPasswordOk, AllowedInReadOnly, login::logout);
    r.page("/password")
        .get(PendingPasswordOk, password::show)
        .post(PendingPasswordOk, AllowedInReadOnly, password::change);
    r.page("/")
        .nav(Fleet, "Dashboard")
        .get(SignedIn, dashboard::show);

    r.page("/licensing")
        .nav(Licensing, "Licenses")
        .get(need(LicenseRead), list::show);
    r.page("/licensing/sweep")
        .post(need(SweepRun), AllowedInReadOnly, sweep::run);
    r.page("/licensing/license-new")
        .get(need(LicenseIssue), new::show)
        .post(need(LicenseIssue), Write, new::create);
    r.page("/licensing/licenses/{id}")
        .get(need(LicenseRead), detail::show);
    r.page("/licensing/licenses/{id}/revoke").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        actions::revoke,
    );
    r.page("/licensing/licenses/{id}/rebind")
        .post(need(LicenseRevoke), Write, actions::rebind);
    r.page("/licensing/licenses/{id}/suspend")
        .post(need(LicenseRevoke), Write, actions::suspend);
    r.page("/licensing/licenses/{id}/reinstate").post(
        need(LicenseRevoke),
        Write,
        actions::reinstate,
    );
    r.page("/licensing/licenses/{id}/subscription").post(
        need(LicenseRevoke),
        Write,
        actions::subscription,
    );
    r.page("/licensing/licenses/{id}/directives").post(
        need(LicenseRevoke),
        Write,
        actions::directive,
    );
    r.page("/licensing/licenses/{id}/air-gap").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        air_gap::upload,
    );
    r.page("/licensing/licenses/{id}/bundle").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        air_gap::bundle,
    );
    r.page("/licensing/licenses/{id}/renew")
        .post(need(LicenseIssue), Write, keys::renew);
    r.page("/licensing/licenses/{id}/change")
        .post(need(LicenseIssue), Write, keys::change);
    r.page("/licensing/licenses/{id}/reissue")
        .post(need(LicenseIssue), Write, keys::reissue);
    r.page("/licensing/licenses/{id}/organization").post(
        need(OrgsManage),
        Write,
        organization::move_to,
    );

    r.page("/installations")
        .nav(Fleet, "Installations")
        .get(need(LicenseRead), installations::list);
    r.page("/installations/{install_id}")
        .get(need(LicenseRead), installations::detail);

    r.page("/licensing/heartbeats")
        .nav(Fleet, "Heartbeats")
        .get(need(LicenseRead), heartbeats::show);

    r.page("/licensing/provisioning")
        .nav(Licensing, "Provisioning")
        .get(need(LicenseIssue), provisioning::show)
        .post(need(LicenseIssue), Write, provisioning::create);
    r.page("/licensing/provisioning/{id}/revoke").post(
        need(LicenseIssue),
        AllowedInReadOnly,
        provisioning::revoke,
    );

    r.page("/licensing/signing")
        .nav(Licensing, "Signing keys")
        .get(need(SigningManage), signing::show);
    r.page("/licensing/signing/rotate")
        .post(need(SigningManage), Write, signing::rotate);
    r.page("/licensing/signing/{kid}/retire").post(
        need(SigningManage),
        AllowedInReadOnly,
        signing::retire,
    );
    r.page("/licensing/signing/{kid}/reissue").post(
        need(LicenseIssue),
        Write,
        signing::reissue_all,
    );

    r.page("/licensing/settings")
        .nav(Licensing, "Licensing settings")
        .get(need(SettingsManage), settings::show)
        .post(need(SettingsManage), Write, settings::save);

    r.page("/customers/organizations")
        .nav(Customers, "Organizations")
        .get(need(OrgsManage), customers::organizations::list);
    r.page("/customers/organizations/{id}")
        .get(need(OrgsManage), customers::organizations::detail);
    r.page("/customers/organizations/{id}/delete").post(
        need(OrgsManage),
        Write,
        customers::organizations::delete,
    );
    customers_routes(r);

    r.page("/billing")
        .nav(Billing, "Revenue")
        .get(need(BillingManage), billing_revenue::show_page);
    r.page("/billing/invoices")
        .nav(Billing, "Invoices")
        .get(need(BillingManage), billing::list);
    r.page("/billing/invoices/{id}")
        .get(need(BillingManage), billing::detail);
    r.page("/billing/invoices/{id}/print")
        .get(need(BillingManage), billing::print);
    r.page("/billing/invoices/{id}/payments").post(
        need(BillingManage),
        AllowedInReadOnly,
        billing::payment,
    );
    r.page("/billing/invoices/{id}/void")
        .post(need(BillingManage), Write, billing::void);
    r.page("/billing/invoices/{id}/credit-notes").post(
        need(BillingManage),
        Write,
        billing::credit_note,
    );
    r.page("/billing/invoices/{id}/accept-purchase-order").post(
        need(BillingManage),
        Write,
        subscriptions::accept_purchase_order,
    );
    r.page("/billing/subscriptions")
        .nav(Billing, "Subscriptions")
        .get(need(BillingManage), subscriptions::list);
    r.page("/billing/price-list")
        .nav(Billing, "Price list")
        .get(need(BillingManage), billing::price_list_show)
        .post(need(BillingManage), Write, billing::price_list_save);

    r.page("/users")
        .nav(Administration, "Staff users")
        .get(need(UsersManage), users::show)
        .post(need(UsersManage), Write, users::create);
    r.page("/users/{id}/role")
        .post(need(UsersManage), AllowedInReadOnly, users::change_role);
    r.page("/users/{id}/disable")
        .post(need(UsersManage), AllowedInReadOnly, users::disable);
    r.page("/users/{id}/enable")
        .post(need(UsersManage), AllowedInReadOnly, users::enable);
    r.page("/users/{id}/reset-password").post(
        need(UsersManage),
        AllowedInReadOnly,
        users::reset_password,
    );
    r.page("/users/{id}/tokens")
        .get(need(UsersManage), service_tokens::show)
        .post(need(UsersManage), Write, service_tokens::create);
    r.page("/users/{id}/tokens/{token_id}/revoke").post(
        need(UsersManage),
        AllowedInReadOnly,
        service_tokens::revoke,
    );

    r.page("/enterprise")
        .nav(Administration, "Enterprise")
        .get(need(SettingsManage), enterprise::show);
    r.page("/enterprise/licenses").post(
        need(SettingsManage),
        AllowedInReadOnly,
        enterprise::install,
    );
    r.page("/enterprise/licenses/{id}/remove").post(
        need(SettingsManage),
        AllowedInReadOnly,
        enterprise::remove,
    );

    r.page("/settings/tls")
        .nav(Administration, "TLS")
        .get(need(LicenseRead), tls::show);

    r.page("/outbox")
        .nav(Administration, "Outbox")
        .get(need(SettingsManage), outbox::list);
    r.page("/outbox/{id}")
        .get(need(SettingsManage), outbox::detail);
    r.page("/outbox/{id}/mark-sent")
        .post(need(SettingsManage), Write, outbox::mark_sent);

    r.page("/tokens")
        .nav(Administration, "API tokens")
        .get(SignedIn, tokens::show)
        .post(SignedIn, Write, tokens::create);
    r.page("/tokens/{id}/revoke")
        .post(SignedIn, AllowedInReadOnly, tokens::revoke);

    r.page("/audit")
        .nav(Administration, "Audit log")
        .get(need(AuditRead), audit::show);
    r.page("/audit/export").get(need(AuditRead), audit::export);
}
