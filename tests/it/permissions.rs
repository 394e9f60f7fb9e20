//! Every staff route × every role: allowed or refused exactly as the permission table
//! in `domain::permissions` says. Later features add their routes to `ROUTES`.

use crate::harness::*;
use licd::domain::permissions::{Permission, Role};
use serde_json::json;

/// What a route needs: any signed-in staff member, or one permission.
#[derive(Clone, Copy, Debug)]
enum Need {
    SignedIn,
    Perm(Permission),
}

struct RouteCase {
    method: &'static str,
    path: &'static str,
    /// JSON body for API routes, form fields for UI routes.
    body: Option<serde_json::Value>,
    need: Need,
}

fn routes() -> Vec<RouteCase> {
    use Need::*;
    use Permission::*;
    let r = |method, path, body, need| RouteCase {
        method,
        path,
        body,
        need,
    };
    vec![
        // JSON API
        r("GET", "/api/v1/me", None, SignedIn),
        r("GET", "/api/v1/tokens", None, SignedIn),
        r(
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "matrix"})),
            SignedIn,
        ),
        r("DELETE", "/api/v1/tokens/999999", None, SignedIn),
        r(
            "POST",
            "/api/v1/auth/password",
            Some(json!({"current_password": "x", "new_password": "y"})),
            SignedIn,
        ),
        r("GET", "/api/v1/users", None, Perm(UsersManage)),
        r(
            "POST",
            "/api/v1/users",
            Some(json!({"email": "not-an-email", "role": "support"})),
            Perm(UsersManage),
        ),
        r("GET", "/api/v1/users/1", None, Perm(UsersManage)),
        r(
            "PATCH",
            "/api/v1/users/999999",
            Some(json!({"display_name": "x"})),
            Perm(UsersManage),
        ),
        r(
            "POST",
            "/api/v1/users/999999/reset-password",
            None,
            Perm(UsersManage),
        ),
        r("GET", "/api/v1/audit", None, Perm(AuditRead)),
        r("GET", "/api/v1/tls", None, Perm(LicenseRead)),
        // Licensing API (appliance routes are not staff routes: see appliance_routes_need_no_staff)
        r("GET", "/api/v1/licenses", None, Perm(LicenseRead)),
        r("GET", "/api/v1/installations", None, Perm(LicenseRead)),
        r("GET", "/api/v1/enterprise", None, Perm(SettingsManage)),
        r(
            "POST",
            "/api/v1/enterprise/licenses",
            Some(json!({"license_key": "x"})),
            Perm(SettingsManage),
        ),
        r(
            "DELETE",
            "/api/v1/enterprise/licenses/nope",
            None,
            Perm(SettingsManage),
        ),
        r("GET", "/installations", None, Perm(LicenseRead)),
        r("GET", "/installations/nope", None, Perm(LicenseRead)),
        r("GET", "/enterprise", None, Perm(SettingsManage)),
        r(
            "POST",
            "/enterprise/licenses",
            Some(json!({"license_key": "x"})),
            Perm(SettingsManage),
        ),
        r(
            "POST",
            "/enterprise/licenses/nope/remove",
            None,
            Perm(SettingsManage),
        ),
        r("GET", "/api/v1/installations/nope", None, Perm(LicenseRead)),
        r(
            "POST",
            "/api/v1/licenses",
            Some(
                json!({"name": "m", "install_id": "matrix", "internal_users": 1, "expires_at": "2030-01-01T00:00:00Z"}),
            ),
            Perm(LicenseIssue),
        ),
        r("GET", "/api/v1/licenses/nope", None, Perm(LicenseRead)),
        r(
            "POST",
            "/api/v1/licenses/nope/revoke",
            Some(json!({"reason": "x"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/nope/rebind",
            Some(json!({"fingerprint": "x"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/nope/suspend",
            Some(json!({})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/nope/reinstate",
            None,
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/nope/subscription",
            Some(json!({"status": "active"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/nope/directives",
            Some(json!({"kind": "message", "message": "x"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/api/v1/licenses/health/sweep",
            Some(json!({"dry_run": true})),
            Perm(SweepRun),
        ),
        r(
            "GET",
            "/api/v1/licensing/heartbeats",
            None,
            Perm(LicenseRead),
        ),
        r(
            "GET",
            "/api/v1/licensing/settings",
            None,
            Perm(SettingsManage),
        ),
        r(
            "PUT",
            "/api/v1/licensing/settings",
            Some(json!({"grace_days": 0})),
            Perm(SettingsManage),
        ),
        r("GET", "/api/v1/signing-keys", None, Perm(SigningManage)),
        r(
            "POST",
            "/api/v1/signing-keys/nope/retire",
            None,
            Perm(SigningManage),
        ),
        r(
            "GET",
            "/api/v1/provisioning-tokens",
            None,
            Perm(LicenseIssue),
        ),
        r(
            "POST",
            "/api/v1/provisioning-tokens",
            Some(json!({"name": "m", "max_uses": 0, "template": {"duration_days": 1}})),
            Perm(LicenseIssue),
        ),
        r(
            "DELETE",
            "/api/v1/provisioning-tokens/999999",
            None,
            Perm(LicenseIssue),
        ),
        // UI pages and forms
        r("GET", "/", None, SignedIn),
        r("GET", "/tokens", None, SignedIn),
        r("POST", "/tokens", Some(json!({"name": "matrix"})), SignedIn),
        r("POST", "/tokens/999999/revoke", None, SignedIn),
        r("GET", "/password", None, SignedIn),
        r("GET", "/users", None, Perm(UsersManage)),
        r(
            "POST",
            "/users",
            Some(json!({"email": "bad", "role": "support"})),
            Perm(UsersManage),
        ),
        r(
            "POST",
            "/users/999999/role",
            Some(json!({"role": "support"})),
            Perm(UsersManage),
        ),
        r("POST", "/users/999999/disable", None, Perm(UsersManage)),
        r("POST", "/users/999999/enable", None, Perm(UsersManage)),
        r(
            "POST",
            "/users/999999/reset-password",
            None,
            Perm(UsersManage),
        ),
        r("GET", "/audit", None, Perm(AuditRead)),
        r("GET", "/settings/tls", None, Perm(LicenseRead)),
        // Licensing pages and forms
        r("GET", "/licensing", None, Perm(LicenseRead)),
        r("GET", "/licensing?state=active", None, Perm(LicenseRead)),
        r(
            "POST",
            "/licensing/sweep",
            Some(json!({"dry_run": "on"})),
            Perm(SweepRun),
        ),
        r("GET", "/licensing/license-new", None, Perm(LicenseIssue)),
        r(
            "POST",
            "/licensing/license-new",
            Some(json!({"name": "matrix", "install_id": "bad id", "expires": "2020-01-01"})),
            Perm(LicenseIssue),
        ),
        r("GET", "/licensing/licenses/999999", None, Perm(LicenseRead)),
        r(
            "POST",
            "/licensing/licenses/999999/revoke",
            Some(json!({"reason": "matrix"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/licensing/licenses/999999/rebind",
            Some(json!({"fingerprint": "fp-matrix"})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/licensing/licenses/999999/suspend",
            Some(json!({"reason": ""})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/licensing/licenses/999999/reinstate",
            None,
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/licensing/licenses/999999/subscription",
            Some(json!({"status": "active", "period_end": ""})),
            Perm(LicenseRevoke),
        ),
        r(
            "POST",
            "/licensing/licenses/999999/directives",
            Some(json!({"kind": "message", "message": "matrix"})),
            Perm(LicenseRevoke),
        ),
        r("GET", "/licensing/signing", None, Perm(SigningManage)),
        r(
            "POST",
            "/licensing/signing/rotate",
            None,
            Perm(SigningManage),
        ),
        r(
            "POST",
            "/licensing/signing/no-such-key/retire",
            None,
            Perm(SigningManage),
        ),
        r("GET", "/licensing/heartbeats", None, Perm(LicenseRead)),
        r("GET", "/licensing/settings", None, Perm(SettingsManage)),
        r(
            "POST",
            "/licensing/settings",
            Some(json!({
                "grace_days": "0", "heartbeat_interval_secs": "3600",
                "sweep_interval_secs": "300", "heartbeat_retention_days": "30"
            })),
            Perm(SettingsManage),
        ),
        r("GET", "/licensing/provisioning", None, Perm(LicenseIssue)),
        r(
            "POST",
            "/licensing/provisioning",
            Some(
                json!({"name": "matrix", "internal_users": "1", "duration_days": "0", "max_uses": "1"}),
            ),
            Perm(LicenseIssue),
        ),
        r(
            "POST",
            "/licensing/provisioning/999999/revoke",
            None,
            Perm(LicenseIssue),
        ),
    ]
}

fn send(s: &TestServer, token: Option<&str>, case: &RouteCase) -> reqwest::blocking::Response {
    let c = client();
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut req = c.request(method, s.url(case.path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(body) = &case.body {
        req = if case.path.starts_with("/api/") {
            req.json(body)
        } else {
            let fields: Vec<(String, String)> = body
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            req.form(&fields)
        };
    }
    req.send().unwrap()
}

#[test]
fn every_route_for_every_role_follows_the_permission_table() {
    let s = TestServer::start();
    let tokens: Vec<(Role, String)> = Role::ALL.iter().map(|r| (*r, s.role_token(*r))).collect();
    let mut checked = 0;
    for case in routes() {
        for (role, token) in &tokens {
            let allowed = match case.need {
                Need::SignedIn => true,
                Need::Perm(p) => role.can(p),
            };
            let resp = send(&s, Some(token), &case);
            let status = resp.status().as_u16();
            let body = resp.text().unwrap();
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{role} should reach {} {} but got {status}: {body}",
                    case.method,
                    case.path
                );
                assert!(
                    status < 500,
                    "{} {} as {role}: {status} {body}",
                    case.method,
                    case.path
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{role} must be refused {} {}: {body}",
                    case.method, case.path
                );
                if case.path.starts_with("/api/") {
                    assert!(body.contains("\"code\":\"forbidden\""), "{body}");
                }
            }
            checked += 1;
        }
        // Nobody unauthenticated gets through.
        let resp = send(&s, None, &case);
        let status = resp.status().as_u16();
        if case.path.starts_with("/api/") {
            assert_eq!(status, 401, "anonymous {} {}", case.method, case.path);
        } else if case.method == "GET" {
            assert_eq!(
                status, 303,
                "anonymous {} {} goes to login",
                case.method, case.path
            );
        } else if case.body.is_some() {
            // A form post with no cookie at all fails the CSRF check before anything else.
            assert_eq!(status, 403, "anonymous {} {}", case.method, case.path);
        } else {
            assert_eq!(
                status, 303,
                "anonymous {} {} goes to login",
                case.method, case.path
            );
        }
    }
    assert_eq!(checked, routes().len() * Role::ALL.len());
}

#[test]
fn navigation_shows_only_what_the_role_may_use() {
    let s = TestServer::start();
    for role in Role::ALL {
        let token = s.role_token(role);
        let html = client()
            .get(s.url("/"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .text()
            .unwrap();
        let nav = html
            .split("<nav")
            .nth(1)
            .unwrap()
            .split("</nav>")
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            nav.contains("Staff users"),
            role.can(Permission::UsersManage),
            "{role}: {nav}"
        );
        assert_eq!(
            nav.contains("Audit log"),
            role.can(Permission::AuditRead),
            "{role}: {nav}"
        );
        assert!(nav.contains("API tokens"));
    }
}

/// Appliance routes authenticate with their own secrets, never a staff session, and
/// refuse staff tokens as credentials.
#[test]
fn appliance_routes_need_no_staff_and_take_no_staff_tokens() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let body = json!({"fingerprint": "f", "seq": 0});
    let r = client()
        .post(s.url("/api/v1/licenses/x/heartbeat"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .unwrap();
    expect_problem(r, 401, "activation_invalid");
    let r = client()
        .post(s.url("/api/v1/licenses/x/activate"))
        .json(&json!({"license_key": "a.b.c", "fingerprint": "f", "install_id": "i"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "license_key_invalid");
    let r = client()
        .post(s.url("/api/v1/provision"))
        .json(&json!({"token": admin, "install_id": "i", "fingerprint": "f"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "provisioning_token_invalid");
    let jwks: serde_json::Value = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}
