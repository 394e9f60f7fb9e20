//! Middleware that every request passes: request log, security headers, HTTPS
//! redirect, body deadline, CSRF check, tenant routing, read-only mode.

pub mod body_deadline;
pub mod csrf;
pub mod https_redirect;
pub mod read_only;
pub mod request_log;
pub mod security_headers;
pub mod tenant_routing;
