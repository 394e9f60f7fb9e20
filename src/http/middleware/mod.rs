//! Middleware that every request passes: request log, security headers, CSRF check.

pub mod csrf;
pub mod read_only;
pub mod request_log;
pub mod security_headers;
