//! Tenant domains: the host names routed to each tenant (the tenancy API's
//! `/tenants/{schema_name}/domains`), and routing a request's `Host` to its tenant with
//! `tenancy.unknown_hosts` applied. A domain belongs to one tenant; a tenant's primary
//! domain (where its recovery links point) is the first one added. Adding or removing
//! one changes routing at once and has the local CA's server certificate reissued to
//! name every tenant domain. Every call is recorded in the registry's audit chain.

use super::tenancy::record;
use super::tenants::{Tenant, Tenants, host_name};
use super::{Actor, App, Result, ServiceError, refuse, tls};
use crate::config::UnknownHosts;
use crate::domain::dns_name;
use crate::error::ErrorCode;
use crate::store::registry::{self, TenantState};
use crate::store::tenant_domains::{self as store, DomainRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A host name routed to a tenant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DomainInfo {
    /// Lower-case, without port or trailing dot.
    pub domain: String,
    /// Whether this is the tenant's primary domain (the first one added): its recovery
    /// links point there.
    pub primary: bool,
    pub created_at: DateTime<Utc>,
}

/// What `POST /api/v1/tenants/{schema_name}/domains` takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    /// A DNS host name (`acme.licensing.example`): labels of `a-z`, `0-9` and `-`, at
    /// most 253 characters; upper case is lowered and a trailing dot removed. No port,
    /// no IP address, no wildcard.
    #[schema(max_length = 253)]
    pub domain: String,
}

fn infos(rows: Vec<DomainRow>) -> Vec<DomainInfo> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| DomainInfo {
            domain: r.domain,
            primary: i == 0,
            created_at: r.created_at,
        })
        .collect()
}

/// Every domain of every tenant (the server certificate names them all).
pub fn all_domains(tenants: &Tenants) -> Result<Vec<String>> {
    let rows = tenants.registry().read(registry::list_domains)?;
    Ok(rows.into_iter().map(|(d, _)| d).collect())
}

/// The tenant's primary domain: the first one added.
pub fn primary(tenants: &Tenants, schema_name: &str) -> Result<Option<String>> {
    let rows = tenants
        .registry()
        .read(|tx| store::of_tenant(tx, schema_name))?;
    Ok(rows.into_iter().next().map(|r| r.domain))
}

/// Checks a domain as given: a DNS name (dns_name rules), lower-cased, trailing dot
/// removed; no wildcard (routing matches whole names).
pub fn check_domain(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let name = dns_name::check("domain", trimmed)?;
    if name.starts_with("*.") {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("domain: {raw:?} is a wildcard; a tenant's domain is one whole host name"),
        ));
    }
    Ok(name)
}

/// A ready tenant of this name, else 404.
fn ready_tenant(tenants: &Tenants, schema_name: &str) -> Result<()> {
    let row = tenants
        .registry()
        .read(|tx| registry::find_tenant(tx, schema_name))?;
    match row {
        Some(r) if r.state == TenantState::Ready => Ok(()),
        _ => Err(refuse(
            ErrorCode::NotFound,
            format!("no tenant has the schema_name {schema_name:?}"),
        )),
    }
}

/// A tenant's domains, primary first.
pub fn list(
    tenants: &Tenants,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
) -> Result<Vec<DomainInfo>> {
    let found = ready_tenant(tenants, schema_name).and_then(|()| {
        let rows = tenants
            .registry()
            .read(|tx| store::of_tenant(tx, schema_name))?;
        Ok(infos(rows))
    });
    let details = match &found {
        Ok(items) => serde_json::json!({ "count": items.len() }),
        Err(e) => serde_json::json!({ "outcome": "refused", "code": e.problem().code.as_str() }),
    };
    record(
        tenants,
        now,
        actor,
        "tenant.domain.list",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    found
}

/// Routes a new domain to a tenant (at once), then has the server certificate reissued
/// to name it. Refused while tenancy is off (`tenancy_disabled`), for a domain another
/// or the same tenant has (`domain_taken`), and for a name that is no DNS name.
pub fn add(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
    input: NewDomain,
) -> Result<Vec<DomainInfo>> {
    let tenants = &app.tenants;
    let made = (|| -> Result<String> {
        if !app.config.tenancy.enabled {
            return Err(refuse(
                ErrorCode::TenancyDisabled,
                "tenancy is off on this server (tenancy.enabled = false): no domain can be routed to a tenant",
            ));
        }
        let domain = check_domain(&input.domain)?;
        ready_tenant(tenants, schema_name)?;
        tenants.registry().write(|tx| {
            if let Some(owner) = store::owner(tx, &domain)? {
                return Err(refuse(
                    ErrorCode::DomainTaken,
                    format!("domain: {domain:?} is routed to the tenant {owner:?} already; a domain belongs to one tenant (remove it there first)"),
                ));
            }
            store::insert(
                tx,
                &DomainRow {
                    domain: domain.clone(),
                    schema_name: schema_name.to_owned(),
                    created_at: now,
                },
            )?;
            Ok::<_, ServiceError>(())
        })?;
        tenants.set_route(&domain, Some(schema_name));
        Ok(domain)
    })();
    let details = match &made {
        Ok(d) => serde_json::json!({ "outcome": "added", "domain": d }),
        Err(e) => serde_json::json!({
            "outcome": "refused",
            "domain": input.domain.chars().take(300).collect::<String>(),
            "code": e.problem().code.as_str(),
        }),
    };
    record(
        tenants,
        now,
        actor,
        "tenant.domain.add",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    made?;
    reissue_certificate(app, now);
    let rows = tenants
        .registry()
        .read(|tx| store::of_tenant(tx, schema_name))?;
    Ok(infos(rows))
}

/// Stops routing a domain to a tenant (at once), then has the server certificate
/// reissued without it. 404 when the tenant does not have this domain.
pub fn remove(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
    raw_domain: &str,
) -> Result<()> {
    let tenants = &app.tenants;
    let done = (|| -> Result<String> {
        let domain = check_domain(raw_domain)?;
        ready_tenant(tenants, schema_name)?;
        let removed = tenants
            .registry()
            .write(|tx| store::delete(tx, schema_name, &domain))?;
        if !removed {
            return Err(refuse(
                ErrorCode::NotFound,
                format!("the tenant {schema_name:?} has no domain {domain:?}"),
            ));
        }
        tenants.set_route(&domain, None);
        Ok(domain)
    })();
    let details = match &done {
        Ok(d) => serde_json::json!({ "outcome": "removed", "domain": d }),
        Err(e) => serde_json::json!({
            "outcome": "refused",
            "domain": raw_domain.chars().take(300).collect::<String>(),
            "code": e.problem().code.as_str(),
        }),
    };
    record(
        tenants,
        now,
        actor,
        "tenant.domain.remove",
        &format!("tenant:{schema_name}"),
        details,
    )?;
    done?;
    reissue_certificate(app, now);
    Ok(())
}

/// The domain change is made and recorded; a certificate that could not be issued is
/// logged (the scheduled renewal and the next start try again) rather than reported as
/// the change having failed.
fn reissue_certificate(app: &App, now: DateTime<Utc>) {
    if let Err(e) = tls::reissue_for_domains(app, now, || all_domains(&app.tenants)) {
        tracing::error!(error = %e.report(), "reissuing the server certificate for the tenant domains failed");
    }
}

/// The tenant a request's `Host` routes to: the tenant with that domain; otherwise
/// `public`, unless `tenancy.unknown_hosts = "refuse"` and the host is a name of no
/// tenant and none of the server's own (`localhost`, `tls.hostnames`,
/// `server.public_url`'s host) and no IP address: then 421 `unknown_host`. Opens the
/// tenant if it is closed (blocking: off the async executor).
pub fn route(app: &App, host: &str) -> Result<Arc<Tenant>> {
    refuse_unknown(app, host)?;
    app.tenants.resolve(host)
}

/// `route` without opening anything: `None` when the tenant is closed (then `route`
/// must open it, off the async executor).
pub fn route_open(app: &App, host: &str) -> Option<Result<Arc<Tenant>>> {
    if let Err(e) = refuse_unknown(app, host) {
        return Some(Err(e));
    }
    app.tenants.resolve_open(host).map(Ok)
}

/// `tenancy.unknown_hosts = "refuse"`: the refusal for a host that is no tenant's
/// domain, no IP address and none of the server's own names.
fn refuse_unknown(app: &App, host: &str) -> Result<()> {
    if app.config.tenancy.unknown_hosts != UnknownHosts::Refuse
        || app.tenants.domain_owner(host).is_some()
    {
        return Ok(());
    }
    let name = host_name(host);
    let own =
        name.parse::<std::net::IpAddr>().is_ok() || app.config.own_host_names().contains(&name);
    if own {
        return Ok(());
    }
    Err(refuse(
        ErrorCode::UnknownHost,
        format!(
            "no tenant on this server has the host name {name:?} (tenancy.unknown_hosts = \"refuse\")"
        ),
    ))
}
