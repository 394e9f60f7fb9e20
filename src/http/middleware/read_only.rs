//! Read-only mode (seed 000): while licd's own license is in read-only violation, only
//! the writes in `ALLOWED` work; every other state-changing request is refused with
//! `license_read_only`. Reading always works.

use crate::error::{ErrorCode, Problem};
use crate::http::auth::{Identity, state, tenant_of};
use crate::http::problem::problem_response;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

/// Writes that keep working in read-only mode: signing in and out and changing one's
/// password; installing and removing licd's own licenses; modifying users; revoking
/// credentials of every kind (API tokens, provisioning tokens, licenses, signing keys:
/// a leaked credential must always be stoppable); and the appliance-facing endpoints
/// and the health sweep (the fleet is never held hostage by the vendor's own license).
/// `{}` matches one path segment.
pub const ALLOWED: &[(&str, &str)] = &[
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/password"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/api/v1/enterprise/licenses"),
    ("DELETE", "/api/v1/enterprise/licenses/{}"),
    ("POST", "/enterprise/licenses"),
    ("POST", "/enterprise/licenses/{}/remove"),
    ("PATCH", "/api/v1/users/{}"),
    ("POST", "/api/v1/users/{}/reset-password"),
    ("POST", "/users/{}/role"),
    ("POST", "/users/{}/disable"),
    ("POST", "/users/{}/enable"),
    ("POST", "/users/{}/reset-password"),
    ("DELETE", "/api/v1/tokens/{}"),
    ("POST", "/tokens/{}/revoke"),
    ("DELETE", "/api/v1/provisioning-tokens/{}"),
    ("POST", "/licensing/provisioning/{}/revoke"),
    ("POST", "/api/v1/licenses/{}/revoke"),
    ("POST", "/licensing/licenses/{}/revoke"),
    ("POST", "/api/v1/signing-keys/{}/retire"),
    ("POST", "/licensing/signing/{}/retire"),
    ("POST", "/api/v1/licenses/{}/activate"),
    ("POST", "/api/v1/licenses/{}/heartbeat"),
    ("POST", "/api/v1/provision"),
    // The fleet health sweep keeps reconciling appliances (and licd's own stage).
    ("POST", "/api/v1/licenses/health/sweep"),
    ("POST", "/licensing/sweep"),
];

/// Whether `path` matches `pattern` (`{}` = any one non-empty segment).
fn matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.trim_end_matches('/').split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("{}"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

pub fn allowed(method: &str, path: &str) -> bool {
    ALLOWED
        .iter()
        .any(|(m, p)| *m == method && matches(p, path))
}

pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Anonymous callers are left to the route (which answers 401).
    let identified = matches!(
        req.extensions().get::<Identity>(),
        Some(Identity::Caller(_))
    );
    if identified && !req.method().is_safe() && !allowed(req.method().as_str(), req.path()) {
        let read_only = state(req.request())
            .ok()
            .and_then(|s| tenant_of(req.request(), &s).ok())
            .is_some_and(|t| t.own_stage().read_only());
        if read_only {
            let p = Problem::new(
                ErrorCode::LicenseReadOnly,
                "licd is read-only because its own license is in violation; install a valid license under \
                 Enterprise > Licenses, or reduce the number of users, to restore it",
            );
            return Ok(req.into_response(problem_response(&p)));
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_segment() {
        assert!(allowed("POST", "/api/v1/licenses/abc/heartbeat"));
        assert!(allowed("POST", "/api/v1/licenses/abc/revoke"));
        assert!(!allowed("POST", "/api/v1/licenses/abc/suspend"));
        assert!(allowed("PATCH", "/api/v1/users/7"));
        assert!(!allowed("POST", "/api/v1/users"));
        assert!(!allowed("GET", "/api/v1/licenses//heartbeat"));
        assert!(allowed("POST", "/login/"));
    }
}
