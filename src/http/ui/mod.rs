//! The staff console: server-rendered pages with plain forms (CSRF-checked by the
//! middleware) and a little vanilla JS.

pub mod audit;
pub mod charts;
pub mod dashboard;
pub mod enterprise;
pub mod installations;
pub mod licensing;
pub mod login;
pub mod next_path;
pub mod password;
pub mod reject;
pub mod templates;
pub mod tls;
pub mod tokens;
pub mod users;

use super::auth::Caller;
use super::state::AppState;
use crate::domain::permissions::Permission;
use crate::error::Problem;
use crate::service::ServiceError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Serialize;

/// Navigation entries and the permission each needs; a user sees only what they may use.
const NAV: &[(&str, &str, Option<Permission>)] = &[
    ("Dashboard", "/", None),
    ("Licensing", "/licensing", Some(Permission::LicenseRead)),
    (
        "Installations",
        "/installations",
        Some(Permission::LicenseRead),
    ),
    (
        "Heartbeats",
        "/licensing/heartbeats",
        Some(Permission::LicenseRead),
    ),
    (
        "Provisioning",
        "/licensing/provisioning",
        Some(Permission::LicenseIssue),
    ),
    (
        "Signing keys",
        "/licensing/signing",
        Some(Permission::SigningManage),
    ),
    (
        "Licensing settings",
        "/licensing/settings",
        Some(Permission::SettingsManage),
    ),
    ("Staff users", "/users", Some(Permission::UsersManage)),
    (
        "Enterprise",
        "/enterprise",
        Some(Permission::SettingsManage),
    ),
    ("TLS", "/settings/tls", Some(Permission::LicenseRead)),
    ("API tokens", "/tokens", None),
    ("Audit log", "/audit", Some(Permission::AuditRead)),
];

#[derive(Serialize)]
struct NavItem {
    label: &'static str,
    href: &'static str,
    active: bool,
}

/// Messages shown after a redirect (`?notice=...`); fixed texts, nothing reflected.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "password_changed" => "Your password has been changed.",
        "user_updated" => "The account has been updated.",
        "token_revoked" => "The token has been revoked.",
        "license_issued" => "The license has been issued. Copy its key to the appliance.",
        "license_revoked" => {
            "The license has been revoked; its appliance locks at its next heartbeat."
        }
        "license_rebound" => {
            "The license has been rebound; the new appliance activates with the same key."
        }
        "license_suspended" => "The license has been suspended.",
        "license_reinstated" => "The license has been reinstated.",
        "subscription_updated" => "The subscription status has been updated.",
        "directive_queued" => {
            "The directive has been queued; it rides on every lease until acknowledged."
        }
        "signing_rotated" => "A new signing key is active; the previous keys still verify.",
        "signing_retired" => {
            "The signing key has been retired; license keys it signed no longer verify."
        }
        "settings_saved" => "The licensing settings have been saved.",
        "provisioning_revoked" => "The provisioning token has been revoked.",
        "enterprise_installed" => "The license has been installed.",
        "enterprise_removed" => "The license has been removed.",
        _ => return None,
    })
}

/// The frame every signed-in page shares: user, navigation, CSRF token, tenant.
fn chrome(caller: &Caller, active: &str, notice: Option<&str>) -> Value {
    let nav: Vec<NavItem> = NAV
        .iter()
        .filter(|(_, _, need)| need.is_none_or(|p| caller.principal.can(p)))
        .map(|(label, href, _)| NavItem {
            label,
            href,
            active: *href == active,
        })
        .collect();
    let user = &caller.principal.user;
    context! {
        user => context! { email => user.email, display_name => user.display_name, role => user.role.as_str() },
        nav => nav,
        csrf => caller.csrf.clone().unwrap_or_default(),
        tenant => context! { name => caller.tenant.name, install_id => caller.tenant.install_id },
        notice => notice.and_then(notice_text),
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

/// Query parameters every page accepts.
#[derive(Debug, serde::Deserialize, Default)]
pub struct PageQuery {
    pub notice: Option<String>,
}

/// Renders a signed-in page with status 200.
pub fn render(
    state: &AppState,
    caller: &Caller,
    template: &str,
    active: &str,
    page: Value,
) -> Result<HttpResponse, ServiceError> {
    render_status(state, caller, template, active, page, None, StatusCode::OK)
}

/// Renders a signed-in page with a status and an optional notice code.
pub fn render_status(
    state: &AppState,
    caller: &Caller,
    template: &str,
    active: &str,
    page: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ServiceError> {
    let html = state.templates.render(
        template,
        context! { chrome => chrome(caller, active, notice), ..page },
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// The status a failed form post answers with, and the message shown on the page.
pub fn form_error(p: &Problem) -> (StatusCode, String) {
    (
        StatusCode::from_u16(p.code.status().as_u16()).unwrap_or(StatusCode::BAD_REQUEST),
        p.detail.clone(),
    )
}

/// POST-redirect-GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::routing::page;
    cfg.service(page("/login").get(login::show).post(login::submit).build())
        .service(page("/logout").post(login::logout).build())
        .service(
            page("/password")
                .get(password::show)
                .post(password::submit)
                .build(),
        )
        .service(page("/").get(dashboard::show).build())
        .service(page("/users").get(users::show).post(users::create).build())
        .service(page("/users/{id}/role").post(users::change_role).build())
        .service(page("/users/{id}/disable").post(users::disable).build())
        .service(page("/users/{id}/enable").post(users::enable).build())
        .service(
            page("/users/{id}/reset-password")
                .post(users::reset_password)
                .build(),
        )
        .service(
            page("/tokens")
                .get(tokens::show)
                .post(tokens::create)
                .build(),
        )
        .service(page("/tokens/{id}/revoke").post(tokens::revoke).build())
        .service(page("/audit").get(audit::show).build())
        .service(page("/settings/tls").get(tls::show).build())
        .service(page("/installations").get(installations::list).build())
        .service(
            page("/installations/{install_id}")
                .get(installations::detail)
                .build(),
        )
        .service(page("/enterprise").get(enterprise::show).build())
        .service(
            page("/enterprise/licenses")
                .post(enterprise::install)
                .build(),
        )
        .service(
            page("/enterprise/licenses/{id}/remove")
                .post(enterprise::remove)
                .build(),
        )
        .configure(licensing::routes);
}
