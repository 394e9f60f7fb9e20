//! The API reference at `/api/v1/openapi.json`: valid OpenAPI 3.1, and it describes
//! exactly the machine-facing routes the server registers (a new route without a
//! `#[utoipa::path]` in the document fails here, and so does a documented route that
//! is gone).

use crate::harness::*;
use licd::domain::permissions::Role;
use licd::error::ErrorCode;
use licd::http::routing::{self, Surface};
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Machine-facing routes that are not part of the API: the console's static files.
const NOT_IN_REFERENCE: &[&str] = &["/static/{path:.*}"];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document as a client gets it, and its text.
fn fetch(s: &TestServer) -> (Value, String) {
    let r = client().get(s.url("/api/v1/openapi.json")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = r.text().unwrap();
    (serde_json::from_str(&text).unwrap(), text)
}

/// (method, path) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, _) in item.as_object().unwrap() {
            if METHODS.contains(&key.as_str()) {
                out.insert((key.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// Every (method, path, operation) in the document.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, op) in item.as_object().unwrap() {
            if METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[test]
fn the_reference_documents_every_route_and_no_other() {
    let s = TestServer::start();
    let (doc, _) = fetch(&s);
    // The route table, as the server registered it.
    let all = routing::registered();
    assert!(
        all.iter()
            .any(|r| r.surface == Surface::Console && r.path == "/login"),
        "console pages are registered as such"
    );
    let registered: BTreeSet<(String, String)> = all
        .into_iter()
        .filter(|r| r.surface == Surface::Api && !NOT_IN_REFERENCE.contains(&r.path))
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert!(registered.contains(&("GET".into(), "/api/v1/openapi.json".into())));
    let documented = documented(&doc);
    let missing: Vec<_> = registered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes the OpenAPI document lacks (add #[utoipa::path] and list the handler in \
         src/http/openapi.rs): {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "documented operations no route serves: {stale:?}"
    );
}

/// Every `$ref` in `v`, with where it was found.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(r) = x.as_str() {
                        out.push((at.clone(), r));
                    }
                } else {
                    refs(x, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_reference_is_valid_openapi_3_1() {
    let s = TestServer::start();
    let (doc, text) = fetch(&s);

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(doc["info"]["title"], "licd");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    // An independent OpenAPI 3.1 model reads it. (utoipa's own model cannot: it does not
    // read back the empty "any value" schema `{}` it writes for JSON values.)
    let spec = oas3::from_json(&text).expect("oas3 parses the document");
    spec.validate_version()
        .expect("a supported OpenAPI version");

    // Every reference resolves inside the document.
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(!found.is_empty());
    for (at, r) in &found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{at}: {r} does not resolve");
    }
    let mut n = 0;
    for (path, method, op) in spec.operations() {
        op.parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: parameters: {e}"));
        op.request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: request body: {e}"));
        let declared = op.responses.as_ref().map_or(0, |r| r.len());
        assert_eq!(
            op.responses(&spec).len(),
            declared,
            "{method} {path}: every response resolves"
        );
        n += 1;
    }
    assert_eq!(n, documented(&doc).len(), "oas3 sees every operation");

    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let here = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{here}: no operationId"));
        assert!(
            ids.insert(id.to_owned()),
            "{here}: operationId {id} is not unique"
        );
        assert!(op["summary"].is_string(), "{here}: no summary");
        let op_tags = op["tags"].as_array().unwrap();
        assert!(!op_tags.is_empty(), "{here}: no tag");
        for t in op_tags {
            assert!(
                tags.contains(t.as_str().unwrap()),
                "{here}: undeclared tag {t}"
            );
        }

        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{here}: no success response"
        );
        // Problem responses: every example is a problem body of its response's status.
        for (status, r) in responses {
            assert!(
                r["description"].is_string(),
                "{here} {status}: no description"
            );
            let Some(problem) = r["content"].get("application/problem+json") else {
                continue;
            };
            assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
            let examples = problem["examples"].as_object().unwrap();
            assert!(!examples.is_empty(), "{here} {status}: no codes");
            for (code, ex) in examples {
                let c = ErrorCode::ALL
                    .iter()
                    .find(|c| c.as_str() == code)
                    .unwrap_or_else(|| panic!("{here}: unknown code {code}"));
                assert_eq!(c.status().to_string(), *status, "{here}: {code}");
                let ex = ex["$ref"]
                    .as_str()
                    .and_then(|r| doc.pointer(r.strip_prefix('#')?))
                    .unwrap_or(ex);
                assert_eq!(ex["value"]["code"], *code, "{here}: example for {code}");
                assert_eq!(
                    ex["value"]["status"],
                    c.status().as_u16(),
                    "{here}: example for {code}"
                );
                assert!(
                    r["description"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("`{code}`")),
                    "{here} {status}: description does not name {code}"
                );
            }
        }
        assert!(
            responses.contains_key("500"),
            "{here}: internal errors are not documented"
        );

        // Path parameters: declared for every {name} in the path, required, and no others.
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let declared: BTreeMap<&str, &Value> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| (p["name"].as_str().unwrap(), p))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            in_path,
            declared.keys().copied().collect(),
            "{here}: path parameters"
        );
        for (name, p) in declared {
            assert_eq!(p["required"], true, "{here}: {name} must be required");
        }

        // Security requirements name declared schemes.
        for req in op["security"].as_array().into_iter().flatten() {
            for name in req.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{here}: unknown scheme {name}");
            }
        }
    }
    assert!(ids.len() >= 40, "only {} operations", ids.len());
}

/// Spot checks that the codes documented are the codes answered.
#[test]
fn documented_codes_are_what_routes_answer() {
    let s = TestServer::start();
    let (doc, _) = fetch(&s);
    let codes = |path: &str, method: &str, status: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"][status]["content"]["application/problem+json"]
            ["examples"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let c = client();

    let r = c.get(s.url("/api/v1/users")).send().unwrap();
    expect_problem(r, 401, "unauthenticated");
    assert!(codes("/api/v1/users", "get", "401").contains(&"unauthenticated".into()));
    assert!(codes("/api/v1/users", "get", "403").contains(&"forbidden".into()));

    let r = c.get(s.url("/api/v1/users/abc")).send().unwrap();
    expect_problem(r, 401, "unauthenticated");
    assert!(codes("/api/v1/users/{id}", "get", "404").contains(&"not_found".into()));

    let r = c
        .post(s.url("/api/v1/provision"))
        .json(&serde_json::json!({
            "token": "lprov_nope", "install_id": "i-1", "fingerprint": "fp-1"
        }))
        .send()
        .unwrap();
    expect_problem(r, 401, "provisioning_token_invalid");
    assert!(
        codes("/api/v1/provision", "post", "401").contains(&"provisioning_token_invalid".into())
    );
    let r = c
        .post(s.url("/api/v1/provision"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .unwrap();
    expect_problem(r, 400, "malformed_json");
    assert!(codes("/api/v1/provision", "post", "400").contains(&"malformed_json".into()));

    // Read-only mode: allow-listed writes do not list it, others do.
    assert!(codes("/api/v1/users", "post", "403").contains(&"license_read_only".into()));
    assert!(!codes("/api/v1/users/{id}", "patch", "403").contains(&"license_read_only".into()));
    assert!(codes("/api/v1/users", "post", "403").contains(&"csrf_failed".into()));
    assert!(
        codes("/api/v1/users", "get", "403")
            .iter()
            .all(|c| c != "csrf_failed")
    );

    // The permission behind `forbidden` is named.
    let d = doc["paths"]["/api/v1/audit"]["get"]["responses"]["403"]["description"]
        .as_str()
        .unwrap();
    assert!(d.contains("audit.read"), "{d}");
}

/// Console pages link to the reference.
#[test]
fn the_console_links_to_the_reference() {
    let s = TestServer::start();
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c.get(s.url("/")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .unwrap()
            .contains(r#"href="/api/v1/openapi.json""#)
    );
}

// ---------------------------------------------------------------------------------
// Request bodies: every one the document names refuses unknown fields, and every limit
// its schema documents is the server's own (issue 10, items D and E).

/// Who sends a sample request.
enum Auth {
    Admin,
    Bearer(String),
    Anonymous,
    /// The body signed as the payment gateway (`Licd-Signature`).
    Gateway,
}

/// A request the server accepts: path parameters, credential and a minimal valid body.
struct Call {
    params: Vec<(&'static str, String)>,
    auth: Auth,
    body: Value,
}

/// The server and what the samples need: an admin token and a vendor key the server
/// trusts for its own license.
struct Fixture<'a> {
    s: &'a TestServer,
    api: crate::licensing::Api<'a>,
    vendor: licd::pki::KeyPair,
    _vendor_dir: tempfile::TempDir,
}

impl<'a> Fixture<'a> {
    fn license(&self) -> Value {
        self.api.issue(crate::licensing::INSTALL, 365)
    }

    fn user(&self, password: &str) -> i64 {
        let email = format!("u-{}@example.com", uuid::Uuid::new_v4().simple());
        self.s.create_staff(&email, Role::Support, password)
    }

    fn own_license_key(&self) -> String {
        self.own_license_key_with_id("L-own")
    }

    /// A license of licd's own with this id (`sub` and `jti`).
    fn own_license_key_with_id(&self, id: &str) -> String {
        let own = self.s.app.tenants.public().unwrap().install_id.clone();
        let now = self.s.clock.now_utc();
        let claims = licd::domain::license::LicenseClaims {
            iss: "vendor".into(),
            sub: id.into(),
            jti: id.into(),
            aud: format!("licd:install:{own}"),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + chrono::Duration::days(365)).timestamp(),
            name: "licd".into(),
            org: "Acme".into(),
            internal_users: 100,
            external_users: 0,
            features: vec![],
            flags: vec![],
            ver: 1,
        };
        licd::pki::jws::sign(&self.vendor, licd::domain::license::LICENSE_TYP, &claims).unwrap()
    }
}

/// The fixture server's tenancy API key.
const TENANCY_KEY: &str = "fixture-tenancy-key-0123456789abcdef";

fn fixture_server() -> (TestServer, licd::pki::KeyPair, tempfile::TempDir) {
    let vendor = licd::pki::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("vendor.jwks.json");
    let set = licd::pki::keys::Jwks {
        keys: vec![vendor.public().to_jwk()],
    };
    std::fs::write(&jwks, serde_json::to_string(&set).unwrap()).unwrap();
    let gateway =
        crate::billing_gateway::secret_file(dir.path(), &[crate::billing_gateway::SECRET]);
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.billing.gateway_secret_file = Some(gateway);
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(TENANCY_KEY.into());
    });
    (s, vendor, dir)
}

/// A minimal valid request for every operation that takes a body, by operationId; each
/// call makes the resources it names (a license to revoke, a user to rename, ...). An
/// operation with a request body and no row here fails the tests below.
/// A new organization (its owner a new customer), for the billing samples.
fn billing_org(fx: &Fixture<'_>) -> i64 {
    let t = fx.s.app.tenants.public().unwrap();
    let now = fx.s.clock.now_utc();
    let email = format!("b-{}@example.com", uuid::Uuid::new_v4().simple());
    let id = licd::service::portal_auth::create(
        &fx.s.app,
        &t,
        now,
        &email,
        "",
        "a-good-long-password",
        true,
    )
    .unwrap();
    let by = licd::service::organizations::CustomerActor { id, email };
    licd::service::organizations::create(&t, now, &by, "Billed", "billing@example.com").unwrap()
}

/// A draft invoice of 11.90 EUR (finalised when `open`), for the billing samples.
fn billing_invoice(fx: &Fixture<'_>, open: bool) -> i64 {
    use licd::service::invoices::{self, NewDraft, NewLine};
    let t = fx.s.app.tenants.public().unwrap();
    let now = fx.s.clock.now_utc();
    let actor = licd::service::Actor::Cli;
    let d = invoices::create_draft(
        &t,
        now,
        &actor,
        &NewDraft {
            organization_id: billing_org(fx),
            subscription_id: None,
            currency: Some("EUR".into()),
            payment_method: None,
            po_number: String::new(),
            lines: vec![NewLine {
                kind: "other".into(),
                description: "Setup".into(),
                period_start: None,
                period_end: None,
                quantity: 1,
                unit_minor: 1000,
                tax_rate_bp: 1900,
                proration: false,
            }],
        },
    )
    .unwrap();
    if open {
        invoices::finalise(&fx.s.app, &t, now, &actor, d.invoice.id).unwrap();
    }
    d.invoice.id
}

fn sample(fx: &Fixture<'_>, operation_id: &str) -> Option<Call> {
    use crate::licensing::INSTALL;
    let admin = |params: Vec<(&'static str, String)>, body: Value| Call {
        params,
        auth: Auth::Admin,
        body,
    };
    let license_id = |fx: &Fixture<'_>| fx.license()["id"].as_str().unwrap().to_owned();
    let in_30_days = (fx.s.clock.now_utc() + chrono::Duration::days(30)).to_rfc3339();
    let template = json!({"internal_users": 5, "duration_days": 30});
    Some(match operation_id {
        "login" => Call {
            params: vec![],
            auth: Auth::Anonymous,
            body: json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        },
        "change_password" => {
            let id = fx.user("a-good-long-password");
            Call {
                params: vec![],
                auth: Auth::Bearer(fx.s.token_for(id)),
                body: json!({"current_password": "a-good-long-password",
                             "new_password": "another-long-password"}),
            }
        }
        "create_user" => admin(
            vec![],
            json!({"email": format!("n-{}@example.com", uuid::Uuid::new_v4().simple()),
                   "role": "support"}),
        ),
        "update_user" => admin(
            vec![("id", fx.user("a-good-long-password").to_string())],
            json!({"display_name": "Renamed"}),
        ),
        "create_token" => admin(vec![], json!({"name": "ci"})),
        "update_customer" => {
            let t = fx.s.app.tenants.public().unwrap();
            let email = format!("c-{}@example.com", uuid::Uuid::new_v4().simple());
            let id = licd::service::portal_auth::create(
                &fx.s.app,
                &t,
                fx.s.clock.now_utc(),
                &email,
                "",
                "a-good-long-password",
                true,
            )
            .unwrap();
            admin(vec![("id", id.to_string())], json!({"disabled": true}))
        }
        "issue_license" => admin(
            vec![],
            json!({"name": "Plant 7", "install_id": INSTALL, "internal_users": 5,
                   "expires_at": in_30_days}),
        ),
        "revoke_license" => admin(vec![("id", license_id(fx))], json!({"reason": "stolen"})),
        "rebind_license" => admin(
            vec![("id", license_id(fx))],
            json!({"fingerprint": "fp-new"}),
        ),
        "suspend_license" => admin(vec![("id", license_id(fx))], json!({})),
        "set_license_subscription" => {
            admin(vec![("id", license_id(fx))], json!({"status": "active"}))
        }
        "renew_license" => admin(
            vec![("id", license_id(fx))],
            json!({"expires_at": (fx.s.clock.now_utc() + chrono::Duration::days(400)).to_rfc3339()}),
        ),
        "change_license" => admin(vec![("id", license_id(fx))], json!({"internal_users": 7})),
        "move_license_organization" => admin(
            vec![("id", license_id(fx))],
            json!({"organization_id": null}),
        ),
        "create_service_token" => {
            let made = fx.api.ok(fx.api.post(
                "/api/v1/users",
                json!({"email": format!("svc-{}@example.com", uuid::Uuid::new_v4().simple()),
                       "role": "support", "kind": "service"}),
            ));
            admin(
                vec![("id", made["user"]["id"].to_string())],
                json!({"name": "pipeline"}),
            )
        }
        "offline_activate_license" => {
            let l = fx.license();
            let box_ = crate::air_gap::Appliance::new("fp-sample");
            let file = box_.request(&l, fx.s.clock.now_utc());
            admin(
                vec![("id", l["id"].as_str().unwrap().to_owned())],
                serde_json::to_value(file).unwrap(),
            )
        }
        "offline_release_license" => {
            let l = fx.license();
            let box_ = crate::air_gap::Appliance::new("fp-sample");
            crate::air_gap::activate_offline(fx.s, &fx.api, &l, &box_);
            let file = box_.release(&l, fx.s.clock.now_utc());
            admin(
                vec![("id", l["id"].as_str().unwrap().to_owned())],
                serde_json::to_value(file).unwrap(),
            )
        }
        "ingest_usage_report" => {
            let l = fx.license();
            let box_ = crate::air_gap::Appliance::new("fp-sample");
            crate::air_gap::activate_offline(fx.s, &fx.api, &l, &box_);
            let (file, _) = box_.report(&l, fx.s.clock.now_utc(), 1, "", 2, 1);
            admin(
                vec![("id", l["id"].as_str().unwrap().to_owned())],
                serde_json::to_value(file).unwrap(),
            )
        }
        "make_license_bundle" => {
            let l = fx.license();
            let id = l["id"].as_str().unwrap().to_owned();
            let r = fx.api.post(
                &format!("/api/v1/licenses/{id}/revoke"),
                json!({"reason": "sample"}),
            );
            assert_eq!(r.status(), 200);
            admin(vec![("id", id)], json!({"kind": "revocation"}))
        }
        "queue_license_directive" => admin(
            vec![("id", license_id(fx))],
            json!({"kind": "message", "message": "hello"}),
        ),
        "run_sweep" => admin(vec![], json!({})),
        "activate_license" => {
            let l = fx.license();
            Call {
                params: vec![("id", l["id"].as_str().unwrap().to_owned())],
                auth: Auth::Anonymous,
                body: json!({"license_key": l["license_key"], "fingerprint": "fp-1",
                             "install_id": INSTALL}),
            }
        }
        "heartbeat" => {
            let l = fx.license();
            let act = fx.api.ok(crate::licensing::activate(fx.s, &l, "fp-1"));
            Call {
                params: vec![("id", l["id"].as_str().unwrap().to_owned())],
                auth: Auth::Bearer(act["activation_secret"].as_str().unwrap().to_owned()),
                body: json!({"fingerprint": "fp-1"}),
            }
        }
        "create_provisioning_token" => admin(
            vec![],
            json!({"name": "line B", "max_uses": 1, "template": template}),
        ),
        "provision" => {
            let created = fx.api.ok(fx.api.post(
                "/api/v1/provisioning-tokens",
                json!({"name": "line B", "max_uses": 1, "template": template}),
            ));
            Call {
                params: vec![],
                auth: Auth::Anonymous,
                body: json!({"token": created["secret"], "install_id": INSTALL,
                             "fingerprint": "fp-p"}),
            }
        }
        "create_invoice" => admin(
            vec![],
            json!({"organization_id": billing_org(fx), "currency": "EUR", "payment_method": "bank_transfer",
                   "po_number": "PO-1",
                   "lines": [{"kind": "other", "description": "Setup", "quantity": 1, "unit_minor": 1000,
                              "tax_rate_bp": 1900, "proration": false}]}),
        ),
        "replace_invoice_lines" => admin(
            vec![("id", billing_invoice(fx, false).to_string())],
            json!({"lines": [{"kind": "other", "description": "Setup", "quantity": 2, "unit_minor": 1000}]}),
        ),
        "record_invoice_payment" => admin(
            vec![("id", billing_invoice(fx, true).to_string())],
            json!({"amount_minor": 100, "received_on": "2026-06-01", "reference": "r",
                   "method": "bank_transfer", "idempotency_key": uuid::Uuid::new_v4().simple().to_string()}),
        ),
        "gateway_payment" => Call {
            params: vec![],
            auth: Auth::Gateway,
            body: json!({"tenant": "public", "invoice_id": billing_invoice(fx, true), "amount_minor": 100,
                         "currency": "EUR", "received_on": "2026-06-01", "reference": "psp",
                         "method": "card",
                         "idempotency_key": uuid::Uuid::new_v4().simple().to_string()}),
        },
        "void_invoice" => admin(
            vec![("id", billing_invoice(fx, true).to_string())],
            json!({"reason": "ordered by mistake"}),
        ),
        "credit_invoice" => admin(
            vec![("id", billing_invoice(fx, true).to_string())],
            json!({"reason": "discount", "amount_minor": 100, "lines": []}),
        ),
        "put_price_list" => admin(
            vec![],
            json!({"currency": "EUR", "internal_monthly_minor": 1000, "internal_yearly_minor": 10000,
                   "external_monthly_minor": 500, "external_yearly_minor": 5000,
                   "min_internal_users": 0, "min_external_users": 0, "tax_rule": {},
                   "payment_terms_days": 30, "allow_purchase_order": false, "bank_details": "IBAN",
                   "renewal_days_before": 30, "dunning_grace_days": 14}),
        ),
        "put_licensing_settings" => admin(
            vec![],
            serde_json::to_value(licd::domain::settings::LicensingSettings::default()).unwrap(),
        ),
        "install_enterprise_license" => admin(vec![], json!({"license_key": fx.own_license_key()})),
        "create_tenant" => {
            // Creating a tenant needs a valid license of the default tenant's own.
            let id = format!("L-{}", uuid::Uuid::new_v4().simple());
            let public = fx.s.app.tenants.public().unwrap();
            licd::service::enterprise::install(
                &fx.s.app,
                &public,
                fx.s.clock.now_utc(),
                &licd::service::Actor::Cli,
                &fx.own_license_key_with_id(&id),
            )
            .unwrap();
            Call {
                params: vec![],
                auth: Auth::Bearer(TENANCY_KEY.into()),
                body: json!({"name": "Acme", "schema_name": format!("t_{}", uuid::Uuid::new_v4().simple())}),
            }
        }
        "create_recovery_key" => {
            // The link needs the tenant's primary domain.
            let _ = fx.s.app.tenants.public().unwrap();
            licd::service::tenant_domains::add(
                &fx.s.app,
                fx.s.clock.now_utc(),
                &licd::service::Actor::Cli,
                "public",
                licd::service::tenant_domains::NewDomain {
                    domain: format!("r{}.example", uuid::Uuid::new_v4().simple()),
                },
            )
            .ok();
            Call {
                params: vec![("schema_name", "public".to_owned())],
                auth: Auth::Bearer(TENANCY_KEY.into()),
                body: json!({"email": "rescue@example.com", "lifetime": "1h"}),
            }
        }
        "add_tenant_domain" => Call {
            params: vec![("schema_name", "public".to_owned())],
            auth: Auth::Bearer(TENANCY_KEY.into()),
            body: json!({"domain": format!("d{}.example", uuid::Uuid::new_v4().simple())}),
        },
        "rename_tenant" => Call {
            params: vec![("schema_name", "public".into())],
            auth: Auth::Bearer(TENANCY_KEY.into()),
            body: json!({"name": "public"}),
        },
        _ => return None,
    })
}

/// (method, path, operationId, body schema) of every operation with a JSON request body.
fn with_bodies(doc: &Value) -> Vec<(String, String, String, &Value)> {
    operations(doc)
        .into_iter()
        .filter_map(|(method, path, op)| {
            let schema = op["requestBody"]["content"]["application/json"].get("schema")?;
            let id = op["operationId"].as_str().unwrap().to_owned();
            Some((method, path, id, deref(doc, schema)))
        })
        .collect()
}

/// Follows `$ref`, a one-element `allOf`, and the non-null branch of a `oneOf`/`anyOf`
/// (an optional value).
fn deref<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    if let Some(r) = s["$ref"].as_str() {
        return deref(doc, doc.pointer(r.strip_prefix('#').unwrap()).unwrap());
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(branches) = s[key].as_array()
            && let Some(b) = branches.iter().find(|b| b["type"] != "null")
        {
            return deref(doc, b);
        }
    }
    s
}

fn send(fx: &Fixture<'_>, method: &str, path: &str, call: &Call, body: &Value) -> Response {
    let mut url = path.to_owned();
    for (name, value) in &call.params {
        url = url.replace(&format!("{{{name}}}"), value);
    }
    assert!(!url.contains('{'), "{path}: a path parameter has no value");
    let c = client();
    let mut r = c
        .request(method.parse().unwrap(), fx.s.url(&url))
        .json(body);
    r = match &call.auth {
        Auth::Admin => r.bearer_auth(&fx.api.token),
        Auth::Bearer(t) => r.bearer_auth(t),
        Auth::Anonymous => r,
        Auth::Gateway => {
            let body = serde_json::to_vec(body).unwrap();
            crate::billing_gateway::signed(fx.s, crate::billing_gateway::SECRET, &body)
        }
    };
    r.send().unwrap()
}

fn start_fixture(
    s: &TestServer,
    vendor: licd::pki::KeyPair,
    dir: tempfile::TempDir,
) -> Fixture<'_> {
    Fixture {
        s,
        api: crate::licensing::Api::new(s),
        vendor,
        _vendor_dir: dir,
    }
}

/// Every object inside `v` (the body itself included), by JSON pointer.
fn objects(v: &Value, at: String, out: &mut Vec<String>) {
    if let Value::Object(m) = v {
        out.push(at.clone());
        for (k, x) in m {
            objects(x, format!("{at}/{k}"), out);
        }
    }
}

/// Every object schema reachable from `s`, with where.
fn object_schemas<'a>(
    doc: &'a Value,
    s: &'a Value,
    at: String,
    out: &mut Vec<(String, &'a Value)>,
) {
    let s = deref(doc, s);
    if let Some(props) = s["properties"].as_object() {
        out.push((at.clone(), s));
        for (k, p) in props {
            object_schemas(doc, p, format!("{at}.{k}"), out);
        }
    }
    if s.get("items").is_some() {
        object_schemas(doc, &s["items"], format!("{at}[]"), out);
    }
}

/// Item D: a misspelt field is never ignored. For every operation with a request body,
/// the body with one unknown field (at the top and in each nested object) is refused
/// with 422 `validation_failed`, and every object schema says
/// `additionalProperties: false`. An operation without a sample fails the test.
#[test]
fn every_request_body_refuses_unknown_fields() {
    let (s, vendor, dir) = fixture_server();
    let fx = start_fixture(&s, vendor, dir);
    let (doc, _) = fetch(&s);
    let ops = with_bodies(&doc);
    assert!(ops.len() >= 18, "only {} operations with a body", ops.len());
    let missing: Vec<&String> = ops
        .iter()
        .filter(|(_, _, id, _)| sample(&fx, id).is_none())
        .map(|(_, _, id, _)| id)
        .collect();
    assert!(
        missing.is_empty(),
        "operations with a request body but no sample in `sample()` (tests/it/openapi.rs): {missing:?}"
    );
    for (method, path, id, _) in &ops {
        let call = sample(&fx, id).unwrap();
        let mut at = Vec::new();
        objects(&call.body, String::new(), &mut at);
        for pointer in at {
            let mut body = call.body.clone();
            body.pointer_mut(&pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert("zz_unknown".into(), json!(true));
            let r = send(&fx, method, path, &call, &body);
            let status = r.status();
            let text = r.text().unwrap();
            assert!(
                status == 422
                    && text.contains("\"validation_failed\"")
                    && text.contains("zz_unknown"),
                "{id}: an unknown field at {pointer:?} got {status}: {text}"
            );
        }
    }
    // And the document says so, for generated clients.
    for (_, _, id, schema) in &ops {
        let mut found = Vec::new();
        object_schemas(&doc, schema, id.clone(), &mut found);
        for (at, o) in found {
            assert_eq!(
                o["additionalProperties"], false,
                "{at}: the schema allows unknown fields (add #[serde(deny_unknown_fields)])"
            );
        }
    }
}

/// A value just outside each limit a schema documents, by JSON pointer into the body.
fn outside(doc: &Value, schema: &Value, body: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let s = deref(doc, schema);
    if let Some(props) = s["properties"].as_object() {
        for (k, p) in props {
            let here = format!("{at}/{k}");
            let p = deref(doc, p);
            if p["properties"].is_object() {
                if let Some(inner) = body.pointer(&here) {
                    let mut nested = Vec::new();
                    outside(doc, p, inner, "", &mut nested);
                    out.extend(
                        nested
                            .into_iter()
                            .map(|(ptr, v)| (format!("{here}{ptr}"), v)),
                    );
                }
                continue;
            }
            for v in bad_values(doc, p) {
                out.push((here.clone(), v));
            }
        }
    }
}

/// Values one step past each documented limit of a value schema.
fn bad_values(doc: &Value, p: &Value) -> Vec<Value> {
    let p = deref(doc, p);
    let mut v = Vec::new();
    if let Some(min) = p["minimum"].as_i64() {
        v.push(json!(min - 1));
    }
    if let Some(max) = p["maximum"].as_i64() {
        v.push(json!(max + 1));
    }
    if let Some(n) = p["minLength"].as_u64().filter(|n| *n > 0) {
        v.push(json!("x".repeat(n as usize - 1)));
    }
    if let Some(n) = p["maxLength"].as_u64() {
        v.push(json!("x".repeat(n as usize + 1)));
    }
    if p["pattern"].is_string() {
        v.push(json!("not valid!"));
    }
    if p["enum"].is_array() {
        v.push(json!("no_such_value"));
    }
    if p.get("items").is_some() {
        if let Some(n) = p["maxItems"].as_u64() {
            let items: Vec<Value> = (0..=n).map(|i| json!(format!("i{i}"))).collect();
            v.push(Value::Array(items));
        }
        for bad in bad_values(doc, &p["items"]) {
            v.push(json!([bad]));
        }
    }
    v
}

/// Each documented limit at its edge, by JSON pointer into the body.
fn at_limits(doc: &Value, schema: &Value, body: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let s = deref(doc, schema);
    for (k, p) in s["properties"].as_object().into_iter().flatten() {
        let here = format!("{at}/{k}");
        let p = deref(doc, p);
        if p["properties"].is_object() {
            if body.pointer(&here).is_some() {
                at_limits(doc, p, body, &here, out);
            }
        } else if let Some(max) = p["maximum"].as_i64() {
            out.push((here, json!(max)));
        } else if let Some(n) = p["maxLength"].as_u64() {
            out.push((here, json!("x".repeat(n as usize))));
        } else if let Some(n) = p["maxItems"].as_u64() {
            let len = deref(doc, &p["items"])["maxLength"].as_u64().unwrap_or(8) as usize;
            let items: Vec<Value> = (0..n).map(|i| json!(format!("{i:0>len$}"))).collect();
            out.push((here, Value::Array(items)));
        }
    }
}

fn set(body: &mut Value, pointer: &str, v: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), v);
}

/// Item E: the schemas carry the server's real limits. Every sample is accepted; a
/// value just past any documented minimum, maximum, length, pattern, enum or item count
/// is refused with 422; and the license, provisioning-token and provisioning bodies
/// with every limit at its edge at once are accepted.
#[test]
fn documented_limits_are_the_servers_limits() {
    let (s, vendor, dir) = fixture_server();
    let fx = start_fixture(&s, vendor, dir);
    let (doc, _) = fetch(&s);
    let limits = |name: &str| doc["components"]["schemas"][name].to_string();
    // The limits the issue found missing are there.
    for (schema, expect) in [
        ("LicenseRequest", "\"pattern\":\"^[A-Za-z0-9._:-]{1,128}$\""),
        ("LicenseRequest", "\"maximum\":10000000"),
        ("ProvisioningBody", "\"maximum\":1000000"),
        ("Template", "\"maximum\":36600"),
        ("ProvisionRequest", "\"pattern\":\"^[!-~]{1,256}$\""),
        (
            "DirectiveBody",
            "\"enum\":[\"message\",\"lock\",\"unlock\"]",
        ),
    ] {
        assert!(limits(schema).contains(expect), "{schema}: {expect}");
    }
    let mut probed = 0;
    let mut ops = with_bodies(&doc);
    // The password change last: once accepted, its sample's password is no longer current.
    ops.sort_by_key(|(_, _, id, _)| id == "change_password");
    for (method, path, id, schema) in &ops {
        let call = sample(&fx, id).unwrap_or_else(|| panic!("{id}: no sample"));
        let mut bad = Vec::new();
        outside(&doc, schema, &call.body, "", &mut bad);
        for (pointer, value) in bad {
            let mut body = call.body.clone();
            set(&mut body, &pointer, value.clone());
            let r = send(&fx, method, path, &call, &body);
            let status = r.status();
            let text = r.text().unwrap();
            assert!(
                status == 422 && text.contains("\"validation_failed\""),
                "{id}: {pointer} = {value} is outside the documented limits but got {status}: {text}"
            );
            probed += 1;
        }
        let r = send(&fx, method, path, &call, &call.body);
        let status = r.status();
        assert!(
            status.is_success(),
            "{id}: the sample was refused: {status} {}",
            r.text().unwrap()
        );
    }
    assert!(probed >= 60, "only {probed} limits probed");

    for id in ["issue_license", "create_provisioning_token", "provision"] {
        let (method, path, _, schema) = ops.iter().find(|(_, _, i, _)| i == id).unwrap();
        let call = sample(&fx, id).unwrap();
        let mut edges = Vec::new();
        at_limits(&doc, schema, &call.body, "", &mut edges);
        assert!(edges.len() >= 3, "{id}: {edges:?}");
        let mut body = call.body.clone();
        for (pointer, value) in edges {
            set(&mut body, &pointer, value);
        }
        let r = send(&fx, method, path, &call, &body);
        let status = r.status();
        assert!(
            status.is_success(),
            "{id}: every limit at its edge was refused: {status} {}",
            r.text().unwrap()
        );
    }
}
