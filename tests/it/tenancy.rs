//! The tenancy API's switch and keys, the registry's audit chain, and the tenant list:
//! a real server on loopback, real HTTP, real SQLite.

use crate::harness::*;
use licd::http::routing::{self, Access, Route};
use licd::service::audit;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const OLD_KEY: &str = "old-tenancy-key-0123456789abcdef0123";
const NEW_KEY: &str = "new-tenancy-key-0123456789abcdef=+/x";
pub(crate) const ENV_KEY: &str = "env-tenancy-key-0123456789abcdef0123";

/// A key file holding `old` and `new` (a rotation in progress), with this mode.
fn key_file(dir: &Path, mode: u32) -> PathBuf {
    let p = dir.join("tenancy.keys");
    std::fs::write(
        &p,
        format!("# tenancy keys\nold = {OLD_KEY}\n\nnew = {NEW_KEY}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A server with tenancy on and the keys `old`, `new` (file) and `env`.
fn tenancy_server(keys_dir: &Path) -> TestServer {
    let file = key_file(keys_dir, 0o600);
    TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.enabled = true;
        c.tenancy.api_key_file = Some(file);
        c.tenancy.api_key = Some(ENV_KEY.into());
    })
}

/// Every tenancy route, with a path to request it at.
fn tenancy_routes() -> Vec<(Route, String)> {
    let routes: Vec<(Route, String)> = routing::registered()
        .into_iter()
        .filter(|r| r.access == Access::TenancyKey)
        .map(|r| {
            let path = r.path.replace("{schema_name}", "public");
            (r, path)
        })
        .collect();
    assert!(routes.len() >= 3, "{routes:?}");
    routes
}

/// Sends a tenancy route its sample: a GET, or a creation a key gets 422 for (`public`
/// is reserved).
fn call(
    s: &TestServer,
    route: &Route,
    path: &str,
    key: Option<&str>,
) -> reqwest::blocking::Response {
    let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
    let mut req = client().request(method, s.url(path));
    if route.method != "GET" {
        req = req.json(&serde_json::json!({"name": "x", "schema_name": "public"}));
    }
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().unwrap()
}

/// What a configured key gets from a tenancy route's sample.
fn admitted(route: &Route) -> u16 {
    if route.method == "GET" { 200 } else { 422 }
}

fn get(s: &TestServer, path: &str, key: Option<&str>) -> reqwest::blocking::Response {
    let mut req = client().get(s.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().unwrap()
}

fn registry_audit(s: &TestServer) -> Vec<(String, String, String, String)> {
    let db = rusqlite::Connection::open(s.data_dir().join("registry.db")).unwrap();
    let mut st = db
        .prepare("SELECT actor, action, target, details FROM audit_log ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn tenancy_is_off_by_default_and_every_tenancy_route_answers_404() {
    // A key configured, but tenancy not enabled: the API does not exist.
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.api_key = Some(ENV_KEY.into());
    });
    assert!(!s.app.config.tenancy.enabled);
    let admin = s.admin_token();
    for (route, path) in tenancy_routes() {
        for key in [None, Some(ENV_KEY), Some(admin.as_str())] {
            let r = call(&s, &route, &path, key);
            let body = expect_problem(r, 404, "tenancy_disabled");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("tenancy.enabled = false"),
                "{} {}: {body}",
                route.method,
                route.path
            );
        }
    }
    assert!(registry_audit(&s).is_empty());
}

#[test]
fn enabled_without_a_key_every_tenancy_call_is_refused() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.enabled = true;
    });
    let admin = s.admin_token();
    for (route, path) in tenancy_routes() {
        for key in [None, Some(ENV_KEY), Some(admin.as_str())] {
            let body = expect_problem(call(&s, &route, &path, key), 401, "tenancy_key_invalid");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("no tenancy API key is configured"),
                "{body}"
            );
        }
    }
}

#[test]
fn only_a_configured_key_opens_the_tenancy_api_and_each_call_is_audited_by_key_name() {
    let keys = tempfile::tempdir().unwrap();
    let s = tenancy_server(keys.path());
    let admin = s.admin_token();
    let (session, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (route, path) in tenancy_routes() {
        let here = format!("{} {}", route.method, route.path);
        // Staff credentials, nothing, a wrong key, a key cut short, the key without
        // `Bearer `: all refused alike.
        for wrong in [
            Some(admin.as_str()),
            None,
            Some("not-a-tenancy-key-0123456789abcdef0123"),
            Some(&NEW_KEY[..NEW_KEY.len() - 1]),
        ] {
            let body = expect_problem(call(&s, &route, &path, wrong), 401, "tenancy_key_invalid");
            assert!(
                body["detail"].as_str().unwrap().contains("Bearer"),
                "{here}: {body}"
            );
        }
        if route.method == "GET" {
            let r = client()
                .get(s.url(&path))
                .header("authorization", NEW_KEY)
                .send()
                .unwrap();
            expect_problem(r, 401, "tenancy_key_invalid");
            // A signed-in browser session (its cookie) is no credential here either.
            let r = session.get(s.url(&path)).send().unwrap();
            expect_problem(r, 401, "tenancy_key_invalid");
        }
        // Every configured key works: both of the file's (rotation) and the env one.
        for key in [OLD_KEY, NEW_KEY, ENV_KEY] {
            let r = call(&s, &route, &path, Some(key));
            assert_eq!(
                r.status(),
                admitted(&route),
                "{here}: {}",
                r.text().unwrap()
            );
        }
    }

    // What the list says.
    let public = s.app.tenants.public().unwrap();
    let list: Value = get(&s, "/api/v1/tenants", Some(OLD_KEY)).json().unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["schema_name"], "public");
    assert_eq!(items[0]["install_id"], public.install_id.as_str());
    assert_eq!(items[0]["default"], true);
    let one: Value = get(&s, "/api/v1/tenants/public", Some(ENV_KEY))
        .json()
        .unwrap();
    assert_eq!(one, items[0]);
    let body = expect_problem(
        get(&s, "/api/v1/tenants/t_nowhere", Some(NEW_KEY)),
        404,
        "not_found",
    );
    assert!(
        body["detail"].as_str().unwrap().contains("t_nowhere"),
        "{body}"
    );

    // The registry's chain names each call's key by name and never holds a key.
    let entries = registry_audit(&s);
    let last: Vec<(&str, &str, &str)> = entries[entries.len() - 3..]
        .iter()
        .map(|(a, b, c, _)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        last,
        [
            ("tenancy_key:old", "tenant.list", "tenants"),
            ("tenancy_key:env", "tenant.show", "tenant:public"),
            ("tenancy_key:new", "tenant.show", "tenant:t_nowhere"),
        ]
    );
    // Each route by each of the 3 keys, then the 3 calls above; calls refused for their
    // key record nothing (there is no key name to record).
    let routes = tenancy_routes().len();
    assert_eq!(entries.len(), routes * 3 + 3, "{entries:#?}");
    let all = format!("{entries:?}");
    for key in [OLD_KEY, NEW_KEY, ENV_KEY] {
        assert!(!all.contains(key), "a key in the audit chain: {all}");
    }
    let v = licd::service::tenancy::verify_registry(&s.app.tenants).unwrap();
    assert_eq!((v.entries, v.broken), ((routes * 3 + 3) as u64, None));
    // The tenant's own chain holds none of it.
    let tenant_audit = audit::export(&public, Default::default()).unwrap();
    assert!(
        tenant_audit
            .iter()
            .all(|e| !e.actor.starts_with("tenancy_key:")),
        "{tenant_audit:?}"
    );
}

#[test]
fn licd_audit_verify_walks_the_registry_chain_and_names_a_break() {
    let keys = tempfile::tempdir().unwrap();
    let s = tenancy_server(keys.path());
    for _ in 0..3 {
        assert_eq!(get(&s, "/api/v1/tenants", Some(OLD_KEY)).status(), 200);
    }
    let dir = s.stop();
    let data = dir.path().to_str().unwrap();
    let out = run(licd().args(["audit", "verify", "--data-dir", data]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("registry: audit chain intact (3 entries)"),
        "{}",
        text(&out)
    );
    let db = rusqlite::Connection::open(dir.path().join("registry.db")).unwrap();
    let err = db
        .execute("UPDATE audit_log SET actor = 'x' WHERE id = 2", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET actor = 'tenancy_key:new' WHERE id = 2;",
    )
    .unwrap();
    drop(db);
    let out = run(licd().args(["audit", "verify", "--data-dir", data]));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("registry: audit chain BROKEN at entry 2"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_key_file_others_can_read_stops_check_config_and_startup() {
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(dir.path(), 0o640);
    let config = dir.path().join("licd.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = \"{}\"\n[tenancy]\nenabled = true\napi_key_file = \"{}\"\n",
            dir.path().join("data").display(),
            file.display()
        ),
    )
    .unwrap();
    let out = run(licd().args(["check-config", config.to_str().unwrap()]));
    assert!(!out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("tenancy.api_key_file {}", file.display()))
            && said.contains("readable by group or others (mode 640)"),
        "{said}"
    );

    // The same refusal when the server starts (a config built in code, not loaded).
    let mut c = test_config(&dir.path().join("data"));
    c.tenancy.enabled = true;
    c.tenancy.api_key_file = Some(file.clone());
    let clock = licd::clock::ManualClock::new(t0());
    let err = licd::service::App::open(c, std::sync::Arc::new(clock))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tenancy API keys"), "{err}");

    // Private, it passes, and check-config names the keys (never the keys themselves).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(licd().args(["check-config", config.to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("tenancy  = on (keys: old, new)"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(OLD_KEY), "{}", text(&out));

    // A short key is refused, named.
    std::fs::write(&file, "short = 0123456789\n").unwrap();
    let out = run(licd().args(["check-config", config.to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("tenancy key \"short\" must be at least 32 characters"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_reference_documents_the_tenancy_key_scheme() {
    let s = TestServer::start();
    let doc: Value = get(&s, "/api/v1/openapi.json", None).json().unwrap();
    let scheme = &doc["components"]["securitySchemes"]["tenancy_key"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    for (route, _) in tenancy_routes() {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not in the reference",
            route.method,
            route.path
        );
        assert_eq!(
            op["security"],
            serde_json::json!([{"tenancy_key": []}]),
            "{op}"
        );
        for (status, code) in [("404", "tenancy_disabled"), ("401", "tenancy_key_invalid")] {
            assert!(
                op["responses"][status]["content"]["application/problem+json"]["examples"]
                    .get(code)
                    .is_some(),
                "{} {}: {status} {code}",
                route.method,
                route.path
            );
        }
    }
}

/// A server with tenancy on (key `env`) that trusts the vendor for its own license.
pub(crate) fn licensed_server(v: &crate::enterprise::Vendor, dir: tempfile::TempDir) -> TestServer {
    let jwks = v.jwks.clone();
    TestServer::start_in(dir, move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(ENV_KEY.into());
    })
}

pub(crate) fn create(s: &TestServer, name: &str, schema_name: &str) -> reqwest::blocking::Response {
    client()
        .post(s.url("/api/v1/tenants"))
        .bearer_auth(ENV_KEY)
        .json(&serde_json::json!({"name": name, "schema_name": schema_name}))
        .send()
        .unwrap()
}

#[test]
fn schema_names_are_held_to_the_one_rule_in_its_words() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(ENV_KEY.into());
    });
    let too_long = format!("t_{}", "a".repeat(62));
    for bad in [
        "public",
        "template",
        "t_",
        "T_acme",
        "t_Acme",
        "acme",
        too_long.as_str(),
    ] {
        let body = expect_problem(create(&s, "Acme", bad), 422, "validation_failed");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("schema_name: ")
                && detail.ends_with(licd::domain::schema_name::RULE),
            "{bad}: {detail}"
        );
    }
    // The API reference states the same rule.
    let doc: Value = get(&s, "/api/v1/openapi.json", None).json().unwrap();
    let field = doc["components"]["schemas"]["NewTenant"]["properties"]["schema_name"].to_string();
    assert!(
        field.contains("^t_[a-z0-9_]{1,61}$") && field.contains("63"),
        "{field}"
    );
}

#[test]
fn creating_a_tenant_needs_a_valid_default_license_and_makes_a_tenant_of_its_own() {
    let v = crate::enterprise::vendor();
    let s = licensed_server(&v, tempfile::tempdir().unwrap());
    let public = s.app.tenants.public().unwrap();

    // No license of the default tenant's own.
    let body = expect_problem(create(&s, "Acme", "t_acme"), 403, "default_license_missing");
    assert!(
        body["detail"].as_str().unwrap().contains("no license"),
        "{body}"
    );

    // One user's worth, valid for a year, and two staff: over the limit from now on,
    // which is no obstacle (yet).
    s.create_staff(
        "second@example.com",
        licd::domain::permissions::Role::Support,
        "second-password-1",
    );
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &public.install_id, 1, now, 365);
    licd::service::enterprise::install(&s.app, &public, now, &licd::service::Actor::Cli, &key)
        .unwrap();
    let r = create(&s, "Acme Corp", "t_acme");
    assert_eq!(r.status(), 201);
    let acme: Value = r.json().unwrap();
    assert_eq!(acme["schema_name"], "t_acme");
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["state"], "ready");
    assert_eq!(acme["default"], false);
    let install_id = acme["install_id"].as_str().unwrap();
    assert_ne!(install_id, public.install_id);
    assert!(uuid::Uuid::parse_str(install_id).is_ok(), "{install_id}");
    // Its own database (from the template), files and signing key.
    assert!(s.data_dir().join("tenants/t_acme.db").is_file());
    assert!(s.data_dir().join("files/t_acme").is_dir());
    let t = s.app.tenants.get("t_acme").unwrap();
    let (own, default) = (
        t.keyring().unwrap().jwks(),
        public.keyring().unwrap().jwks(),
    );
    assert_eq!(own.keys.len(), 1);
    assert_ne!(own.keys[0].kid, default.keys[0].kid);
    let staff = licd::service::staff::list(&t).unwrap();
    assert!(staff.is_empty(), "a new tenant holds no data: {staff:?}");

    let body = expect_problem(create(&s, "Again", "t_acme"), 409, "schema_name_taken");
    assert!(
        body["detail"].as_str().unwrap().starts_with("schema_name:"),
        "{body}"
    );
    let list: Value = get(&s, "/api/v1/tenants", Some(ENV_KEY)).json().unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["schema_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["public", "t_acme"]);

    // Still over the license's one user six weeks on: read-only, and that check is named.
    s.clock.advance(chrono::Duration::days(43));
    licd::service::enterprise::refresh(&public, s.clock.now_utc(), &licd::service::Actor::System)
        .unwrap();
    assert!(public.own_stage().read_only());
    expect_problem(create(&s, "Two", "t_two"), 403, "default_license_read_only");
    // A year on, no license is valid: that check is named first.
    s.clock.advance(chrono::Duration::days(400));
    expect_problem(create(&s, "Two", "t_two"), 403, "default_license_expired");
    assert!(s.app.tenants.get("t_two").is_none());
    assert!(!s.data_dir().join("tenants/t_two.db").exists());

    // Every attempt is in the registry chain, with its outcome.
    let creates: Vec<(String, String)> = registry_audit(&s)
        .into_iter()
        .filter(|(_, action, _, _)| action == "tenant.create")
        .map(|(_, _, target, details)| (target, details))
        .collect();
    let outcomes: Vec<String> = creates
        .iter()
        .map(|(target, d)| {
            let d: Value = serde_json::from_str(d).unwrap();
            format!(
                "{target} {} {}",
                d["outcome"].as_str().unwrap(),
                d["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "tenant:t_acme refused default_license_missing",
            "tenant:t_acme created ",
            "tenant:t_acme refused schema_name_taken",
            "tenant:t_two refused default_license_read_only",
            "tenant:t_two refused default_license_expired",
        ]
    );
    assert_eq!(
        licd::service::tenancy::verify_registry(&s.app.tenants)
            .unwrap()
            .broken,
        None
    );
}

#[test]
fn a_creation_cut_short_is_removed_at_the_next_start_and_can_be_tried_again() {
    let v = crate::enterprise::vendor();
    let s = licensed_server(&v, tempfile::tempdir().unwrap());
    let public = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &public.install_id, 5, now, 365);
    licd::service::enterprise::install(&s.app, &public, now, &licd::service::Actor::Cli, &key)
        .unwrap();
    assert_eq!(create(&s, "Acme", "t_acme").status(), 201);
    let dir = s.stop();

    // What a crash half-way leaves: the registry row still `creating`, a half-copied
    // database, its WAL, a files directory.
    let reg = rusqlite::Connection::open(dir.path().join("registry.db")).unwrap();
    reg.execute(
        "INSERT INTO tenants (schema_name, name, install_id, created_at, state) VALUES ('t_half', 'Half', 'I-half', '2026-06-01T09:00:00.000000Z', 'creating')",
        [],
    )
    .unwrap();
    drop(reg);
    std::fs::write(dir.path().join("tenants/t_half.db.tmp"), b"half a copy").unwrap();
    std::fs::write(dir.path().join("tenants/t_half.db"), b"not yet a database").unwrap();
    std::fs::write(dir.path().join("tenants/t_half.db-wal"), b"").unwrap();
    std::fs::create_dir_all(dir.path().join("files/t_half/sub")).unwrap();

    let s = licensed_server(&v, dir);
    for leftover in [
        "tenants/t_half.db",
        "tenants/t_half.db.tmp",
        "tenants/t_half.db-wal",
        "files/t_half",
    ] {
        assert!(!s.data_dir().join(leftover).exists(), "{leftover} is left");
    }
    assert!(s.app.tenants.get("t_half").is_none());
    // The tenant made before the restart is opened again.
    assert!(s.app.tenants.get("t_acme").is_some());
    let half: Value = get(&s, "/api/v1/tenants/t_half", Some(ENV_KEY))
        .json()
        .unwrap();
    assert_eq!(half["state"], "failed", "{half}");
    assert!(
        half["failure"]
            .as_str()
            .unwrap()
            .contains("licd stopped while creating it"),
        "{half}"
    );
    // Trying again replaces the failed attempt.
    let r = create(&s, "Half again", "t_half");
    assert_eq!(r.status(), 201);
    let again: Value = r.json().unwrap();
    assert_eq!(
        (again["state"].as_str(), again.get("failure")),
        (Some("ready"), None)
    );
    assert!(s.data_dir().join("tenants/t_half.db").is_file());
    // A third start: both ready tenants open, nothing removed.
    let s = licensed_server(&v, s.stop());
    assert!(s.app.tenants.get("t_half").is_some() && s.app.tenants.get("t_acme").is_some());
}
