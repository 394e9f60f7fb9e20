//! The API reference at `/api/v1/openapi.json`: valid OpenAPI 3.1, and it describes
//! exactly the machine-facing routes the server registers (a new route without a
//! `#[utoipa::path]` in the document fails here, and so does a documented route that
//! is gone).

use crate::harness::*;
use licd::error::ErrorCode;
use licd::http::routing::{self, Surface};
use serde_json::Value;
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
    // The server answered, so it has built its app: every route is registered.
    let all = routing::registered();
    assert!(
        all.iter()
            .any(|r| r.surface == Surface::Console && r.path == "/login"),
        "console pages are registered as such"
    );
    let registered: BTreeSet<(String, String)> = all
        .into_iter()
        .filter(|r| r.surface == Surface::Api && !NOT_IN_REFERENCE.contains(&r.path.as_str()))
        .map(|r| (r.method, r.path))
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
                    c.status(),
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
