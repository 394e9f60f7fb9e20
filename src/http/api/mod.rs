//! The JSON API under `/api/v1`, one file per resource, and its part of the route table.

pub mod appliance;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod billing_gateway;
pub mod billing_summary;
pub mod customers;
pub mod enterprise;
pub mod heartbeats;
pub mod installations;
pub mod license_actions;
pub mod license_keys;
pub mod licenses;
pub mod licensing_settings;
pub mod offline;
pub mod organizations;
pub mod provisioning_tokens;
pub mod signing_keys;
pub mod subscriptions;
pub mod sweep;
pub mod tenants;
pub mod tls;
pub mod tokens;
pub mod users;

use super::routing::{Access, Proof, ReadOnly, Routes};
use crate::domain::permissions::Permission;

/// The API's part of the route table.
pub fn routes(r: &mut Routes) {
    use Access::{Appliance, PendingPasswordOk, Public, SignedIn};
    use Permission::*;
    use ReadOnly::{AllowedInReadOnly, Write};
    let need = Access::Permission;

    // Heartbeats first: they are most of the traffic, and actix tries each path's
    // pattern in registration order (a regular expression for each path with a
    // parameter). No path registered below matches what this pattern matches.
    r.api(appliance::HEARTBEAT_ROUTE).post(
        Appliance(Proof::ActivationSecret),
        AllowedInReadOnly,
        appliance::heartbeat,
    );
    r.api("/api/v1/openapi.json")
        .get(Public, super::openapi::serve);
    r.api("/api/v1/auth/login")
        .post(Public, AllowedInReadOnly, auth::login);
    r.api("/api/v1/auth/logout")
        .post(PendingPasswordOk, AllowedInReadOnly, auth::logout);
    r.api("/api/v1/auth/password").post(
        PendingPasswordOk,
        AllowedInReadOnly,
        auth::change_password,
    );
    r.api("/api/v1/me").get(PendingPasswordOk, auth::me);
    r.api("/api/v1/tls").get(need(LicenseRead), tls::overview);

    r.api("/api/v1/users")
        .get(need(UsersManage), users::list)
        .post(need(UsersManage), Write, users::create);
    r.api("/api/v1/users/{id}")
        .get(need(UsersManage), users::get)
        .patch(need(UsersManage), AllowedInReadOnly, users::update);
    r.api("/api/v1/users/{id}/reset-password").post(
        need(UsersManage),
        AllowedInReadOnly,
        users::reset_password,
    );
    r.api("/api/v1/users/{id}/tokens")
        .get(need(UsersManage), users::service_tokens)
        .post(need(UsersManage), Write, users::create_service_token);
    r.api("/api/v1/users/{id}/tokens/{token_id}").delete(
        need(UsersManage),
        AllowedInReadOnly,
        users::revoke_service_token,
    );

    r.api("/api/v1/customers")
        .get(need(OrgsManage), customers::list);
    r.api("/api/v1/customers/{id}")
        .get(need(OrgsManage), customers::get)
        .patch(need(OrgsManage), AllowedInReadOnly, customers::update);
    r.api("/api/v1/customers/{id}/reset-password").post(
        need(OrgsManage),
        AllowedInReadOnly,
        customers::reset_password,
    );
    r.api("/api/v1/customers/{id}/resend-verification").post(
        need(OrgsManage),
        AllowedInReadOnly,
        customers::resend_verification,
    );

    r.api("/api/v1/tokens")
        .get(SignedIn, tokens::list)
        .post(SignedIn, Write, tokens::create);
    r.api("/api/v1/tokens/{id}")
        .delete(SignedIn, AllowedInReadOnly, tokens::revoke);

    r.api("/api/v1/audit").get(need(AuditRead), audit::list);
    r.api("/api/v1/audit/export")
        .get(need(AuditRead), audit::export);

    r.api("/api/v1/licenses/health/sweep")
        .post(need(SweepRun), AllowedInReadOnly, sweep::run);
    r.api("/api/v1/licenses")
        .get(need(LicenseRead), licenses::list)
        .post(need(LicenseIssue), Write, licenses::issue);
    r.api("/api/v1/licenses/{id}")
        .get(need(LicenseRead), licenses::get);
    r.api("/api/v1/licenses/{id}/activate").post(
        Appliance(Proof::LicenseKey),
        AllowedInReadOnly,
        appliance::activate,
    );
    r.api("/api/v1/licenses/{id}/revoke").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        license_actions::revoke,
    );
    r.api("/api/v1/licenses/{id}/rebind")
        .post(need(LicenseRevoke), Write, license_actions::rebind);
    r.api("/api/v1/licenses/{id}/suspend").post(
        need(LicenseRevoke),
        Write,
        license_actions::suspend,
    );
    r.api("/api/v1/licenses/{id}/reinstate").post(
        need(LicenseRevoke),
        Write,
        license_actions::reinstate,
    );
    r.api("/api/v1/licenses/{id}/subscription").post(
        need(LicenseRevoke),
        Write,
        license_actions::subscription,
    );
    r.api("/api/v1/licenses/{id}/directives").post(
        need(LicenseRevoke),
        Write,
        license_actions::directive,
    );
    // The air gap: what appliances that never reach licd need (never held hostage by
    // licd's own license, like activation).
    r.api("/api/v1/licenses/{id}/offline-activations").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        offline::activate,
    );
    r.api("/api/v1/licenses/{id}/offline-releases").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        offline::release,
    );
    r.api("/api/v1/licenses/{id}/bundles").post(
        need(LicenseRevoke),
        AllowedInReadOnly,
        offline::bundle,
    );
    r.api("/api/v1/licenses/{id}/usage-reports")
        .get(need(LicenseRevoke), offline::list)
        .post(need(LicenseRevoke), AllowedInReadOnly, offline::ingest);
    r.api("/api/v1/licenses/{id}/renew")
        .post(need(LicenseIssue), Write, license_keys::renew);
    r.api("/api/v1/licenses/{id}/change")
        .post(need(LicenseIssue), Write, license_keys::change);
    r.api("/api/v1/licenses/{id}/reissue")
        .post(need(LicenseIssue), Write, license_keys::reissue);
    r.api("/api/v1/licenses/{id}/organization").post(
        need(OrgsManage),
        Write,
        organizations::move_license,
    );

    r.api("/api/v1/billing/summary")
        .get(need(BillingManage), billing_summary::summary);
    r.api("/api/v1/billing/invoices")
        .get(need(BillingManage), billing::list)
        .post(need(BillingManage), Write, billing::create);
    r.api("/api/v1/billing/invoices/{id}")
        .get(need(BillingManage), billing::get);
    r.api("/api/v1/billing/invoices/{id}/lines")
        .put(need(BillingManage), Write, billing::lines);
    r.api("/api/v1/billing/invoices/{id}/finalize").post(
        need(BillingManage),
        Write,
        billing::finalize,
    );
    r.api("/api/v1/billing/invoices/{id}/payments").post(
        need(BillingManage),
        AllowedInReadOnly,
        billing::payment,
    );
    r.api("/api/v1/billing/invoices/{id}/void")
        .post(need(BillingManage), Write, billing::void);
    r.api("/api/v1/billing/invoices/{id}/credit-notes").post(
        need(BillingManage),
        Write,
        billing::credit_note,
    );
    r.api("/api/v1/billing/invoices/{id}/accept-purchase-order")
        .post(
            need(BillingManage),
            Write,
            subscriptions::accept_purchase_order,
        );
    r.api("/api/v1/billing/subscriptions")
        .get(need(BillingManage), subscriptions::list);
    // The payment gateway, by its signature only (no staff credential); recording a
    // payment works in read-only mode, as it does for staff.
    r.api("/api/v1/billing/payments").post(
        Access::GatewaySigned,
        AllowedInReadOnly,
        billing_gateway::payment,
    );
    r.api("/api/v1/billing/price-list")
        .get(need(BillingManage), billing::get_price_list)
        .put(need(BillingManage), Write, billing::put_price_list);
    r.api("/api/v1/organizations")
        .get(need(OrgsManage), organizations::search);
    r.api("/api/v1/organizations/{id}")
        .get(need(OrgsManage), organizations::get)
        .delete(need(OrgsManage), Write, organizations::delete);

    // AllowedInReadOnly: the read-only middleware concerns staff callers; creating a
    // tenant checks the default tenant's license itself and names the check that failed.
    r.api("/api/v1/tenants")
        .get(Access::TenancyKey, tenants::list)
        .post(Access::TenancyKey, AllowedInReadOnly, tenants::create);
    r.api("/api/v1/tenants/{schema_name}")
        .get(Access::TenancyKey, tenants::get)
        .patch(Access::TenancyKey, AllowedInReadOnly, tenants::rename)
        .delete(Access::TenancyKey, AllowedInReadOnly, tenants::delete);
    r.api("/api/v1/tenants/{schema_name}/restore").post(
        Access::TenancyKey,
        AllowedInReadOnly,
        tenants::restore,
    );
    r.api("/api/v1/tenants/{schema_name}/domains")
        .get(Access::TenancyKey, tenants::domains)
        .post(Access::TenancyKey, AllowedInReadOnly, tenants::add_domain);
    r.api("/api/v1/tenants/{schema_name}/recovery-key").post(
        Access::TenancyKey,
        AllowedInReadOnly,
        tenants::recovery_key,
    );
    r.api("/api/v1/tenants/{schema_name}/domains/{domain}")
        .delete(
            Access::TenancyKey,
            AllowedInReadOnly,
            tenants::remove_domain,
        );

    r.api("/api/v1/licensing/heartbeats")
        .get(need(LicenseRead), heartbeats::list);
    r.api("/api/v1/licensing/settings")
        .get(need(SettingsManage), licensing_settings::get)
        .put(need(SettingsManage), Write, licensing_settings::put);
    r.api("/api/v1/signing-keys")
        .get(need(SigningManage), signing_keys::list)
        .post(need(SigningManage), Write, signing_keys::rotate);
    r.api("/api/v1/signing-keys/{kid}/retire").post(
        need(SigningManage),
        AllowedInReadOnly,
        signing_keys::retire,
    );
    r.api("/api/v1/signing-keys/{kid}/reissue").post(
        need(LicenseIssue),
        Write,
        license_keys::reissue_all,
    );
    r.api("/api/v1/provisioning-tokens")
        .get(need(LicenseIssue), provisioning_tokens::list)
        .post(need(LicenseIssue), Write, provisioning_tokens::create);
    r.api("/api/v1/provisioning-tokens/{id}").delete(
        need(LicenseIssue),
        AllowedInReadOnly,
        provisioning_tokens::revoke,
    );
    r.api("/api/v1/provision").post(
        Appliance(Proof::ProvisioningToken),
        AllowedInReadOnly,
        appliance::provision,
    );

    r.api("/api/v1/enterprise")
        .get(need(SettingsManage), enterprise::overview);
    r.api("/api/v1/enterprise/licenses").post(
        need(SettingsManage),
        AllowedInReadOnly,
        enterprise::install,
    );
    r.api("/api/v1/enterprise/licenses/{id}").delete(
        need(SettingsManage),
        AllowedInReadOnly,
        enterprise::remove,
    );

    r.api("/api/v1/installations")
        .get(need(LicenseRead), installations::list);
    r.api("/api/v1/installations/{install_id}")
        .get(need(LicenseRead), installations::get);
    r.api("/api/v1/installations/{install_id}/usage")
        .get(need(LicenseRead), installations::usage);

    r.api("/.well-known/jwks.json").get(Public, appliance::jwks);
}
