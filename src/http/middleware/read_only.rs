//! Read-only mode (seed 000): while licd's own license is in read-only violation, only
//! the routes the route table registers as `ReadOnly::AllowedInReadOnly` may change
//! anything; every other state-changing request (a registered `Write` route, or a path
//! no route serves) is refused with `license_read_only`: problem+json on the API, an HTML
//! page with a way back on the console. Reading always works.

use crate::error::{ErrorCode, Problem};
use crate::http::auth::{Identity, state, tenant_of};
use crate::http::customer_auth::PortalIdentity;
use crate::http::problem::problem_response;
use crate::http::routing::{self, Access, ReadOnly, Route, Surface};
use crate::http::ui::reject::UiReject;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};

/// Whether a request may change something in read-only mode (by the route table).
pub fn allowed(method: &str, path: &str) -> bool {
    writable(routing::lookup(method, path))
}

fn writable(route: Option<&Route>) -> bool {
    route.is_some_and(|r| r.read_only != ReadOnly::Write)
}

const WHY: &str = "licd is read-only because its own license is in violation; install a valid \
     license under Enterprise > Licenses, or reduce the number of users, to restore it";

pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Reads always pass; a write is looked at only while licd is read-only (the route
    // table's lookup is most of this middleware's cost, on every heartbeat).
    let read_only = !req.method().is_safe()
        && state(req.request())
            .ok()
            .and_then(|s| tenant_of(req.request(), &s).ok())
            .is_some_and(|t| t.own_stage().read_only());
    if read_only {
        // Anonymous callers are left to the route (which answers 401), except on routes
        // anyone may use (a portal sign-up).
        let identified = matches!(
            req.extensions().get::<Identity>(),
            Some(Identity::Caller(_))
        ) || matches!(
            req.extensions().get::<PortalIdentity>(),
            Some(PortalIdentity::Customer(_))
        );
        let route = routing::lookup(req.method().as_str(), req.path());
        let public = route.is_some_and(|r| r.access == Access::Public);
        if (identified || public) && !writable(route) {
            let resp = if routing::surface_of(req.path()) == Some(Surface::Portal) {
                UiReject::form_refused(
                    req.request(),
                    "Not possible right now",
                    "The licensing server is read-only for the moment (the vendor's own license needs attention), so this change cannot be made. Signing in and your own account still work; try again later.",
                )
                .error_response()
            } else if routing::surface_of(req.path()) == Some(Surface::Console) {
                UiReject::form_refused(
                    req.request(),
                    "licd is read-only",
                    &format!("{WHY}. Signing in, licd's own licenses, user changes and revoking credentials still work."),
                )
                .error_response()
            } else {
                problem_response(&Problem::new(ErrorCode::LicenseReadOnly, WHY))
            };
            return Ok(req.into_response(resp));
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exactly the writes that worked in read-only mode before the route table (issue
    /// 10's allow-list), and no other.
    #[test]
    fn the_table_allows_exactly_the_writes_that_keep_working() {
        let mut allowed: Vec<(&str, &str)> = routing::registered()
            .into_iter()
            .filter(|r| r.read_only == ReadOnly::AllowedInReadOnly)
            .map(|r| (r.method, r.path))
            .collect();
        allowed.sort();
        let mut expected = vec![
            ("POST", "/login"),
            ("POST", "/logout"),
            ("POST", "/password"),
            ("POST", "/api/v1/auth/login"),
            ("POST", "/api/v1/auth/logout"),
            ("POST", "/api/v1/auth/password"),
            ("POST", "/api/v1/enterprise/licenses"),
            // Not a staff route: the tenancy key is no staff member, and creating a
            // tenant refuses a read-only default tenant itself, naming that check.
            ("POST", "/api/v1/tenants"),
            ("POST", "/api/v1/tenants/{schema_name}/domains"),
            ("DELETE", "/api/v1/tenants/{schema_name}/domains/{domain}"),
            ("POST", "/api/v1/tenants/{schema_name}/recovery-key"),
            ("POST", "/recover"),
            // The tenancy API's other writes, for the same reason: renaming, deleting
            // (to an archive) and restoring a tenant do not act as staff of the host's
            // tenant.
            ("PATCH", "/api/v1/tenants/{schema_name}"),
            ("DELETE", "/api/v1/tenants/{schema_name}"),
            ("POST", "/api/v1/tenants/{schema_name}/restore"),
            ("DELETE", "/api/v1/enterprise/licenses/{id}"),
            ("POST", "/enterprise/licenses"),
            ("POST", "/enterprise/licenses/{id}/remove"),
            ("PATCH", "/api/v1/users/{id}"),
            ("POST", "/api/v1/users/{id}/reset-password"),
            ("POST", "/users/{id}/role"),
            ("POST", "/users/{id}/disable"),
            ("POST", "/users/{id}/enable"),
            ("POST", "/users/{id}/reset-password"),
            ("DELETE", "/api/v1/tokens/{id}"),
            ("POST", "/tokens/{id}/revoke"),
            // A service account's tokens, revoked by staff: like one's own.
            ("DELETE", "/api/v1/users/{id}/tokens/{token_id}"),
            ("POST", "/users/{id}/tokens/{token_id}/revoke"),
            ("DELETE", "/api/v1/provisioning-tokens/{id}"),
            ("POST", "/licensing/provisioning/{id}/revoke"),
            ("POST", "/api/v1/licenses/{id}/revoke"),
            ("POST", "/licensing/licenses/{id}/revoke"),
            ("POST", "/api/v1/signing-keys/{kid}/retire"),
            ("POST", "/licensing/signing/{kid}/retire"),
            ("POST", "/api/v1/licenses/{id}/activate"),
            ("POST", "/api/v1/licenses/{id}/heartbeat"),
            ("POST", "/api/v1/provision"),
            // The air gap: what appliances that never reach licd need, carried by staff.
            ("POST", "/api/v1/licenses/{id}/offline-activations"),
            ("POST", "/api/v1/licenses/{id}/offline-releases"),
            ("POST", "/api/v1/licenses/{id}/bundles"),
            ("POST", "/api/v1/licenses/{id}/usage-reports"),
            ("POST", "/licensing/licenses/{id}/air-gap"),
            ("POST", "/licensing/licenses/{id}/bundle"),
            ("POST", "/api/v1/licenses/health/sweep"),
            ("POST", "/licensing/sweep"),
            // The portal: signing in and out, emailed links, one's own account (user
            // changes). Only a new account (sign-up) is refused.
            ("POST", "/portal/login"),
            ("POST", "/portal/logout"),
            // Shows what a purchase would invoice; writes nothing.
            ("POST", "/portal/organizations/{id}/purchase/checkout"),
            ("POST", "/portal/verify"),
            ("POST", "/portal/verify/resend"),
            ("POST", "/portal/password/forgot"),
            ("POST", "/portal/password/reset"),
            ("POST", "/portal/account/name"),
            ("POST", "/portal/account/password"),
            // Staff changes to customer accounts are user changes.
            ("PATCH", "/api/v1/customers/{id}"),
            ("POST", "/api/v1/customers/{id}/reset-password"),
            ("POST", "/api/v1/customers/{id}/resend-verification"),
            ("POST", "/customers/accounts/{id}/disable"),
            ("POST", "/customers/accounts/{id}/enable"),
            ("POST", "/customers/accounts/{id}/reset-password"),
            ("POST", "/customers/accounts/{id}/resend-verification"),
            // Money received is recorded whatever the vendor's own license says.
            ("POST", "/api/v1/billing/invoices/{id}/payments"),
            ("POST", "/billing/invoices/{id}/payments"),
            // The same, confirmed by the payment gateway (not a staff caller anyway).
            ("POST", "/api/v1/billing/payments"),
        ];
        expected.sort();
        assert_eq!(allowed, expected);
    }

    #[test]
    fn requests_are_matched_to_their_route() {
        assert!(allowed("POST", "/api/v1/licenses/abc/heartbeat"));
        assert!(allowed("POST", "/api/v1/licenses/abc/revoke"));
        assert!(!allowed("POST", "/api/v1/licenses/abc/suspend"));
        assert!(allowed("PATCH", "/api/v1/users/7"));
        assert!(!allowed("POST", "/api/v1/users"));
        assert!(!allowed("POST", "/api/v1/licenses//heartbeat"));
        assert!(!allowed("POST", "/nowhere"), "no route: refused");
    }
}
