//! Middleware that every request passes: request log, security headers, HTTPS
//! redirect, CSRF check, read-only mode.

pub mod csrf;
pub mod https_redirect;
pub mod read_only;
pub mod request_log;
pub mod security_headers;
