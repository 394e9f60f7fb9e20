//! Where the links in licd's emails point. Never at the Host a request came with (on the
//! default tenant any Host reaches licd, so a link made from it could be an attacker's:
//! the password-reset poisoning attack); always at an address from configuration:
//!
//! - a tenant with domains: its primary domain (the first added);
//! - else `server.public_url`, when set;
//! - else the first of `tls.hostnames`, else `localhost`, with the scheme and port licd
//!   listens with.

use super::tenant::Tenant;
use super::{App, Result, recovery, tenant_domains};

/// The origin (`https://portal.example.com`, no trailing slash) links of `tenant` use.
pub fn origin(app: &App, tenant: &Tenant) -> Result<String> {
    let config = &app.config;
    if let Some(domain) = tenant_domains::primary(&app.tenants, &tenant.schema_name)? {
        return Ok(recovery::origin(config, &domain));
    }
    if let Some(url) = config.server.public_url.as_deref() {
        let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        return Ok(format!("{}://{authority}", scheme.to_ascii_lowercase()));
    }
    let host = config
        .tls
        .hostnames
        .first()
        .map_or("localhost", String::as_str);
    Ok(recovery::origin(config, host))
}

/// A link to `path` (which starts with `/`) on `tenant`'s origin.
pub fn url(app: &App, tenant: &Tenant, path: &str) -> Result<String> {
    Ok(format!("{}{path}", origin(app, tenant)?))
}
