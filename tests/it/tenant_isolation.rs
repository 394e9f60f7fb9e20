//! Tenant isolation, table-driven over every registered route: tenant A's credentials
//! (an API token, a session cookie with its CSRF token, an appliance's activation
//! secret) presented on tenant B's host name are worth exactly nothing there. The
//! samples are the permission matrix's (`permissions::matched`), so a new route is in
//! this test as soon as it is in the matrix. Over real HTTPS: each tenant's host name
//! resolves to the server's loopback port and is in its certificate from the local CA.

use crate::harness::*;
use crate::permissions::{Sample, matched};
use crate::tenancy::{ENV_KEY, create};
use crate::tenant_routing::{add_domain, server_with_acme};
use licd::domain::permissions::Role;
use licd::http::routing::{self, Access, Route, Surface};
use licd::service::staff::{self, NewStaffInput};
use licd::service::{Actor, tokens};
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

const A_HOST: &str = "acme.localhost";
const B_HOST: &str = "beta.localhost";
const PASSWORD: &str = "a-good-long-password";

/// HTTPS to the tenants' host names: trusts only the site CA, resolves both names to
/// the server's loopback port, keeps no cookies (each request says what it presents)
/// and follows no redirect.
struct Web {
    client: reqwest::blocking::Client,
    port: u16,
}

impl Web {
    fn new(s: &TestServer) -> Web {
        let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
        let client = tls_client_builder(s.app.ca.cert_pem())
            .cookie_store(false)
            .resolve(A_HOST, ([127, 0, 0, 1], port).into())
            .resolve(B_HOST, ([127, 0, 0, 1], port).into())
            .build()
            .unwrap();
        Web { client, port }
    }

    fn request(&self, method: reqwest::Method, host: &str, path: &str) -> RequestBuilder {
        let url = format!("https://{host}:{}{path}", self.port);
        self.client.request(method, url)
    }

    fn get(&self, host: &str, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::GET, host, path)
    }

    fn post(&self, host: &str, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::POST, host, path)
    }
}

/// Two tenants on their own host names over HTTPS: `t_acme` (A) and `t_beta` (B).
fn two_tenants(v: &crate::enterprise::Vendor) -> (TestServer, Web) {
    let s = server_with_acme(v, |c| c.tls.enabled = true);
    assert_eq!(create(&s, "Beta Ltd", "t_beta").status(), 201);
    assert_eq!(add_domain(&s, "t_acme", A_HOST).status(), 201);
    assert_eq!(add_domain(&s, "t_beta", B_HOST).status(), 201);
    let web = Web::new(&s);
    (s, web)
}

/// How a request presents tenant A's staff credential.
#[derive(Debug, Clone, Copy)]
enum Credential {
    Token,
    Cookie,
}

/// A's credentials: a super_admin's API token, and a signed-in session (its cookie and
/// CSRF token).
struct AcmeStaff {
    token: String,
    cookie: String,
    csrf: String,
}

fn acme_staff(s: &TestServer, web: &Web) -> AcmeStaff {
    let acme = s.app.tenants.get("t_acme").expect("t_acme is open");
    let now = s.clock.now_utc();
    let input = NewStaffInput {
        email: "root@acme.example".into(),
        display_name: "Acme root".into(),
        role: Role::SuperAdmin,
        password: Some(PASSWORD.into()),
    };
    let id = staff::create(&acme, now, &Actor::Cli, input, 12)
        .unwrap()
        .user
        .id;
    let token = tokens::create(&acme, now, &Actor::Cli, id, "isolation", None)
        .unwrap()
        .secret;
    let r = web
        .post(A_HOST, "/api/v1/auth/login")
        .json(&json!({"email": "root@acme.example", "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "signing in on A's host");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-licd_session="))
        .expect("a session cookie");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body: Value = r.json().unwrap();
    AcmeStaff {
        token,
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// The sample's request on `host` with A's credential.
fn request(
    web: &Web,
    route: &Route,
    sample: &Sample,
    host: &str,
    a: &AcmeStaff,
    how: Credential,
) -> RequestBuilder {
    let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
    let mut req = web.request(method, host, &sample.path);
    match how {
        Credential::Token => req = req.bearer_auth(&a.token),
        Credential::Cookie => {
            req = req
                .header("cookie", &a.cookie)
                .header("x-csrf-token", &a.csrf)
        }
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
                fields.push(("csrf".into(), a.csrf.clone()));
                req.form(&fields)
            }
        };
    }
    req
}

/// Whether a response is a refusal for want of a credential that this host knows: the
/// API's 401 `unauthenticated`, or the console's way to the sign-in page.
fn refused_as_stranger(route: &Route, status: u16, location: Option<&str>, body: &str) -> bool {
    match route.surface {
        Surface::Api => {
            status == 401
                && serde_json::from_str::<Value>(body).is_ok_and(|v| v["code"] == "unauthenticated")
        }
        Surface::Console => {
            (status == 303 && location.is_some_and(|l| l.starts_with("/login")))
                || (status == 403 && body.contains("Your session has ended"))
        }
        Surface::Portal => {
            (status == 303 && location.is_some_and(|l| l.starts_with("/portal/login")))
                || (status == 403 && body.contains("Your session has ended"))
        }
    }
}

#[test]
fn a_tenants_staff_credentials_get_nothing_on_another_tenants_host() {
    let v = crate::enterprise::vendor();
    let (s, web) = two_tenants(&v);
    let a = acme_staff(&s, &web);

    let cases = matched(&routing::registered());
    let staff_routes: Vec<&(Route, Sample)> = cases
        .iter()
        .filter(|(_, sample)| {
            matches!(
                sample.needs,
                Access::Permission(_) | Access::SignedIn | Access::PendingPasswordOk
            )
        })
        .collect();
    assert!(
        staff_routes.len() >= 60,
        "{} staff routes",
        staff_routes.len()
    );

    // The credentials work where they belong (so the refusals below mean something).
    for how in [Credential::Token, Credential::Cookie] {
        let (route, sample) = staff_routes
            .iter()
            .find(|(r, _)| r.method == "GET" && r.path == "/api/v1/users")
            .unwrap();
        let r = request(&web, route, sample, A_HOST, &a, how)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{how:?} on A's own host");
    }

    let mut successes = Vec::new();
    let mut checked = 0;
    for (route, sample) in &staff_routes {
        for how in [Credential::Token, Credential::Cookie] {
            let r = request(&web, route, sample, B_HOST, &a, how)
                .send()
                .unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            let body = r.text().unwrap();
            if !refused_as_stranger(route, status, location.as_deref(), &body) {
                successes.push(format!(
                    "{} {} with A's {how:?} on B's host: {status} {}",
                    route.method,
                    sample.path,
                    body.chars().take(200).collect::<String>()
                ));
            }
            checked += 1;
        }
    }
    assert!(
        successes.is_empty(),
        "{} of {checked} requests got past the refusal: {successes:#?}",
        successes.len()
    );
    // The tenancy key is not a staff credential on any tenant's host either.
    let r = web
        .get(B_HOST, "/api/v1/users")
        .bearer_auth(ENV_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn tenants_have_their_own_keys_licenses_and_audit() {
    let v = crate::enterprise::vendor();
    let (s, web) = two_tenants(&v);
    let a = acme_staff(&s, &web);
    let jwks = |host: &str| -> Value {
        web.get(host, "/.well-known/jwks.json")
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let (ja, jb) = (jwks(A_HOST), jwks(B_HOST));
    assert_ne!(
        ja["keys"][0]["kid"], jb["keys"][0]["kid"],
        "one signing key each"
    );

    // A license issued in A: in A's list and audit, nowhere in B's.
    let r = web
        .post(A_HOST, "/api/v1/licenses")
        .bearer_auth(&a.token)
        .json(&json!({
            "name": "Acme appliance",
            "install_id": "acme-appliance-1",
            "internal_users": 5,
            "expires_at": "2030-01-01T00:00:00Z"
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let license: Value = r.json().unwrap();
    let id = license["id"].as_str().unwrap().to_owned();

    // The appliance side: A's license key and activation secret do nothing on B's host.
    let activate = |host: &str| {
        web.post(host, &format!("/api/v1/licenses/{id}/activate"))
            .json(&json!({
                "license_key": license["license_key"], "fingerprint": "fp-1",
                "install_id": "acme-appliance-1", "hostname": "box-1",
            }))
            .send()
            .unwrap()
    };
    let r = activate(B_HOST);
    assert!(
        matches!(r.status().as_u16(), 401 | 404),
        "activation on B: {}",
        r.status()
    );
    let r = activate(A_HOST);
    assert_eq!(r.status(), 200, "activation on A");
    let secret = r.json::<Value>().unwrap()["activation_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let heartbeat = |host: &str| {
        web.post(host, &format!("/api/v1/licenses/{id}/heartbeat"))
            .bearer_auth(&secret)
            .json(
                &json!({"fingerprint": "fp-1", "seq": 1, "internal_users": 1, "external_users": 0}),
            )
            .send()
            .unwrap()
    };
    let r = heartbeat(B_HOST);
    assert!(
        matches!(r.status().as_u16(), 401 | 404),
        "heartbeat on B: {}",
        r.status()
    );
    assert_eq!(heartbeat(A_HOST).status(), 200, "heartbeat on A");

    let beta = s.app.tenants.get("t_beta").unwrap();
    let now = s.clock.now_utc();
    let input = NewStaffInput {
        email: "root@beta.example".into(),
        display_name: String::new(),
        role: Role::SuperAdmin,
        password: Some(PASSWORD.into()),
    };
    let id = staff::create(&beta, now, &Actor::Cli, input, 12)
        .unwrap()
        .user
        .id;
    let b_token = tokens::create(&beta, now, &Actor::Cli, id, "isolation", None)
        .unwrap()
        .secret;
    let get = |host: &str, token: &str, path: &str| -> Value {
        let r = web.get(host, path).bearer_auth(token).send().unwrap();
        assert_eq!(r.status(), 200, "{path} on {host}");
        r.json().unwrap()
    };
    assert_eq!(
        get(A_HOST, &a.token, "/api/v1/licenses")["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(B_HOST, &b_token, "/api/v1/licenses")["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let audit_b = get(B_HOST, &b_token, "/api/v1/audit").to_string();
    assert!(
        !audit_b.contains("license.issue"),
        "B's audit shows A's license: {audit_b}"
    );
    assert!(
        !audit_b.contains("root@acme.example"),
        "B's audit names A's staff"
    );
    let audit_a = get(A_HOST, &a.token, "/api/v1/audit").to_string();
    assert!(audit_a.contains("license.issue"), "{audit_a}");
    assert!(
        !audit_a.contains("root@beta.example"),
        "A's audit names B's staff"
    );
}

/// A customer's portal session of tenant A is nobody on B's host: every portal route for
/// customers refuses it there as it would a stranger (each tenant has its own customers
/// and sessions, and the cookie names a session only in its own tenant's database).
#[test]
fn a_tenants_customer_session_gets_nothing_on_another_tenants_host() {
    let v = crate::enterprise::vendor();
    let (s, web) = two_tenants(&v);
    let acme = s.app.tenants.get("t_acme").expect("t_acme is open");
    let now = s.clock.now_utc();
    let id = licd::service::portal_auth::create(
        &s.app,
        &acme,
        now,
        "buyer@acme.example",
        "",
        PASSWORD,
        true,
    )
    .unwrap();
    let session = licd::service::portal_auth::open_session(&s.app, &acme, now, id, "").unwrap();
    let customer = AcmeStaff {
        token: String::new(),
        cookie: format!("__Host-licd_portal={}", session.secret),
        csrf: licd::service::secrets::csrf_token(&session.secret),
    };
    let cases = matched(&routing::registered());
    let portal_routes: Vec<&(Route, Sample)> = cases
        .iter()
        .filter(|(_, sample)| sample.needs.is_customer())
        .collect();
    assert!(portal_routes.len() >= 5, "{}", portal_routes.len());
    let (route, sample) = portal_routes
        .iter()
        .find(|(r, _)| r.method == "GET" && r.path == "/portal/account")
        .unwrap();
    let r = request(&web, route, sample, A_HOST, &customer, Credential::Cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "on A's own host");
    for (route, sample) in &portal_routes {
        let r = request(&web, route, sample, B_HOST, &customer, Credential::Cookie)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = r.text().unwrap();
        assert!(
            refused_as_stranger(route, status, location.as_deref(), &body),
            "{} {} with A's customer session on B's host: {status} {location:?}",
            route.method,
            sample.path
        );
    }
}
