//! The route × caller × read-only matrix. It iterates over the route table the server
//! registers (`licd::http::routing::registered`) and fails when a registered route has no
//! sample request below, or when a sample names a route that is gone: a new route cannot
//! be forgotten. Each sample says, independently of the table, what the route needs and
//! what an admitted caller gets; the test checks the table says the same need, then sends
//! the sample as every role, as an account with a pending one-time password, as a
//! customer of the portal (its own session cookie), and anonymously, in normal and in
//! read-only mode. A customer is nobody on the console and the API, and staff
//! credentials are nobody on the portal.

use crate::harness::*;
use licd::domain::permissions::{Permission, Role};
use licd::http::routing::{self, Access, Proof, ReadOnly, Route, Surface};
use licd::service::{Actor, enterprise};
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A request for one registered route, and what it should come to.
pub(crate) struct Sample {
    /// The path to request (the route's pattern with its parameters filled in).
    pub(crate) path: String,
    /// A JSON body for API routes, form fields for console routes.
    pub(crate) body: Option<Value>,
    /// What the route needs, as this test expects it.
    pub(crate) needs: Access,
    /// The status a caller the route admits gets, in normal mode.
    admitted: u16,
}

/// Rows of `samples()`: `METHOD "pattern" [at "path"] [body <json or form>] => needs, status;`
/// (`at` when the path has parameters; a JSON body for API routes, form fields for
/// console routes).
macro_rules! rows {
    (@or $default:expr) => { $default };
    (@or $default:expr, $given:expr) => { $given };
    (@some) => { None };
    (@some $body:expr) => { Some($body) };
    ($($method:ident $pattern:literal $(at $path:literal)? $(body $body:expr)? => $needs:expr, $status:literal;)*) => {{
        let mut m = BTreeMap::new();
        $(
            let sample = Sample {
                path: rows!(@or $pattern $(, $path)?).to_owned(),
                body: rows!(@some $($body)?),
                needs: $needs,
                admitted: $status,
            };
            let key = (stringify!($method), $pattern);
            assert!(m.insert(key, sample).is_none(), "{key:?} twice");
        )*
        m
    }};
}

/// A sample for every route, by (method, pattern).
fn samples() -> BTreeMap<(&'static str, &'static str), Sample> {
    use Access::{
        Appliance, Customer, CustomerUnverified, GatewaySigned, MetricsToken, PendingPasswordOk,
        Public, SignedIn, TenancyKey,
    };
    use Permission::*;
    use Proof::{ActivationSecret, LicenseKey, ProvisioningToken};
    let need = Access::Permission;
    let form = |pairs: &[(&str, &str)]| {
        let map: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        Value::Object(map)
    };
    // Invalid bodies and unknown ids where a valid request would change too much: a
    // 404 or 422 shows the caller got past the route's checks.
    rows! {
        // System
        GET "/healthz" => Public, 200;
        GET "/readyz" => Public, 200;
        GET "/ca.pem" => Public, 200;
        GET "/metrics" => MetricsToken, 200;
        GET "/static/{path:.*}" at "/static/app.css" => Public, 200;

        // The JSON API
        GET "/api/v1/openapi.json" => Public, 200;
        POST "/api/v1/auth/login" body json!({}) => Public, 422;
        POST "/api/v1/auth/logout" => PendingPasswordOk, 204;
        POST "/api/v1/auth/password" body json!({}) => PendingPasswordOk, 422;
        GET "/api/v1/me" => PendingPasswordOk, 200;
        GET "/api/v1/tls" => need(LicenseRead), 200;
        GET "/api/v1/users" => need(UsersManage), 200;
        POST "/api/v1/users" body json!({"email": "not-an-email", "role": "support"}) => need(UsersManage), 422;
        GET "/api/v1/users/{id}" at "/api/v1/users/1" => need(UsersManage), 200;
        PATCH "/api/v1/users/{id}" at "/api/v1/users/999999" body json!({"display_name": "x"}) => need(UsersManage), 404;
        POST "/api/v1/users/{id}/reset-password" at "/api/v1/users/999999/reset-password" => need(UsersManage), 404;
        GET "/api/v1/users/{id}/tokens" at "/api/v1/users/999999/tokens" => need(UsersManage), 404;
        POST "/api/v1/users/{id}/tokens" at "/api/v1/users/999999/tokens" body json!({"name": "matrix"}) => need(UsersManage), 404;
        DELETE "/api/v1/users/{id}/tokens/{token_id}" at "/api/v1/users/999999/tokens/1" => need(UsersManage), 404;
        GET "/api/v1/tokens" => SignedIn, 200;
        POST "/api/v1/tokens" body json!({"name": "matrix"}) => SignedIn, 201;
        DELETE "/api/v1/tokens/{id}" at "/api/v1/tokens/999999" => SignedIn, 404;
        GET "/api/v1/audit" => need(AuditRead), 200;
        GET "/api/v1/audit/export" at "/api/v1/audit/export?format=csv" => need(AuditRead), 200;
        POST "/api/v1/licenses/health/sweep" body json!({"dry_run": true}) => need(SweepRun), 200;
        GET "/api/v1/licenses" => need(LicenseRead), 200;
        POST "/api/v1/licenses" body json!({"name": "m", "install_id": "matrix", "internal_users": 1, "expires_at": "2030-01-01T00:00:00Z"}) => need(LicenseIssue), 201;
        GET "/api/v1/licenses/{id}" at "/api/v1/licenses/nope" => need(LicenseRead), 404;
        // Appliance routes take no staff credential: every caller gets the appliance's refusal.
        POST "/api/v1/licenses/{id}/activate" at "/api/v1/licenses/x/activate" body json!({"license_key": "a.b.c", "fingerprint": "f", "install_id": "i"}) => Appliance(LicenseKey), 401;
        POST "/api/v1/licenses/{id}/heartbeat" at "/api/v1/licenses/x/heartbeat" body json!({"fingerprint": "f", "seq": 0}) => Appliance(ActivationSecret), 401;
        POST "/api/v1/licenses/{id}/revoke" at "/api/v1/licenses/nope/revoke" body json!({"reason": "x"}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/rebind" at "/api/v1/licenses/nope/rebind" body json!({"fingerprint": "x"}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/suspend" at "/api/v1/licenses/nope/suspend" body json!({}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/reinstate" at "/api/v1/licenses/nope/reinstate" => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/subscription" at "/api/v1/licenses/nope/subscription" body json!({"status": "active"}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/directives" at "/api/v1/licenses/nope/directives" body json!({"kind": "message", "message": "x"}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/offline-activations" at "/api/v1/licenses/nope/offline-activations" body json!({"format": "licd-transfer/1", "kind": "offline-request", "tokens": ["a.b.c"]}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/offline-releases" at "/api/v1/licenses/nope/offline-releases" body json!({"format": "licd-transfer/1", "kind": "release", "tokens": ["a.b.c"]}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/bundles" at "/api/v1/licenses/nope/bundles" body json!({"kind": "renewal"}) => need(LicenseRevoke), 404;
        GET "/api/v1/licenses/{id}/usage-reports" at "/api/v1/licenses/nope/usage-reports" => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/usage-reports" at "/api/v1/licenses/nope/usage-reports" body json!({"format": "licd-transfer/1", "kind": "usage-report", "tokens": ["a.b.c"]}) => need(LicenseRevoke), 404;
        POST "/api/v1/licenses/{id}/renew" at "/api/v1/licenses/nope/renew" body json!({"expires_at": "2030-01-01T00:00:00Z"}) => need(LicenseIssue), 404;
        POST "/api/v1/licenses/{id}/change" at "/api/v1/licenses/nope/change" body json!({"name": "matrix"}) => need(LicenseIssue), 404;
        POST "/api/v1/licenses/{id}/reissue" at "/api/v1/licenses/nope/reissue" => need(LicenseIssue), 404;
        POST "/api/v1/licenses/{id}/organization" at "/api/v1/licenses/nope/organization" body json!({"organization_id": null}) => need(OrgsManage), 404;
        GET "/api/v1/organizations" at "/api/v1/organizations?q=acme" => need(OrgsManage), 200;
        GET "/api/v1/organizations/{id}" at "/api/v1/organizations/999999" => need(OrgsManage), 404;
        DELETE "/api/v1/organizations/{id}" at "/api/v1/organizations/999999" => need(OrgsManage), 404;
        GET "/api/v1/billing/summary" => need(BillingManage), 200;
        GET "/api/v1/billing/invoices" at "/api/v1/billing/invoices?show=overdue" => need(BillingManage), 200;
        POST "/api/v1/billing/invoices" body json!({"organization_id": 999999, "currency": "EUR", "lines": []}) => need(BillingManage), 422;
        GET "/api/v1/billing/invoices/{id}" at "/api/v1/billing/invoices/999999" => need(BillingManage), 404;
        PUT "/api/v1/billing/invoices/{id}/lines" at "/api/v1/billing/invoices/999999/lines" body json!({"lines": []}) => need(BillingManage), 404;
        POST "/api/v1/billing/invoices/{id}/finalize" at "/api/v1/billing/invoices/999999/finalize" => need(BillingManage), 404;
        POST "/api/v1/billing/invoices/{id}/payments" at "/api/v1/billing/invoices/999999/payments" body json!({"amount_minor": 1, "received_on": "2026-06-01"}) => need(BillingManage), 404;
        POST "/api/v1/billing/invoices/{id}/void" at "/api/v1/billing/invoices/999999/void" body json!({"reason": "x"}) => need(BillingManage), 404;
        POST "/api/v1/billing/invoices/{id}/credit-notes" at "/api/v1/billing/invoices/999999/credit-notes" body json!({"reason": "x", "amount_minor": 1}) => need(BillingManage), 404;
        // Signed by the payment gateway, never a staff credential; the signed sample names
        // an invoice that does not exist.
        POST "/api/v1/billing/payments" body gateway_sample() => GatewaySigned, 404;
        GET "/api/v1/billing/price-list" => need(BillingManage), 409;
        GET "/api/v1/billing/subscriptions" at "/api/v1/billing/subscriptions?status=active" => need(BillingManage), 200;
        POST "/api/v1/billing/invoices/{id}/accept-purchase-order" at "/api/v1/billing/invoices/999999/accept-purchase-order" => need(BillingManage), 409;
        PUT "/api/v1/billing/price-list" body json!({"currency": "EURO", "internal_monthly_minor": 1, "internal_yearly_minor": 1, "external_monthly_minor": 1, "external_yearly_minor": 1, "payment_terms_days": 30, "renewal_days_before": 30, "dunning_grace_days": 14}) => need(BillingManage), 422;
        GET "/api/v1/licensing/heartbeats" => need(LicenseRead), 200;
        GET "/api/v1/licensing/settings" => need(SettingsManage), 200;
        PUT "/api/v1/licensing/settings" body json!({"grace_days": 0}) => need(SettingsManage), 422;
        GET "/api/v1/signing-keys" => need(SigningManage), 200;
        POST "/api/v1/signing-keys" => need(SigningManage), 201;
        POST "/api/v1/signing-keys/{kid}/retire" at "/api/v1/signing-keys/nope/retire" => need(SigningManage), 404;
        POST "/api/v1/signing-keys/{kid}/reissue" at "/api/v1/signing-keys/nope/reissue" => need(LicenseIssue), 404;
        GET "/api/v1/provisioning-tokens" => need(LicenseIssue), 200;
        POST "/api/v1/provisioning-tokens" body json!({"name": "m", "max_uses": 0, "template": {"duration_days": 1}}) => need(LicenseIssue), 422;
        DELETE "/api/v1/provisioning-tokens/{id}" at "/api/v1/provisioning-tokens/999999" => need(LicenseIssue), 404;
        POST "/api/v1/provision" body json!({"token": "lprov_nope", "install_id": "i", "fingerprint": "f"}) => Appliance(ProvisioningToken), 401;
        GET "/api/v1/enterprise" => need(SettingsManage), 200;
        POST "/api/v1/enterprise/licenses" body json!({"license_key": "x"}) => need(SettingsManage), 422;
        DELETE "/api/v1/enterprise/licenses/{id}" at "/api/v1/enterprise/licenses/nope" => need(SettingsManage), 404;
        GET "/api/v1/installations" => need(LicenseRead), 200;
        GET "/api/v1/installations/{install_id}" at "/api/v1/installations/nope" => need(LicenseRead), 404;
        GET "/api/v1/installations/{install_id}/usage" at "/api/v1/installations/nope/usage" => need(LicenseRead), 200;
        GET "/.well-known/jwks.json" => Public, 200;
        // The tenancy API: only a tenancy key, and 404 while tenancy is off (as here);
        // `tenancy_routes_take_a_tenancy_key_and_nothing_else` sends the keys.
        GET "/api/v1/tenants" => TenancyKey, 200;
        POST "/api/v1/tenants" body json!({"name": "matrix", "schema_name": "public"}) => TenancyKey, 422;
        GET "/api/v1/tenants/{schema_name}" at "/api/v1/tenants/public" => TenancyKey, 200;
        GET "/api/v1/tenants/{schema_name}/domains" at "/api/v1/tenants/public/domains" => TenancyKey, 200;
        POST "/api/v1/tenants/{schema_name}/domains" at "/api/v1/tenants/public/domains" body json!({"domain": "not a domain"}) => TenancyKey, 422;
        POST "/api/v1/tenants/{schema_name}/recovery-key" at "/api/v1/tenants/public/recovery-key" body json!({"email": "not an email"}) => TenancyKey, 422;
        DELETE "/api/v1/tenants/{schema_name}/domains/{domain}" at "/api/v1/tenants/public/domains/nowhere.example" => TenancyKey, 404;
        PATCH "/api/v1/tenants/{schema_name}" at "/api/v1/tenants/public" body json!({"name": "public"}) => TenancyKey, 200;
        DELETE "/api/v1/tenants/{schema_name}" at "/api/v1/tenants/public" => TenancyKey, 409;
        POST "/api/v1/tenants/{schema_name}/restore" at "/api/v1/tenants/public/restore" => TenancyKey, 409;

        // Console pages and forms (a form that cannot be read is a 400 page, too)
        GET "/login" => Public, 200;
        POST "/login" body form(&[("email", "x")]) => Public, 400;
        GET "/recover" at "/recover?key=x" => Public, 403;
        POST "/recover" body form(&[("key", "x")]) => Public, 403;
        POST "/logout" => PendingPasswordOk, 303;
        GET "/password" => PendingPasswordOk, 200;
        POST "/password" body form(&[("current_password", "x"), ("new_password", "y"), ("confirm_password", "z")]) => PendingPasswordOk, 422;
        GET "/" => SignedIn, 200;
        GET "/licensing" at "/licensing?state=active" => need(LicenseRead), 200;
        POST "/licensing/sweep" body form(&[("dry_run", "on")]) => need(SweepRun), 303;
        GET "/licensing/license-new" => need(LicenseIssue), 200;
        POST "/licensing/license-new" body form(&[("name", "matrix"), ("install_id", "bad id"), ("expires", "2020-01-01")]) => need(LicenseIssue), 422;
        GET "/licensing/licenses/{id}" at "/licensing/licenses/999999" => need(LicenseRead), 404;
        POST "/licensing/licenses/{id}/revoke" at "/licensing/licenses/999999/revoke" body form(&[("reason", "matrix")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/rebind" at "/licensing/licenses/999999/rebind" body form(&[("fingerprint", "fp-matrix")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/suspend" at "/licensing/licenses/999999/suspend" body form(&[("reason", "")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/reinstate" at "/licensing/licenses/999999/reinstate" => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/subscription" at "/licensing/licenses/999999/subscription" body form(&[("status", "active"), ("period_end", "")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/directives" at "/licensing/licenses/999999/directives" body form(&[("kind", "message"), ("message", "matrix")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/air-gap" at "/licensing/licenses/999999/air-gap" body form(&[("file", "{\"format\":\"licd-transfer/1\",\"kind\":\"x\",\"tokens\":[\"a.b.c\"]}")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/bundle" at "/licensing/licenses/999999/bundle" body form(&[("kind", "renewal")]) => need(LicenseRevoke), 404;
        POST "/licensing/licenses/{id}/renew" at "/licensing/licenses/999999/renew" body form(&[("expires_on", "2030-01-01")]) => need(LicenseIssue), 404;
        POST "/licensing/licenses/{id}/change" at "/licensing/licenses/999999/change" body form(&[("name", "matrix"), ("internal_users", "1"), ("external_users", "0"), ("features", "")]) => need(LicenseIssue), 404;
        POST "/licensing/licenses/{id}/reissue" at "/licensing/licenses/999999/reissue" => need(LicenseIssue), 404;
        POST "/licensing/licenses/{id}/organization" at "/licensing/licenses/999999/organization" body form(&[("organization_id", "")]) => need(OrgsManage), 404;
        GET "/installations" => need(LicenseRead), 200;
        GET "/installations/{install_id}" at "/installations/nope" => need(LicenseRead), 404;
        GET "/licensing/heartbeats" => need(LicenseRead), 200;
        GET "/licensing/provisioning" => need(LicenseIssue), 200;
        POST "/licensing/provisioning" body form(&[("name", "matrix"), ("internal_users", "1"), ("duration_days", "0"), ("max_uses", "1")]) => need(LicenseIssue), 422;
        POST "/licensing/provisioning/{id}/revoke" at "/licensing/provisioning/999999/revoke" => need(LicenseIssue), 404;
        GET "/licensing/signing" => need(SigningManage), 200;
        POST "/licensing/signing/rotate" => need(SigningManage), 303;
        POST "/licensing/signing/{kid}/retire" at "/licensing/signing/no-such-key/retire" => need(SigningManage), 404;
        POST "/licensing/signing/{kid}/reissue" at "/licensing/signing/no-such-key/reissue" => need(LicenseIssue), 404;
        GET "/licensing/settings" => need(SettingsManage), 200;
        POST "/licensing/settings" body form(&[("grace_days", "0"), ("heartbeat_interval_secs", "3600"), ("sweep_interval_secs", "300"), ("heartbeat_retention_days", "30")]) => need(SettingsManage), 422;
        GET "/customers/organizations" at "/customers/organizations?q=acme" => need(OrgsManage), 200;
        GET "/customers/organizations/{id}" at "/customers/organizations/999999" => need(OrgsManage), 404;
        POST "/customers/organizations/{id}/delete" at "/customers/organizations/999999/delete" body form(&[("confirmed", "1")]) => need(OrgsManage), 404;
        GET "/billing" => need(BillingManage), 200;
        GET "/billing/invoices" at "/billing/invoices?show=overdue" => need(BillingManage), 200;
        GET "/billing/invoices/{id}" at "/billing/invoices/999999" => need(BillingManage), 404;
        GET "/billing/invoices/{id}/print" at "/billing/invoices/999999/print" => need(BillingManage), 404;
        POST "/billing/invoices/{id}/payments" at "/billing/invoices/999999/payments" body form(&[("amount", "1.00"), ("received_on", "2026-06-01")]) => need(BillingManage), 404;
        POST "/billing/invoices/{id}/void" at "/billing/invoices/999999/void" body form(&[("reason", "x")]) => need(BillingManage), 404;
        POST "/billing/invoices/{id}/credit-notes" at "/billing/invoices/999999/credit-notes" body form(&[("reason", "x"), ("amount", "1")]) => need(BillingManage), 404;
        GET "/billing/price-list" => need(BillingManage), 200;
        GET "/billing/subscriptions" at "/billing/subscriptions?status=past_due" => need(BillingManage), 200;
        POST "/billing/invoices/{id}/accept-purchase-order" at "/billing/invoices/999999/accept-purchase-order" body form(&[]) => need(BillingManage), 404;
        POST "/billing/price-list" body form(&[("currency", "EURO")]) => need(BillingManage), 422;
        GET "/users" => need(UsersManage), 200;
        POST "/users" body form(&[("email", "bad"), ("role", "support")]) => need(UsersManage), 422;
        POST "/users/{id}/role" at "/users/999999/role" body form(&[("role", "support")]) => need(UsersManage), 404;
        POST "/users/{id}/disable" at "/users/999999/disable" => need(UsersManage), 404;
        POST "/users/{id}/enable" at "/users/999999/enable" => need(UsersManage), 404;
        POST "/users/{id}/reset-password" at "/users/999999/reset-password" => need(UsersManage), 404;
        GET "/users/{id}/tokens" at "/users/999999/tokens" => need(UsersManage), 404;
        POST "/users/{id}/tokens" at "/users/999999/tokens" body form(&[("name", "matrix")]) => need(UsersManage), 404;
        POST "/users/{id}/tokens/{token_id}/revoke" at "/users/999999/tokens/1/revoke" => need(UsersManage), 404;
        GET "/enterprise" => need(SettingsManage), 200;
        POST "/enterprise/licenses" body form(&[("license_key", "x")]) => need(SettingsManage), 422;
        POST "/enterprise/licenses/{id}/remove" at "/enterprise/licenses/nope/remove" => need(SettingsManage), 404;
        GET "/settings/tls" => need(LicenseRead), 200;
        GET "/outbox" => need(SettingsManage), 200;
        GET "/outbox/{id}" at "/outbox/999999" => need(SettingsManage), 404;
        POST "/outbox/{id}/mark-sent" at "/outbox/999999/mark-sent" body form(&[("confirmed", "1")]) => need(SettingsManage), 404;
        GET "/tokens" => SignedIn, 200;
        POST "/tokens" body form(&[("name", "matrix")]) => SignedIn, 303;
        POST "/tokens/{id}/revoke" at "/tokens/999999/revoke" => SignedIn, 404;
        GET "/audit" => need(AuditRead), 200;
        GET "/audit/export" at "/audit/export?format=json&action=auth" => need(AuditRead), 200;
        GET "/customers/accounts" at "/customers/accounts?search=x" => need(OrgsManage), 200;
        GET "/customers/accounts/{id}" at "/customers/accounts/999999" => need(OrgsManage), 404;
        POST "/customers/accounts/{id}/disable" at "/customers/accounts/999999/disable" => need(OrgsManage), 404;
        POST "/customers/accounts/{id}/enable" at "/customers/accounts/999999/enable" => need(OrgsManage), 404;
        POST "/customers/accounts/{id}/reset-password" at "/customers/accounts/999999/reset-password" => need(OrgsManage), 404;
        POST "/customers/accounts/{id}/resend-verification" at "/customers/accounts/999999/resend-verification" => need(OrgsManage), 404;
        GET "/api/v1/customers" at "/api/v1/customers?search=x" => need(OrgsManage), 200;
        GET "/api/v1/customers/{id}" at "/api/v1/customers/999999" => need(OrgsManage), 404;
        PATCH "/api/v1/customers/{id}" at "/api/v1/customers/999999" body json!({"disabled": true}) => need(OrgsManage), 404;
        POST "/api/v1/customers/{id}/reset-password" at "/api/v1/customers/999999/reset-password" => need(OrgsManage), 404;
        POST "/api/v1/customers/{id}/resend-verification" at "/api/v1/customers/999999/resend-verification" => need(OrgsManage), 404;

        // The customer portal (the customer caller is verified; every request of it
        // comes with a session of its own, so signing out ends only that one)
        GET "/portal" => Public, 303;
        GET "/portal/" => CustomerUnverified, 200;
        GET "/portal/logo" => Public, 404;
        GET "/portal/login" => Public, 200;
        POST "/portal/login" body form(&[("email", "x")]) => Public, 400;
        POST "/portal/logout" => CustomerUnverified, 303;
        GET "/portal/signup" => Public, 200;
        POST "/portal/signup" body form(&[("email", "x")]) => Public, 403;
        GET "/portal/verify" at "/portal/verify?token=x" => Public, 404;
        POST "/portal/verify" body form(&[("token", "x")]) => Public, 404;
        POST "/portal/verify/resend" => CustomerUnverified, 303;
        GET "/portal/password/forgot" => Public, 200;
        POST "/portal/password/forgot" body form(&[("email", "not an address")]) => Public, 422;
        GET "/portal/password/reset" at "/portal/password/reset?token=x" => Public, 404;
        POST "/portal/password/reset" body form(&[("token", "x"), ("new_password", "a"), ("confirm_password", "a")]) => Public, 404;
        GET "/portal/account" => Customer, 200;
        POST "/portal/account/name" body form(&[("display_name", "x\u{202e}")]) => Customer, 422;
        POST "/portal/account/password" body form(&[("current_password", "x"), ("new_password", "y"), ("confirm_password", "z")]) => Customer, 422;
        // Organizations: the matrix's customer belongs to none, so each is 404 (never
        // 403: an organization's existence does not leak).
        GET "/portal/organizations/new" => Customer, 200;
        POST "/portal/organizations" body form(&[("name", ""), ("notification_email", "a@b.example")]) => Customer, 422;
        GET "/portal/organizations/{id}" at "/portal/organizations/1" => Customer, 404;
        POST "/portal/organizations/{id}" at "/portal/organizations/1" body form(&[("name", "x"), ("notification_email", "a@b.example")]) => Customer, 404;
        GET "/portal/organizations/{id}/licenses/{license}" at "/portal/organizations/1/licenses/x" => Customer, 404;
        GET "/portal/organizations/{id}/billing" at "/portal/organizations/1/billing" => Customer, 404;
        POST "/portal/organizations/{id}/billing/account" at "/portal/organizations/1/billing/account" body form(&[("legal_name", "x"), ("country", "DE")]) => Customer, 404;
        POST "/portal/organizations/{id}/billing/payment-method" at "/portal/organizations/1/billing/payment-method" body form(&[("payment_method", "bank_transfer")]) => Customer, 404;
        GET "/portal/organizations/{id}/invoices/{invoice}" at "/portal/organizations/1/invoices/1" => Customer, 404;
        GET "/portal/organizations/{id}/invoices/{invoice}/print" at "/portal/organizations/1/invoices/1/print" => Customer, 404;
        POST "/portal/organizations/{id}/leave" at "/portal/organizations/1/leave" => Customer, 404;
        POST "/portal/organizations/{id}/deletion-request" at "/portal/organizations/1/deletion-request" body form(&[("reason", "")]) => Customer, 404;
        POST "/portal/organizations/{id}/members/{member}/remove" at "/portal/organizations/1/members/1/remove" => Customer, 404;
        POST "/portal/organizations/{id}/members/{member}/role" at "/portal/organizations/1/members/1/role" body form(&[("role", "member")]) => Customer, 404;
        POST "/portal/organizations/{id}/members/{member}/transfer" at "/portal/organizations/1/members/1/transfer" => Customer, 404;
        POST "/portal/organizations/{id}/invitations" at "/portal/organizations/1/invitations" body form(&[("email", "b@b.example"), ("role", "member")]) => Customer, 404;
        POST "/portal/organizations/{id}/invitations/{invitation}/resend" at "/portal/organizations/1/invitations/1/resend" => Customer, 404;
        POST "/portal/organizations/{id}/invitations/{invitation}/revoke" at "/portal/organizations/1/invitations/1/revoke" => Customer, 404;
        GET "/portal/organizations/{id}/purchase" at "/portal/organizations/1/purchase" => Customer, 404;
        POST "/portal/organizations/{id}/purchase" at "/portal/organizations/1/purchase" body form(&[("install_id", "x"), ("internal_users", "5")]) => Customer, 404;
        POST "/portal/organizations/{id}/purchase/checkout" at "/portal/organizations/1/purchase/checkout" body form(&[("install_id", "x"), ("internal_users", "5")]) => Customer, 404;
        POST "/portal/organizations/{id}/subscriptions/{subscription}/cancel" at "/portal/organizations/1/subscriptions/1/cancel" => Customer, 404;
        POST "/portal/organizations/{id}/subscriptions/{subscription}/resume" at "/portal/organizations/1/subscriptions/1/resume" => Customer, 404;
        GET "/portal/organizations/{id}/subscriptions/{subscription}/change" at "/portal/organizations/1/subscriptions/1/change" => Customer, 404;
        POST "/portal/organizations/{id}/subscriptions/{subscription}/change" at "/portal/organizations/1/subscriptions/1/change" body form(&[("internal_users", "5"), ("external_users", "0")]) => Customer, 404;
        GET "/portal/invitation" at "/portal/invitation?token=x" => Public, 404;
        POST "/portal/invitation" body form(&[("token", "x")]) => Customer, 404;
        POST "/portal/invitation/signup" body form(&[("token", "x"), ("password", "p")]) => Public, 404;
    }
}

/// Who sends a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Role(Role),
    /// A super_admin who must still change a one-time password.
    Pending,
    /// A verified customer of the portal (by its account id), with its session cookie
    /// and CSRF token.
    Customer(i64),
    Anonymous,
}

fn send(
    s: &TestServer,
    route: &Route,
    sample: &Sample,
    caller: Caller,
    token: Option<&str>,
) -> Response {
    let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
    let mut req = client().request(method, s.url(&sample.path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut csrf = None;
    if let Caller::Customer(id) = caller {
        let t = s.app.tenants.public().unwrap();
        let session =
            licd::service::portal_auth::open_session(&s.app, &t, s.clock.now_utc(), id, "")
                .unwrap();
        let token = licd::service::secrets::csrf_token(&session.secret);
        req = req
            .header("cookie", format!("licd_portal={}", session.secret))
            .header("x-csrf-token", &token);
        csrf = Some(token);
    }
    if let Some(body) = &sample.body {
        req = match route.surface {
            Surface::Api => req.json(body),
            Surface::Console | Surface::Portal => {
                let mut fields: Vec<(String, String)> = body
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                fields.extend(csrf.map(|t| ("csrf".to_owned(), t)));
                req.form(&fields)
            }
        };
    }
    req.send().unwrap()
}

/// What a caller should get: the status and, for refusals, the problem code (API) or a
/// phrase of the page (console) or where a redirect goes.
#[derive(Debug, PartialEq)]
enum Outcome {
    Status(u16),
    Problem(u16, &'static str),
    Page(u16, &'static str),
    Redirect(&'static str),
}

/// What a caller gets on the portal: a customer what the sample says (read-only mode
/// refuses only its `Write` routes); staff credentials and nobody are strangers there.
fn expected_on_portal(route: &Route, sample: &Sample, caller: Caller, read_only: bool) -> Outcome {
    if let Caller::Customer(_) = caller {
        if read_only && route.read_only == ReadOnly::Write {
            return Outcome::Page(403, "Not possible right now");
        }
        return Outcome::Status(sample.admitted);
    }
    match (sample.needs, route.method, &sample.body) {
        // A form post without the portal's cookies: the CSRF check refuses it first.
        (Access::Public, "POST", Some(_)) => Outcome::Page(403, "This form is out of date"),
        (Access::Public, _, _) => Outcome::Status(sample.admitted),
        (_, "POST", Some(_)) => Outcome::Page(403, "Your session has ended"),
        _ => Outcome::Redirect("/portal/login?next="),
    }
}

fn expected(route: &Route, sample: &Sample, caller: Caller, read_only: bool) -> Outcome {
    if route.surface == Surface::Portal {
        return expected_on_portal(route, sample, caller, read_only);
    }
    // A customer's portal cookie is nothing off the portal.
    let caller = match caller {
        Caller::Customer(_) => Caller::Anonymous,
        other => other,
    };
    let console = route.surface == Surface::Console;
    let refused = |code: &'static str, phrase: &'static str| {
        if console {
            Outcome::Page(403, phrase)
        } else {
            Outcome::Problem(403, code)
        }
    };
    let identified = caller != Caller::Anonymous;
    if sample.needs == Access::TenancyKey {
        // The matrix server runs with tenancy off: the routes do not exist for anyone.
        return Outcome::Problem(404, "tenancy_disabled");
    }
    if sample.needs == Access::GatewaySigned {
        // The matrix server has no gateway secret: the route is off for everyone.
        return Outcome::Problem(404, "gateway_disabled");
    }
    if read_only && identified && route.read_only == ReadOnly::Write {
        return refused("license_read_only", "licd is read-only");
    }
    match (sample.needs, caller) {
        (Access::Public | Access::MetricsToken | Access::Appliance(_), Caller::Anonymous)
            if console && route.method == "POST" && sample.body.is_some() =>
        {
            // A form post without any licd cookie: the CSRF check refuses it first.
            Outcome::Page(403, "Nothing was changed")
        }
        (Access::Public | Access::MetricsToken | Access::Appliance(_), _) => {
            Outcome::Status(sample.admitted)
        }
        (_, Caller::Anonymous) => match (console, route.method, &sample.body) {
            (false, _, _) => Outcome::Problem(401, "unauthenticated"),
            (true, "POST", Some(_)) => Outcome::Page(403, "Your session has ended"),
            (true, _, _) => Outcome::Redirect("/login?next="),
        },
        (Access::PendingPasswordOk, _) => Outcome::Status(sample.admitted),
        (_, Caller::Pending) if console => Outcome::Redirect("/password"),
        (_, Caller::Pending) => Outcome::Problem(403, "password_change_required"),
        (Access::Permission(p), Caller::Role(role)) if !role.can(p) => {
            refused("forbidden", "Permission denied")
        }
        _ => Outcome::Status(sample.admitted),
    }
}

/// Checks one response against what was expected; console routes never answer with the
/// API's problem+json.
fn check(route: &Route, caller: Caller, read_only: bool, want: &Outcome, resp: Response) {
    let here = format!(
        "{} {} as {caller:?}{}",
        route.method,
        route.path,
        if read_only { " (read-only)" } else { "" }
    );
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.text().unwrap();
    if route.surface.is_html() {
        assert!(
            !ct.contains("problem+json"),
            "{here}: a console or portal route answered the API's problem body: {body}"
        );
    }
    match want {
        Outcome::Status(s) => assert_eq!(status, *s, "{here}: {body}"),
        Outcome::Problem(s, code) => {
            assert_eq!(status, *s, "{here}: {body}");
            assert_eq!(ct, "application/problem+json", "{here}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["code"], *code, "{here}: {body}");
        }
        Outcome::Page(s, phrase) => {
            assert_eq!(status, *s, "{here}: {body}");
            assert!(ct.starts_with("text/html"), "{here}: {ct}");
            assert!(
                body.contains(phrase) && body.contains("id=\"error-back\""),
                "{here}: the page should say {phrase:?} and link back: {body}"
            );
        }
        Outcome::Redirect(to) => {
            assert_eq!(status, 303, "{here}: {body}");
            let location = location.unwrap_or_default();
            assert!(location.starts_with(to), "{here}: to {location}");
        }
    }
}

/// Every registered route has a sample, every sample a route, and the table says what
/// the sample expects the route to need.
pub(crate) fn matched(routes: &[Route]) -> Vec<(Route, Sample)> {
    let mut samples = samples();
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for r in routes {
        match samples.remove(&(r.method, r.path)) {
            Some(sample) => out.push((r.clone(), sample)),
            None => missing.push(format!("{} {}", r.method, r.path)),
        }
    }
    assert!(
        missing.is_empty(),
        "registered routes without a sample request and expected outcome in \
         tests/it/permissions.rs `samples()`: {missing:#?}"
    );
    let stale: Vec<_> = samples.keys().collect();
    assert!(
        stale.is_empty(),
        "samples for routes that are not registered: {stale:?}"
    );
    let disagree: Vec<String> = out
        .iter()
        .filter(|(r, s)| r.access != s.needs)
        .map(|(r, s)| {
            format!(
                "{} {}: the route table says it needs {}, the matrix expects {}",
                r.method, r.path, r.access, s.needs
            )
        })
        .collect();
    assert!(disagree.is_empty(), "{disagree:#?}");
    out
}

/// Sends every sample as every caller and checks the outcome.
fn run_matrix(
    s: &TestServer,
    cases: &[(Route, Sample)],
    callers: &[(Caller, Option<String>)],
    read_only: bool,
) -> usize {
    let mut checked = 0;
    for (route, sample) in cases {
        for (caller, token) in callers {
            let want = expected(route, sample, *caller, read_only);
            let resp = send(s, route, sample, *caller, token.as_deref());
            check(route, *caller, read_only, &want, resp);
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_route_for_every_caller_in_and_out_of_read_only_mode() {
    let routes = routing::registered();
    assert!(routes.len() >= 90, "only {} routes", routes.len());
    let cases = matched(&routes);

    let v = crate::enterprise::vendor();
    let s = crate::enterprise::start(&v);
    let mut callers: Vec<(Caller, Option<String>)> = Role::ALL
        .iter()
        .map(|r| (Caller::Role(*r), Some(s.role_token(*r))))
        .collect();
    let tenant = s.app.tenants.public().unwrap();
    let pending = licd::service::staff::create(
        &tenant,
        s.clock.now_utc(),
        &Actor::Cli,
        licd::service::staff::NewStaffInput {
            email: "pending@example.com".into(),
            display_name: String::new(),
            role: Role::SuperAdmin,
            password: None,
        },
        12,
    )
    .unwrap();
    callers.push((Caller::Pending, Some(s.token_for(pending.user.id))));
    let customer = licd::service::portal_auth::create(
        &s.app,
        &tenant,
        s.clock.now_utc(),
        "matrix-customer@example.com",
        "",
        "a-good-long-password",
        true,
    )
    .unwrap();
    callers.push((Caller::Customer(customer), None));
    callers.push((Caller::Anonymous, None));
    let checked = run_matrix(&s, &cases, &callers, false);
    assert_eq!(checked, cases.len() * callers.len());

    // Read-only mode: five staff accounts and a one-seat license, six weeks on.
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &tenant.install_id, 1, now, 365);
    enterprise::install(&s.app, &tenant, now, &Actor::Cli, &key).unwrap();
    s.clock.advance(chrono::Duration::days(42));
    enterprise::refresh(&tenant, s.clock.now_utc(), &Actor::System).unwrap();
    assert!(tenant.own_stage().read_only());
    run_matrix(&s, &cases, &callers, true);
}

/// The OpenAPI document names, for every staff operation, the permission the matrix
/// expects as the scope of its bearer-token and session requirements.
#[test]
fn the_reference_names_each_operations_permission() {
    let s = TestServer::start();
    let doc: Value = client()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let cases = matched(&routing::registered());
    for (route, sample) in cases.iter().filter(|(r, _)| r.surface == Surface::Api) {
        let Some(op) = doc["paths"][route.path].get(route.method.to_lowercase()) else {
            continue; // static files are not in the reference
        };
        let security = &op["security"];
        let here = format!("{} {}: {security}", route.method, route.path);
        match sample.needs {
            Access::Permission(p) => {
                assert_eq!(security[0]["bearer_token"], json!([p.as_str()]), "{here}");
                assert_eq!(security[1]["session_cookie"], json!([p.as_str()]), "{here}");
            }
            Access::SignedIn | Access::PendingPasswordOk => {
                assert_eq!(security[0]["bearer_token"], json!([]), "{here}");
            }
            Access::Appliance(Proof::ActivationSecret) => {
                assert_eq!(security[0]["activation_secret"], json!([]), "{here}");
            }
            Access::MetricsToken => assert_eq!(security[0]["metrics_token"], json!([]), "{here}"),
            Access::TenancyKey => {
                assert_eq!(security, &json!([{"tenancy_key": []}]), "{here}")
            }
            Access::GatewaySigned => {
                assert_eq!(security, &json!([{"gateway_signature": []}]), "{here}")
            }
            Access::Public
            | Access::Appliance(_)
            | Access::Customer
            | Access::CustomerUnverified => assert!(security.is_null(), "{here}"),
        }
        let csrf = security[1].get("csrf_token").is_some();
        assert_eq!(
            csrf,
            route.method != "GET" && sample.needs.is_staff(),
            "{here}: the CSRF header goes with state-changing staff requests"
        );
    }
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
        for (label, need) in [
            ("Dashboard", None),
            ("Licenses", Some(Permission::LicenseRead)),
            ("Installations", Some(Permission::LicenseRead)),
            ("Heartbeats", Some(Permission::LicenseRead)),
            ("Provisioning", Some(Permission::LicenseIssue)),
            ("Signing keys", Some(Permission::SigningManage)),
            ("Licensing settings", Some(Permission::SettingsManage)),
            ("Organizations", Some(Permission::OrgsManage)),
            ("Staff users", Some(Permission::UsersManage)),
            ("Enterprise", Some(Permission::SettingsManage)),
            ("TLS", Some(Permission::LicenseRead)),
            ("API tokens", None),
            ("Audit log", Some(Permission::AuditRead)),
            ("Customer accounts", Some(Permission::OrgsManage)),
        ] {
            let link = format!(">{label}</a>");
            assert_eq!(
                nav.contains(&link),
                need.is_none_or(|p| role.can(p)),
                "{role}: {label}: {nav}"
            );
        }
    }
}

/// The tenancy routes, with tenancy on: no staff credential of any role works, nor a
/// pending account's, nor nothing, nor a wrong key (401 `tenancy_key_invalid`); the
/// configured key gets each sample's status. (With tenancy off, the matrix above gets
/// 404 `tenancy_disabled` for every caller, in and out of read-only mode.)
#[test]
fn tenancy_routes_take_a_tenancy_key_and_nothing_else() {
    const KEY: &str = "matrix-tenancy-key-0123456789abcdef";
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(KEY.into());
    });
    let cases: Vec<(Route, Sample)> = matched(&routing::registered())
        .into_iter()
        .filter(|(r, _)| r.access == Access::TenancyKey)
        .collect();
    assert!(cases.len() >= 2);
    let mut refused: Vec<(Caller, Option<String>)> = Role::ALL
        .iter()
        .map(|r| (Caller::Role(*r), Some(s.role_token(*r))))
        .collect();
    refused.push((Caller::Anonymous, None));
    refused.push((Caller::Anonymous, Some(format!("{KEY}x"))));
    refused.push((Caller::Anonymous, Some(KEY[..KEY.len() - 1].to_owned())));
    for (route, sample) in &cases {
        for (caller, token) in &refused {
            let resp = send(&s, route, sample, *caller, token.as_deref());
            let want = Outcome::Problem(401, "tenancy_key_invalid");
            check(route, *caller, false, &want, resp);
        }
        let resp = send(&s, route, sample, Caller::Anonymous, Some(KEY));
        let want = Outcome::Status(sample.admitted);
        check(route, Caller::Anonymous, false, &want, resp);
    }
}

/// The body of the gateway route's sample (an invoice that does not exist).
fn gateway_sample() -> Value {
    json!({"invoice_number": "INV-2026-999999", "amount_minor": 1, "currency": "EUR",
           "received_on": "2026-06-01", "idempotency_key": "matrix", "method": "card", "tenant": "public"})
}

/// The gateway route, with a secret configured: no staff credential of any role works,
/// nor a pending account's, nor nothing, nor a signature with another secret (401
/// `signature_invalid`); the gateway's signature gets the sample's status. (Without a
/// secret, the matrix above gets 404 `gateway_disabled` for every caller.)
#[test]
fn the_gateway_route_takes_its_signature_and_nothing_else() {
    let s = crate::billing_gateway::gateway_server(&[crate::billing_gateway::SECRET]);
    let cases: Vec<(Route, Sample)> = matched(&routing::registered())
        .into_iter()
        .filter(|(r, _)| r.access == Access::GatewaySigned)
        .collect();
    assert_eq!(cases.len(), 1);
    let mut refused: Vec<(Caller, Option<String>)> = Role::ALL
        .iter()
        .map(|r| (Caller::Role(*r), Some(s.role_token(*r))))
        .collect();
    refused.push((Caller::Anonymous, None));
    for (route, sample) in &cases {
        for (caller, token) in &refused {
            let resp = send(&s, route, sample, *caller, token.as_deref());
            check(
                route,
                *caller,
                false,
                &Outcome::Problem(401, "signature_invalid"),
                resp,
            );
        }
        let body = serde_json::to_vec(sample.body.as_ref().unwrap()).unwrap();
        let other = crate::billing_gateway::signed(&s, "x".repeat(40).as_str(), &body);
        let resp = other.bearer_auth(s.admin_token()).send().unwrap();
        check(
            route,
            Caller::Anonymous,
            false,
            &Outcome::Problem(401, "signature_invalid"),
            resp,
        );
        let resp = crate::billing_gateway::signed(&s, crate::billing_gateway::SECRET, &body)
            .send()
            .unwrap();
        let want = Outcome::Status(sample.admitted);
        check(route, Caller::Anonymous, false, &want, resp);
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
