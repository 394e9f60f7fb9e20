//! A tenant's life after creation: rename, delete to an archive, restore, purge, the
//! `licd tenant` command line, crash recovery of deletion and restoring, and backups
//! holding every tenant and the archives. Real server on loopback, real HTTP, real
//! SQLite, the real `licd` binary.

use crate::harness::*;
use licd::service::Actor;
use serde_json::Value;
use std::path::Path;

const KEY: &str = "lifecycle-tenancy-key-0123456789abcdef";

/// A server with tenancy on (key `env`) whose default tenant holds a valid license of
/// its own, so tenants can be created.
fn server(v: &crate::enterprise::Vendor, dir: tempfile::TempDir) -> TestServer {
    let jwks = v.jwks.clone();
    let s = TestServer::start_in(dir, move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(KEY.into());
    });
    let public = s.app.tenants.public().unwrap();
    if licd::service::enterprise::overview(&public, s.clock.now_utc())
        .unwrap()
        .assessment
        .condition
        == licd::domain::violation::Condition::Unlicensed
    {
        let now = s.clock.now_utc();
        let key = crate::enterprise::key_for(&v.key, &public.install_id, 5, now, 3650);
        licd::service::enterprise::install(&s.app, &public, now, &Actor::Cli, &key).unwrap();
    }
    s
}

fn api(
    s: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::blocking::Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(m, s.url(path)).bearer_auth(KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().unwrap()
}

fn create(s: &TestServer, name: &str, schema_name: &str) -> Value {
    let r = api(
        s,
        "POST",
        "/api/v1/tenants",
        Some(serde_json::json!({"name": name, "schema_name": schema_name})),
    );
    assert_eq!(r.status(), 201);
    r.json().unwrap()
}

fn ok(r: reqwest::blocking::Response) -> Value {
    let status = r.status();
    let body = r.text().unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Routes a host name to a tenant in the registry (the domain API is another part's);
/// the server reads the table when it starts.
fn add_domain(data: &Path, domain: &str, schema_name: &str) {
    let reg = rusqlite::Connection::open(data.join("registry.db")).unwrap();
    reg.execute(
        "INSERT INTO domains (domain, schema_name, created_at) VALUES (?1, ?2, '2026-06-01T09:00:00.000000Z')",
        [domain, schema_name],
    )
    .unwrap();
}

/// The kid of the JWKS served for `host` (which tenant the host is routed to).
fn kid_at(s: &TestServer, host: &str) -> String {
    let r = client()
        .get(s.url("/.well-known/jwks.json"))
        .header("host", host)
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    body["keys"][0]["kid"].as_str().unwrap().to_owned()
}

fn kid_of(s: &TestServer, schema_name: &str) -> String {
    s.app
        .tenants
        .get(schema_name)
        .unwrap()
        .keyring()
        .unwrap()
        .jwks()
        .keys[0]
        .kid
        .clone()
        .unwrap()
}

fn registry_actions(data: &Path) -> Vec<(String, String, String, Value)> {
    let db = rusqlite::Connection::open(data.join("registry.db")).unwrap();
    let mut st = db
        .prepare("SELECT actor, action, target, details FROM audit_log ORDER BY id")
        .unwrap();
    st.query_map([], |r| {
        let d: String = r.get(3)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            serde_json::from_str(&d).unwrap(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn renaming_changes_the_registry_and_the_console_header_at_once() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    create(&s, "Acme", "t_acme");
    let renamed = ok(api(
        &s,
        "PATCH",
        "/api/v1/tenants/t_acme",
        Some(serde_json::json!({"name": "Acme Europe"})),
    ));
    assert_eq!(renamed["name"], "Acme Europe");
    assert_eq!(s.app.tenants.get("t_acme").unwrap().name(), "Acme Europe");
    let shown = ok(api(&s, "GET", "/api/v1/tenants/t_acme", None));
    assert_eq!(shown["name"], "Acme Europe");

    // The default tenant's console shows its new name in the header, without a restart.
    ok(api(
        &s,
        "PATCH",
        "/api/v1/tenants/public",
        Some(serde_json::json!({"name": "Head Office"})),
    ));
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c.get(s.url("/")).send().unwrap().text().unwrap();
    assert!(
        page.contains("<span class=\"tenant\" title=\"Head Office (Install ID"),
        "{page}"
    );

    // Bad input: a readable refusal, nothing changed.
    for bad in [
        serde_json::json!({"name": ""}),
        serde_json::json!({"name": "x".repeat(101)}),
    ] {
        expect_problem(
            api(&s, "PATCH", "/api/v1/tenants/t_acme", Some(bad)),
            422,
            "validation_failed",
        );
    }
    expect_problem(
        api(
            &s,
            "PATCH",
            "/api/v1/tenants/t_nowhere",
            Some(serde_json::json!({"name": "N"})),
        ),
        404,
        "not_found",
    );
    assert_eq!(s.app.tenants.get("t_acme").unwrap().name(), "Acme Europe");
    let renames: Vec<(String, Value)> = registry_actions(&s.data_dir())
        .into_iter()
        .filter(|(_, action, _, _)| action == "tenant.rename")
        .map(|(_, _, target, d)| (target, d))
        .collect();
    assert_eq!(renames.len(), 5, "{renames:?}");
    assert_eq!(
        renames[0].1,
        serde_json::json!({"outcome": "renamed", "from": "Acme", "to": "Acme Europe"})
    );
    assert_eq!(renames[4].1["code"], "not_found");
}

#[test]
fn deleting_archives_a_tenant_with_a_manifest_and_restoring_brings_it_back() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    let acme = create(&s, "Acme", "t_acme");
    let install_id = acme["install_id"].as_str().unwrap().to_owned();
    let t = s.app.tenants.get("t_acme").unwrap();
    licd::service::staff::create(
        &t,
        s.clock.now_utc(),
        &Actor::Cli,
        licd::service::staff::NewStaffInput {
            email: "owner@acme.test".into(),
            display_name: "Owner".into(),
            role: licd::domain::permissions::Role::SuperAdmin,
            password: Some("owner-password-1".into()),
        },
        12,
    )
    .unwrap();
    drop(t);
    std::fs::write(s.data_dir().join("files/t_acme/logo.txt"), b"acme logo").unwrap();
    let dir = s.stop();
    add_domain(dir.path(), "acme.test", "t_acme");
    let s = server(&v, dir);
    let acme_kid = kid_of(&s, "t_acme");
    let public_kid = kid_of(&s, "public");
    assert_eq!(kid_at(&s, "acme.test"), acme_kid);

    // `public` is never deleted.
    let body = expect_problem(
        api(&s, "DELETE", "/api/v1/tenants/public", None),
        409,
        "default_tenant_undeletable",
    );
    assert!(body["detail"].as_str().unwrap().contains("never"), "{body}");
    assert!(s.app.tenants.get("public").is_some());

    let deleted = ok(api(&s, "DELETE", "/api/v1/tenants/t_acme", None));
    let archive = deleted["archive"].as_str().unwrap().to_owned();
    assert!(archive.starts_with("deleted/t_acme-"), "{deleted}");
    assert_eq!(deleted["tenant"]["install_id"], install_id.as_str());
    assert_eq!(
        deleted["tenant"]["domains"],
        serde_json::json!(["acme.test"])
    );
    // Routing stopped: its host name is an unknown host now (the default tenant).
    assert!(s.app.tenants.get("t_acme").is_none());
    assert_eq!(kid_at(&s, "acme.test"), public_kid);
    // Moved, not dropped: the archive holds the database and files, and a manifest
    // in the backup's format that `licd backup --verify` accepts.
    let data = s.data_dir();
    assert!(!data.join("tenants/t_acme.db").exists());
    assert!(!data.join("files/t_acme").exists());
    let arch = data.join(&archive);
    assert!(arch.join("tenants/t_acme.db").is_file());
    assert_eq!(
        std::fs::read(arch.join("files/t_acme/logo.txt")).unwrap(),
        b"acme logo"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(arch.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["tenant"]["schema_name"], "t_acme");
    assert_eq!(manifest["tenant"]["name"], "Acme");
    assert_eq!(manifest["tenant"]["install_id"], install_id.as_str());
    assert_eq!(
        manifest["tenant"]["domains"],
        serde_json::json!(["acme.test"])
    );
    let paths: Vec<&str> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["files/t_acme/logo.txt", "tenants/t_acme.db"]);
    let out = run(licd().arg("backup").arg("--verify").arg(&arch));
    assert!(out.status.success(), "{}", text(&out));

    // Deleted, it keeps its schema_name (and Install ID) and can be neither renamed
    // nor deleted again.
    let shown = ok(api(&s, "GET", "/api/v1/tenants/t_acme", None));
    assert_eq!(shown["state"], "deleted");
    assert_eq!(shown["domains"], serde_json::json!([]));
    let again = api(
        &s,
        "POST",
        "/api/v1/tenants",
        Some(serde_json::json!({"name": "Other", "schema_name": "t_acme"})),
    );
    expect_problem(again, 409, "schema_name_taken");
    expect_problem(
        api(&s, "DELETE", "/api/v1/tenants/t_acme", None),
        409,
        "tenant_not_ready",
    );
    expect_problem(
        api(
            &s,
            "PATCH",
            "/api/v1/tenants/t_acme",
            Some(serde_json::json!({"name": "N"})),
        ),
        409,
        "tenant_not_ready",
    );
    expect_problem(
        api(&s, "POST", "/api/v1/tenants/public/restore", None),
        409,
        "tenant_not_deleted",
    );

    // Restored: same Install ID, data, files, signing key and host name.
    let restored = ok(api(&s, "POST", "/api/v1/tenants/t_acme/restore", None));
    assert_eq!(restored["tenant"]["state"], "ready");
    assert_eq!(restored["tenant"]["install_id"], install_id.as_str());
    assert_eq!(
        restored["tenant"]["domains"],
        serde_json::json!(["acme.test"])
    );
    assert_eq!(restored["domains_not_restored"], serde_json::json!([]));
    assert!(!arch.exists(), "the emptied archive is removed");
    assert_eq!(kid_at(&s, "acme.test"), acme_kid);
    let t = s.app.tenants.get("t_acme").unwrap();
    let staff = licd::service::staff::list(&t).unwrap();
    assert_eq!(staff.len(), 1);
    assert_eq!(
        std::fs::read(data.join("files/t_acme/logo.txt")).unwrap(),
        b"acme logo"
    );
    expect_problem(
        api(&s, "POST", "/api/v1/tenants/t_acme/restore", None),
        409,
        "tenant_not_deleted",
    );
    // And it survives a restart as an ordinary tenant.
    drop(t);
    let s = server(&v, s.stop());
    assert_eq!(kid_at(&s, "acme.test"), acme_kid);

    let actions: Vec<String> = registry_actions(&s.data_dir())
        .into_iter()
        .filter(|(_, a, _, _)| a == "tenant.delete" || a == "tenant.restore")
        .map(|(actor, a, target, d)| {
            format!(
                "{actor} {a} {target} {}",
                d["code"].as_str().unwrap_or(d["outcome"].as_str().unwrap())
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "tenancy_key:env tenant.delete tenant:public default_tenant_undeletable",
            "tenancy_key:env tenant.delete tenant:t_acme deleted",
            "tenancy_key:env tenant.delete tenant:t_acme tenant_not_ready",
            "tenancy_key:env tenant.restore tenant:public tenant_not_deleted",
            "tenancy_key:env tenant.restore tenant:t_acme restored",
            "tenancy_key:env tenant.restore tenant:t_acme tenant_not_deleted",
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
fn a_changed_archive_is_not_restored_and_domains_taken_meanwhile_stay_taken() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    create(&s, "Acme", "t_acme");
    let dir = s.stop();
    add_domain(dir.path(), "acme.test", "t_acme");
    add_domain(dir.path(), "shop.acme.test", "t_acme");
    let s = server(&v, dir);
    let deleted = ok(api(&s, "DELETE", "/api/v1/tenants/t_acme", None));
    let arch = s.data_dir().join(deleted["archive"].as_str().unwrap());
    let db = arch.join("tenants/t_acme.db");
    let original = std::fs::read(&db).unwrap();
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0xff;
    std::fs::write(&db, &changed).unwrap();
    let body = expect_problem(
        api(&s, "POST", "/api/v1/tenants/t_acme/restore", None),
        409,
        "tenant_archive_invalid",
    );
    assert!(
        body["detail"].as_str().unwrap().contains("checksum"),
        "{body}"
    );
    assert!(s.app.tenants.get("t_acme").is_none());
    assert!(!s.data_dir().join("tenants/t_acme.db").exists());
    std::fs::write(&db, &original).unwrap();

    // Meanwhile another tenant took one of its host names: the restore gives it back
    // the other and says which one it did not get.
    add_domain(&s.data_dir(), "shop.acme.test", "public");
    let restored = ok(api(&s, "POST", "/api/v1/tenants/t_acme/restore", None));
    assert_eq!(
        restored["tenant"]["domains"],
        serde_json::json!(["acme.test"])
    );
    assert_eq!(
        restored["domains_not_restored"],
        serde_json::json!(["shop.acme.test"])
    );
    assert_eq!(kid_at(&s, "acme.test"), kid_of(&s, "t_acme"));
}

/// Sets a tenant's registry row as a deletion or restoring cut short would leave it.
fn cut_short(data: &Path, state: &str, archive: &str) {
    let reg = rusqlite::Connection::open(data.join("registry.db")).unwrap();
    reg.execute(
        "UPDATE tenants SET state = ?1, archive = ?2, deleted_at = '2026-06-01T10:00:00.000000Z',
         archived_domains = '[\"acme.test\"]' WHERE schema_name = 't_acme'",
        [state, archive],
    )
    .unwrap();
    reg.execute("DELETE FROM domains WHERE schema_name = 't_acme'", [])
        .unwrap();
}

#[test]
fn a_deletion_or_a_restoring_cut_short_is_finished_at_the_next_start() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    create(&s, "Acme", "t_acme");
    std::fs::write(s.data_dir().join("files/t_acme/logo.txt"), b"logo").unwrap();
    let dir = s.stop();
    add_domain(dir.path(), "acme.test", "t_acme");

    // Deleting: the row says so, the database was moved, the files were not yet, no
    // manifest was written.
    let archive = "deleted/t_acme-20260601T100000000Z";
    cut_short(dir.path(), "deleting", archive);
    let arch = dir.path().join(archive);
    std::fs::create_dir_all(arch.join("tenants")).unwrap();
    std::fs::rename(
        dir.path().join("tenants/t_acme.db"),
        arch.join("tenants/t_acme.db"),
    )
    .unwrap();
    let s = server(&v, dir);
    assert!(s.app.tenants.get("t_acme").is_none());
    let shown = ok(api(&s, "GET", "/api/v1/tenants/t_acme", None));
    assert_eq!(shown["state"], "deleted");
    assert!(arch.join("files/t_acme/logo.txt").is_file());
    assert!(!s.data_dir().join("files/t_acme").exists());
    let out = run(licd().arg("backup").arg("--verify").arg(&arch));
    assert!(out.status.success(), "{}", text(&out));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(arch.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["tenant"]["domains"],
        serde_json::json!(["acme.test"])
    );
    let dir = s.stop();

    // Restoring: the database is back, the files still in the archive.
    cut_short(dir.path(), "restoring", archive);
    std::fs::rename(
        arch.join("tenants/t_acme.db"),
        dir.path().join("tenants/t_acme.db"),
    )
    .unwrap();
    let s = server(&v, dir);
    let shown = ok(api(&s, "GET", "/api/v1/tenants/t_acme", None));
    assert_eq!(shown["state"], "ready");
    assert_eq!(shown["domains"], serde_json::json!(["acme.test"]));
    assert!(s.data_dir().join("files/t_acme/logo.txt").is_file());
    assert!(!arch.exists());
    assert_eq!(kid_at(&s, "acme.test"), kid_of(&s, "t_acme"));
}

fn tenant_cli(config: &Path, args: &[&str]) -> std::process::Output {
    run(licd()
        .arg("--config")
        .arg(config)
        .arg("tenant")
        .args(args)
        .env("SUDO_USER", "ops-alice"))
}

#[test]
fn the_tenant_command_line_works_on_the_data_dir_and_is_audited_as_its_user() {
    let v = crate::enterprise::vendor();
    let root = tempfile::tempdir().unwrap();
    // A data dir whose default tenant has no license of its own yet: creation is
    // refused, as by the API.
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tenancy.enabled = true;
    });
    let dir = s.stop();
    let config = cli_config_at(root.path(), dir.path(), &v);
    let out = tenant_cli(
        &config,
        &["create", "--schema-name", "t_acme", "--name", "Acme"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no license of its own"),
        "{}",
        text(&out)
    );

    // Licensed through a server; while it runs, changes are refused (the tenancy API
    // is the way then), and listing works.
    let s = server(&v, dir);
    let out = tenant_cli(
        &config,
        &["create", "--schema-name", "t_acme", "--name", "Acme"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("a licd server is running"),
        "{}",
        text(&out)
    );
    let dir = s.stop();

    let out = tenant_cli(
        &config,
        &["create", "--schema-name", "t_acme", "--name", "Acme"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = tenant_cli(&config, &["rename", "t_acme", "--name", "Acme Europe"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tenant_cli(&config, &["list"]);
    let listed = text(&out);
    assert!(
        listed.contains("t_acme") && listed.contains("Acme Europe") && listed.contains("ready"),
        "{listed}"
    );
    let out = tenant_cli(&config, &["delete", "public"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("never be deleted"), "{}", text(&out));
    let out = tenant_cli(&config, &["delete", "t_acme"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("deleted/t_acme-"), "{}", text(&out));
    let out = tenant_cli(&config, &["restore", "t_acme"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tenant_cli(&config, &["delete", "t_acme"]);
    assert!(out.status.success(), "{}", text(&out));
    let archives = || {
        std::fs::read_dir(dir.path().join("deleted"))
            .unwrap()
            .count()
    };
    assert_eq!(archives(), 1);
    // An operator keeps a copy of the archive elsewhere.
    let kept = root.path().join("kept-archive");
    let arch = std::fs::read_dir(dir.path().join("deleted"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    copy_tree(&arch, &kept);
    // Deleted just now: not 30 days old, so kept; `0` takes every archive.
    let out = tenant_cli(&config, &["purge", "--older-than-days", "30"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(archives(), 1);
    let out = tenant_cli(&config, &["purge", "--older-than-days", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("purged t_acme"), "{}", text(&out));
    assert_eq!(archives(), 0);
    let listed = text(&tenant_cli(&config, &["list"]));
    assert!(!listed.contains("t_acme"), "{listed}");

    // The kept copy brings the purged tenant back, with its own Install ID; a second
    // time it is refused (the tenant is here).
    let kept_arg = kept.to_str().unwrap();
    let out = tenant_cli(&config, &["restore", "--archive", kept_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ready"), "{}", text(&out));
    let out = tenant_cli(&config, &["restore", "--archive", kept_arg]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is in this registry"), "{}", text(&out));

    // Purged for good, the schema_name is free again; a new tenant under it gets a new
    // Install ID.
    for args in [
        &["delete", "t_acme"][..],
        &["purge", "--older-than-days", "0"],
        &["create", "--schema-name", "t_acme", "--name", "New"],
    ] {
        let out = tenant_cli(&config, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }

    let entries = registry_actions(dir.path());
    let by_cli: Vec<String> = entries
        .iter()
        .filter(|(actor, _, _, _)| actor.starts_with("cli:"))
        .map(|(actor, a, _, d)| {
            format!(
                "{actor} {a} {}",
                d["code"]
                    .as_str()
                    .unwrap_or(d["outcome"].as_str().unwrap_or("-"))
            )
        })
        .collect();
    assert_eq!(
        by_cli,
        [
            "cli:ops-alice tenant.create default_license_missing",
            "cli:ops-alice tenant.create created",
            "cli:ops-alice tenant.rename renamed",
            "cli:ops-alice tenant.list -",
            "cli:ops-alice tenant.delete default_tenant_undeletable",
            "cli:ops-alice tenant.delete deleted",
            "cli:ops-alice tenant.restore restored",
            "cli:ops-alice tenant.delete deleted",
            "cli:ops-alice tenant.purge purged",
            "cli:ops-alice tenant.list -",
            "cli:ops-alice tenant.adopt_archive adopted",
            "cli:ops-alice tenant.restore restored",
            "cli:ops-alice tenant.adopt_archive schema_name_taken",
            "cli:ops-alice tenant.delete deleted",
            "cli:ops-alice tenant.purge purged",
            "cli:ops-alice tenant.create created",
        ]
    );
    let installs: Vec<&str> = entries
        .iter()
        .filter(|(_, a, _, d)| {
            (a == "tenant.create" && d["outcome"] == "created") || a == "tenant.purge"
        })
        .map(|(_, _, _, d)| d["install_id"].as_str().unwrap())
        .collect();
    // Created, purged, (restored from the kept copy,) purged with the same Install ID;
    // the new tenant's is another.
    assert_eq!(installs.len(), 4);
    assert_eq!(installs[0], installs[1]);
    assert_eq!(installs[1], installs[2]);
    assert_ne!(installs[0], installs[3]);
    let out = run(licd()
        .arg("--config")
        .arg(&config)
        .arg("audit")
        .arg("verify"));
    assert!(out.status.success(), "{}", text(&out));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// `cli_config` for a data dir elsewhere.
fn cli_config_at(dir: &Path, data: &Path, v: &crate::enterprise::Vendor) -> std::path::PathBuf {
    let p = dir.join("licd-at.toml");
    std::fs::write(
        &p,
        format!(
            "[storage]\ndata_dir = {:?}\n\n[tenancy]\nenabled = true\n\n[licensing]\ntrusted_issuers = [{:?}]\n",
            data, v.jwks
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_backup_holds_every_tenant_the_registry_and_the_archives() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    let acme = create(&s, "Acme", "t_acme");
    create(&s, "Beta", "t_beta");
    std::fs::write(s.data_dir().join("files/t_acme/a.txt"), b"a").unwrap();
    ok(api(&s, "DELETE", "/api/v1/tenants/t_beta", None));
    let acme_kid = kid_of(&s, "t_acme");

    // Backed up while the server runs.
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("b");
    let out = run(licd()
        .arg("--data-dir")
        .arg(s.data_dir())
        .arg("backup")
        .arg("--out")
        .arg(&backup));
    assert!(out.status.success(), "{}", text(&out));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let paths: Vec<&str> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for want in [
        "registry.db",
        "tenants/public.db",
        "tenants/t_acme.db",
        "files/t_acme/a.txt",
    ] {
        assert!(paths.contains(&want), "{want} missing: {paths:?}");
    }
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("deleted/t_beta-") && p.ends_with("/tenants/t_beta.db")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("deleted/t_beta-") && p.ends_with("/manifest.json")),
        "{paths:?}"
    );
    drop(s);

    // Restored into a new directory: both tenants come back, the deleted one restorable.
    let target = tempfile::tempdir().unwrap();
    std::fs::remove_dir(target.path()).unwrap();
    let out = run(licd()
        .arg("--data-dir")
        .arg(target.path())
        .arg("restore")
        .arg(&backup));
    assert!(out.status.success(), "{}", text(&out));
    let s = server(&v, target);
    assert_eq!(kid_of(&s, "t_acme"), acme_kid);
    let shown = ok(api(&s, "GET", "/api/v1/tenants/t_acme", None));
    assert_eq!(shown["install_id"], acme["install_id"]);
    assert_eq!(
        std::fs::read(s.data_dir().join("files/t_acme/a.txt")).unwrap(),
        b"a"
    );
    let beta = ok(api(&s, "GET", "/api/v1/tenants/t_beta", None));
    assert_eq!(beta["state"], "deleted");
    let restored = ok(api(&s, "POST", "/api/v1/tenants/t_beta/restore", None));
    assert_eq!(restored["tenant"]["state"], "ready");
    assert!(s.app.tenants.get("t_beta").is_some());
}

#[test]
fn deletion_waits_for_requests_in_flight_before_moving_the_database() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    create(&s, "Acme", "t_acme");
    // A request in flight holds the tenant (as a handler's context does).
    let in_flight = s.app.tenants.get("t_acme").unwrap();
    let base = s.url("/api/v1/tenants/t_acme");
    let deleting = std::thread::spawn(move || {
        client()
            .delete(base)
            .bearer_auth(KEY)
            .send()
            .unwrap()
            .status()
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    // Routing has stopped, but the database stays in place while it is in use...
    assert!(s.app.tenants.get("t_acme").is_none());
    assert!(s.data_dir().join("tenants/t_acme.db").is_file());
    assert!(!deleting.is_finished());
    let staff = licd::service::staff::list(&in_flight).unwrap();
    assert!(staff.is_empty());
    // ...and moves once the request let go of it.
    drop(in_flight);
    assert_eq!(deleting.join().unwrap(), 200);
    assert!(!s.data_dir().join("tenants/t_acme.db").exists());
}

#[test]
fn a_command_beside_a_running_server_leaves_its_work_in_progress_alone() {
    let v = crate::enterprise::vendor();
    let s = server(&v, tempfile::tempdir().unwrap());
    // The server is creating a tenant right now (row `creating`, database being made).
    let reg = rusqlite::Connection::open(s.data_dir().join("registry.db")).unwrap();
    reg.execute(
        "INSERT INTO tenants (schema_name, name, install_id, created_at, state) VALUES ('t_new', 'New', 'I-new', '2026-06-01T09:00:00.000000Z', 'creating')",
        [],
    )
    .unwrap();
    drop(reg);
    std::fs::write(s.data_dir().join("tenants/t_new.db.tmp"), b"being copied").unwrap();
    let root = tempfile::tempdir().unwrap();
    let config = cli_config_at(root.path(), &s.data_dir(), &v);
    for args in [&["tenant", "list"][..], &["audit", "verify"]] {
        let out = run(licd().arg("--config").arg(&config).args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        // Not taken for a creation cut short: the server is still at it.
        assert!(
            s.data_dir().join("tenants/t_new.db.tmp").exists(),
            "{args:?}"
        );
        let state: String = rusqlite::Connection::open(s.data_dir().join("registry.db"))
            .unwrap()
            .query_row(
                "SELECT state FROM tenants WHERE schema_name = 't_new'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(state, "creating", "{args:?}");
    }
}

#[test]
fn the_cli_routes_domains_and_issues_recovery_links_audited_as_its_user() {
    let v = crate::enterprise::vendor();
    let root = tempfile::tempdir().unwrap();
    let s = server(&v, tempfile::tempdir().unwrap());
    let dir = s.stop();
    let config = cli_config_at(root.path(), dir.path(), &v);
    let out = tenant_cli(
        &config,
        &["create", "--schema-name", "t_acme", "--name", "Acme"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // No domain yet: a recovery link has nowhere to point.
    let out = tenant_cli(
        &config,
        &["recovery-key", "t_acme", "--email", "root@acme.example"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("domain"), "{}", text(&out));
    let out = tenant_cli(&config, &["domain", "add", "t_acme", "Acme.Localhost."]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tenant_cli(&config, &["domain", "add", "t_acme", "10.0.0.1"]);
    assert!(!out.status.success(), "an IP address is no domain");
    let out = tenant_cli(&config, &["domain", "list", "t_acme"]);
    assert_eq!(text(&out).trim(), "acme.localhost (primary)");
    let out = tenant_cli(
        &config,
        &[
            "recovery-key",
            "t_acme",
            "--email",
            "root@acme.example",
            "--lifetime",
            "2h",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let url = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        url.starts_with("https://acme.localhost:8443/recover?key="),
        "{url}"
    );
    let path = &url[url.find("/recover?key=").expect("a /recover link")..];

    // The server routes the domain and knows the link.
    let s = server(&v, dir);
    let page = client()
        .get(s.url(path))
        .header("host", "acme.localhost")
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(
        page.contains("recover-confirm") && page.contains("Acme"),
        "{page}"
    );
    let dir = s.stop();
    let out = tenant_cli(&config, &["domain", "remove", "t_acme", "acme.localhost"]);
    assert!(out.status.success(), "{}", text(&out));
    let actions: Vec<(String, String)> = registry_actions(dir.path())
        .into_iter()
        .filter(|(_, a, _, _)| a.starts_with("tenant.domain") || a.starts_with("tenant.recovery"))
        .map(|(actor, action, _, _)| (actor, action))
        .collect();
    let by_alice = |a: &str| ("cli:ops-alice".to_owned(), a.to_owned());
    assert!(
        actions.contains(&by_alice("tenant.domain.add")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&by_alice("tenant.domain.remove")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&by_alice("tenant.recovery_key.issue")),
        "{actions:?}"
    );
}
