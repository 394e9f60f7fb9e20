//! Tenant domains and Host routing over real HTTP(S) on loopback: the domains API,
//! `tenancy.unknown_hosts`, and the server certificate reissued for tenant domains.

use crate::harness::*;
use crate::tenancy::{ENV_KEY, create, registry_audit};
use licd::config::Config;
use serde_json::{Value, json};

/// A server with tenancy on (key `env`), trusting the vendor for its own licenses, the
/// public tenant licensed for 5 users a year, and the tenant `t_acme` ("Acme Corp").
pub(crate) fn server_with_acme(
    v: &crate::enterprise::Vendor,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    let jwks = v.jwks.clone();
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(ENV_KEY.into());
        tweak(c);
    });
    let public = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &public.install_id, 5, now, 365);
    licd::service::enterprise::install(&s.app, &public, now, &licd::service::Actor::Cli, &key)
        .unwrap();
    let r = create(&s, "Acme Corp", "t_acme");
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    s
}

pub(crate) fn add_domain(
    s: &TestServer,
    schema_name: &str,
    domain: &str,
) -> reqwest::blocking::Response {
    s.client()
        .post(s.url(&format!("/api/v1/tenants/{schema_name}/domains")))
        .bearer_auth(ENV_KEY)
        .json(&json!({ "domain": domain }))
        .send()
        .unwrap()
}

fn remove_domain(s: &TestServer, schema_name: &str, domain: &str) -> reqwest::blocking::Response {
    s.client()
        .delete(s.url(&format!("/api/v1/tenants/{schema_name}/domains/{domain}")))
        .bearer_auth(ENV_KEY)
        .send()
        .unwrap()
}

fn list_domains(s: &TestServer, schema_name: &str) -> Vec<(String, bool)> {
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/tenants/{schema_name}/domains")))
        .bearer_auth(ENV_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["domain"].as_str().unwrap().to_owned(),
                d["primary"] == true,
            )
        })
        .collect()
}

/// The signing key id of the tenant the `Host` is routed to (its public JWKS).
fn kid_at(s: &TestServer, host: &str) -> reqwest::blocking::Response {
    s.client()
        .get(s.url("/.well-known/jwks.json"))
        .header("host", host)
        .send()
        .unwrap()
}

fn kid(r: reqwest::blocking::Response) -> String {
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    v["keys"][0]["kid"].as_str().unwrap().to_owned()
}

fn kid_of(s: &TestServer, schema_name: &str) -> String {
    let t = s.app.tenants.get(schema_name).unwrap();
    t.keyring().unwrap().jwks().keys[0].kid.clone().unwrap()
}

#[test]
fn domains_route_hosts_to_their_tenant_at_once_and_belong_to_one_tenant() {
    let v = crate::enterprise::vendor();
    let s = server_with_acme(&v, |_| {});
    let (acme, public) = (kid_of(&s, "t_acme"), kid_of(&s, "public"));
    assert_ne!(acme, public);
    // Before: the name is unknown, so it reaches public.
    assert_eq!(kid(kid_at(&s, "acme.example")), public);

    // Lower-cased, trailing dot removed; the first is the primary domain.
    let r = add_domain(&s, "t_acme", "Acme.Example.");
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let r = add_domain(&s, "t_acme", "licensing.acme.example");
    assert_eq!(r.status(), 201);
    let body: Value = r.json().unwrap();
    assert_eq!(body["items"][0]["domain"], "acme.example");
    assert_eq!(body["items"][0]["primary"], true);
    assert_eq!(body["items"][1]["primary"], false);
    assert_eq!(
        list_domains(&s, "t_acme"),
        [
            ("acme.example".to_owned(), true),
            ("licensing.acme.example".to_owned(), false)
        ]
    );
    // The tenant API shows them too, in that order.
    let t: Value = s
        .client()
        .get(s.url("/api/v1/tenants/t_acme"))
        .bearer_auth(ENV_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        t["domains"],
        json!(["acme.example", "licensing.acme.example"])
    );

    // Routed at once, whatever the case, port or trailing dot of the Host.
    for host in [
        "acme.example",
        "ACME.example:8443",
        "acme.example.",
        "licensing.acme.example",
    ] {
        assert_eq!(kid(kid_at(&s, host)), acme, "{host}");
    }
    assert_eq!(kid(kid_at(&s, "other.example")), public);

    // A domain belongs to one tenant: not again, not to public, whatever its spelling.
    for (tenant, domain) in [("t_acme", "acme.example"), ("public", "ACME.example.")] {
        let body = expect_problem(add_domain(&s, tenant, domain), 409, "domain_taken");
        assert!(
            body["detail"].as_str().unwrap().contains("\"t_acme\""),
            "{body}"
        );
    }
    // public may have domains too.
    assert_eq!(add_domain(&s, "public", "licd.example").status(), 201);
    assert_eq!(kid(kid_at(&s, "licd.example")), public);

    // Not a host name: refused with the rule.
    for bad in [
        "acme.example:8443",
        "10.0.0.1",
        "*.acme.example",
        "",
        "a..b",
        "-a.example",
        "a b.example",
    ] {
        let body = expect_problem(add_domain(&s, "t_acme", bad), 422, "validation_failed");
        assert!(
            body["detail"].as_str().unwrap().starts_with("domain: "),
            "{bad}: {body}"
        );
    }
    // No such tenant.
    expect_problem(add_domain(&s, "t_nowhere", "x.example"), 404, "not_found");
    expect_problem(
        remove_domain(&s, "t_nowhere", "x.example"),
        404,
        "not_found",
    );
    // Not this tenant's domain.
    expect_problem(
        remove_domain(&s, "public", "acme.example"),
        404,
        "not_found",
    );

    // Removed: routing stops at once.
    assert_eq!(remove_domain(&s, "t_acme", "ACME.example").status(), 204);
    assert_eq!(kid(kid_at(&s, "acme.example")), public);
    assert_eq!(kid(kid_at(&s, "licensing.acme.example")), acme);
    expect_problem(
        remove_domain(&s, "t_acme", "acme.example"),
        404,
        "not_found",
    );
    // The remaining one is the primary domain now.
    assert_eq!(
        list_domains(&s, "t_acme"),
        [("licensing.acme.example".to_owned(), true)]
    );

    // Routing survives a restart (it is the registry's).
    let jwks = v.jwks.clone();
    let s = TestServer::start_in(s.stop(), move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(ENV_KEY.into());
    });
    assert_eq!(kid(kid_at(&s, "licensing.acme.example")), acme);

    // Every call is in the registry's chain, refusals with their code.
    let calls: Vec<String> = registry_audit(&s)
        .into_iter()
        .filter(|(_, action, _, _)| action.starts_with("tenant.domain."))
        .map(|(actor, action, target, details)| {
            let d: Value = serde_json::from_str(&details).unwrap();
            format!(
                "{actor} {action} {target} {} {}",
                d["outcome"].as_str().unwrap_or("-"),
                d["code"].as_str().or(d["domain"].as_str()).unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        calls[..3],
        [
            "tenancy_key:env tenant.domain.add tenant:t_acme added acme.example",
            "tenancy_key:env tenant.domain.add tenant:t_acme added licensing.acme.example",
            "tenancy_key:env tenant.domain.list tenant:t_acme - -",
        ]
    );
    assert!(
        calls.contains(
            &"tenancy_key:env tenant.domain.add tenant:public refused domain_taken".to_owned()
        ),
        "{calls:#?}"
    );
    assert!(
        calls.contains(
            &"tenancy_key:env tenant.domain.remove tenant:t_acme removed acme.example".to_owned()
        ),
        "{calls:#?}"
    );
    let verified = licd::service::tenancy::verify_registry(&s.app.tenants).unwrap();
    assert_eq!(verified.broken, None);
}

#[test]
fn with_tenancy_off_no_domain_can_be_added() {
    let s = TestServer::start();
    let err = licd::service::tenant_domains::add(
        &s.app,
        s.clock.now_utc(),
        &licd::service::Actor::Cli,
        "public",
        licd::service::tenant_domains::NewDomain {
            domain: "licd.example".into(),
        },
    )
    .unwrap_err();
    assert_eq!(err.problem().code.as_str(), "tenancy_disabled");
    assert!(s.app.tenants.domain_owner("licd.example").is_none());
}

#[test]
fn unknown_hosts_refuse_answers_421_but_the_servers_own_names_reach_public() {
    let v = crate::enterprise::vendor();
    let s = server_with_acme(&v, |c| {
        c.tenancy.unknown_hosts = licd::config::UnknownHosts::Refuse;
        c.tls.hostnames = vec!["licd.plant.example".into()];
        c.server.public_url = Some("https://console.plant.example:8443".into());
    });
    assert_eq!(add_domain(&s, "t_acme", "acme.example").status(), 201);
    let public = kid_of(&s, "public");
    let body = expect_problem(kid_at(&s, "nowhere.example"), 421, "unknown_host");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("\"nowhere.example\""),
        "{body}"
    );
    // A console page is refused too (the tenant decides whose page it would be).
    let r = s
        .client()
        .get(s.url("/login"))
        .header("host", "nowhere.example")
        .send()
        .unwrap();
    assert_eq!(r.status(), 421);
    // The server's own names and any IP address reach public; the domain its tenant.
    for host in [
        "localhost",
        "LOCALHOST:8080",
        "127.0.0.1",
        "[::1]:8080",
        "10.1.2.3",
        "licd.plant.example",
        "console.plant.example:8443",
    ] {
        assert_eq!(kid(kid_at(&s, host)), public, "{host}");
    }
    assert_eq!(kid(kid_at(&s, "acme.example")), kid_of(&s, "t_acme"));
    // Health checks need no tenant.
    let r = s
        .client()
        .get(s.url("/healthz"))
        .header("host", "nowhere.example")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A client trusting only the site CA that resolves `name` to the server's loopback port.
fn resolving(s: &TestServer, name: &str) -> (reqwest::blocking::Client, String) {
    let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let c = tls_client_builder(s.app.ca.cert_pem())
        .resolve(name, ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    (c, format!("https://{name}:{port}"))
}

fn served_names(s: &TestServer) -> Vec<String> {
    s.app.tls.as_ref().unwrap().info().names
}

#[test]
fn the_server_certificate_is_reissued_for_tenant_domains_without_a_restart() {
    let v = crate::enterprise::vendor();
    let s = server_with_acme(&v, |c| c.tls.enabled = true);
    let before = s.app.tls.as_ref().unwrap().info();
    // Not in the certificate yet: the handshake fails verification.
    let (c, base) = resolving(&s, "acme.localhost");
    let err = c.get(format!("{base}/healthz")).send().unwrap_err();
    assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");

    assert_eq!(add_domain(&s, "t_acme", "acme.localhost").status(), 201);
    let after = s.app.tls.as_ref().unwrap().info();
    assert_ne!(after.sha256, before.sha256);
    assert!(
        after.names.contains(&"acme.localhost".to_owned()),
        "{:?}",
        after.names
    );
    assert!(
        after.names.contains(&"localhost".to_owned()),
        "{:?}",
        after.names
    );
    // A new client (a new handshake) to the tenant's name now succeeds, and is routed.
    let (c, base) = resolving(&s, "acme.localhost");
    let r = c
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .unwrap();
    assert_eq!(kid(r), kid_of(&s, "t_acme"));
    // The certificate is stored and audited in public's chain.
    let stored = std::fs::read_to_string(s.data_dir().join("ca/server.pem")).unwrap();
    let stored = licd::pki::tls::ServerCert::from_pem(
        stored.as_bytes(),
        std::fs::read(s.data_dir().join("ca/server.key"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert_eq!(stored.info.sha256, after.sha256);
    let public = s.app.tenants.public().unwrap();
    let audit = licd::service::audit::export(&public, Default::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "tls.server_certificate_reissued" && e.target == after.sha256),
        "{audit:?}"
    );

    // A restart keeps the stored certificate (it names every domain).
    let jwks = v.jwks.clone();
    let s = TestServer::start_in(s.stop(), move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(ENV_KEY.into());
        c.tls.enabled = true;
    });
    assert_eq!(s.app.tls.as_ref().unwrap().info().sha256, after.sha256);

    // Removed: reissued without it.
    assert_eq!(remove_domain(&s, "t_acme", "acme.localhost").status(), 204);
    assert!(!served_names(&s).contains(&"acme.localhost".to_owned()));
    let (c, base) = resolving(&s, "acme.localhost");
    let err = c.get(format!("{base}/healthz")).send().unwrap_err();
    assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");
}
