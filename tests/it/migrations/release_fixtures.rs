//! Data directories made by released licd versions (`tests/fixtures/licd-<version>/`)
//! open in today's licd: their databases are upgraded, and staff, tokens, licenses,
//! activations, directives and the audit chain carry on. Every release adds its own
//! fixture with `this_release_has_its_fixture` and `LICD_MAKE_FIXTURE=1` (see tests/fixtures/README.md).

use super::{manifest_dir, user_version};
use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate, heartbeat, lease_of};
use chrono::Duration;
use licd::domain::permissions::Role;
use licd::store::migrate::{REGISTRY, TENANT};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const STAFF_EMAIL: &str = "support@example.com";
const STAFF_PASSWORD: &str = "support-password-1";
const FINGERPRINT: &str = "BOX-A";
const MESSAGE: &str = "fixture: still here after the upgrade";

fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

/// Copies a directory tree, leaving out what `skip` names.
fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if skip(&src) {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst, skip);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Git keeps no modes: give the copy the private modes licd insists on.
fn make_private(data: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let set = |p: &str, mode: u32| {
        let p = data.join(p);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    for (p, mode) in [
        ("", 0o750),
        ("tenants", 0o750),
        ("keys", 0o700),
        ("keys/kek", 0o600),
        ("ca", 0o700),
        ("ca/ca.key", 0o600),
        ("registry.db", 0o600),
        ("tenants/public.db", 0o600),
    ] {
        set(p, mode);
    }
}

#[test]
fn every_release_fixture_opens_and_upgrades() {
    let mut releases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fixture.json").exists())
        .collect();
    releases.sort();
    assert!(
        !releases.is_empty(),
        "no release fixtures under tests/fixtures"
    );
    for release in releases {
        check_release(&release);
    }
}

fn check_release(release: &Path) {
    let name = release.file_name().unwrap().to_string_lossy().into_owned();
    let facts: Value =
        serde_json::from_str(&std::fs::read_to_string(release.join("fixture.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&release.join("data"), dir.path(), &|_| false);
    make_private(dir.path());
    let (tenant_db, registry_db) = (
        dir.path().join("tenants/public.db"),
        dir.path().join("registry.db"),
    );
    assert_eq!(
        user_version(&tenant_db),
        facts["tenant_schema"].as_i64().unwrap(),
        "{name}: the fixture is at its release's version"
    );
    let install_id: String = rusqlite::Connection::open(&registry_db)
        .unwrap()
        .query_row(
            "SELECT install_id FROM tenants WHERE schema_name = 'public'",
            [],
            |r| r.get(0),
        )
        .unwrap();

    // Today's licd opens it an hour after it was made, upgrading both databases.
    let s = TestServer::start_at(dir, Some(t0() + Duration::hours(1)), |_| {});
    assert_eq!(user_version(&tenant_db), TENANT.version, "{name}");
    assert_eq!(user_version(&registry_db), REGISTRY.version, "{name}");

    // Its token and its staff's passwords still work.
    let token = facts["token"].as_str().unwrap().to_owned();
    let me: Value = client()
        .get(s.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["user"]["email"], ADMIN_EMAIL, "{name}: {me}");
    assert_eq!(me["install_id"], install_id.as_str(), "{name}: {me}");
    api_login(&s, STAFF_EMAIL, STAFF_PASSWORD);

    // The license, its activation, heartbeats and the waiting directive are there.
    let api = Api { s: &s, token };
    let id = facts["license_id"].as_str().unwrap();
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["state"], "active", "{name}: {detail}");
    assert_eq!(
        detail["activations"][0]["fingerprint"], FINGERPRINT,
        "{name}: {detail}"
    );
    assert!(
        detail["directives"].to_string().contains(MESSAGE),
        "{name}: {detail}"
    );
    assert_eq!(
        detail["heartbeats"].as_array().unwrap().len() as u64,
        facts["heartbeats"].as_u64().unwrap(),
        "{name}: {detail}"
    );

    // The appliance carries on where it left off and gets the directive.
    let secret = facts["activation_secret"].as_str().unwrap();
    let seq = facts["next_seq"].as_i64().unwrap();
    let lease = lease_of(&api.ok(heartbeat(&s, id, secret, FINGERPRINT, seq)));
    assert_eq!(lease["seq"], seq + 1, "{name}: {lease}");
    assert_eq!(lease["state"], "active", "{name}: {lease}");
    assert!(
        lease["directives"].to_string().contains(MESSAGE),
        "{name}: {lease}"
    );

    // Its key carries on: a renewal supersedes it, and its history has both.
    let key = detail["license_key"].as_str().unwrap();
    let keys = detail["keys"].as_array().unwrap().len();
    let renewed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/renew"),
        json!({"expires_at": (t0() + Duration::days(800)).to_rfc3339()}),
    ));
    let after = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let history = after["keys"].as_array().unwrap();
    assert_eq!(history.len(), keys + 1, "{name}: {after}");
    assert_eq!(history[0]["license_key"], renewed["license_key"], "{name}");
    assert_eq!(history[1]["license_key"], key, "{name}");
    assert!(history[1]["superseded_at"].is_string(), "{name}: {after}");

    // New writes go in next to the old ones.
    api.issue(INSTALL, 30);

    // The audit chain, old entries and new, is intact.
    let dir = s.stop();
    let out = run(licd().args([
        "audit",
        "verify",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{name}: {}", text(&out));
    assert!(
        text(&out).contains("public: audit chain intact"),
        "{name}: {}",
        text(&out)
    );
}

/// Every release has its fixture: this fails when the version was bumped without one.
/// With `LICD_MAKE_FIXTURE=1` it makes this release's fixture instead; run that once,
/// when the release is cut, and commit the result (see tests/fixtures/README.md):
/// `LICD_MAKE_FIXTURE=1 cargo test --test it migrations::release_fixtures::this_release_has_its_fixture`
#[test]
fn this_release_has_its_fixture() {
    let version = env!("CARGO_PKG_VERSION");
    let out = fixtures().join(format!("licd-{version}"));
    if std::env::var_os("LICD_MAKE_FIXTURE").is_none() {
        assert!(
            out.join("data/registry.db").exists(),
            "{} is missing: make this release's fixture with LICD_MAKE_FIXTURE=1 \
             cargo test --test it migrations::release_fixtures::this_release_has_its_fixture",
            out.display()
        );
        return;
    }
    assert!(
        !out.exists(),
        "{} exists: a release's fixture never changes (bump the version first)",
        out.display()
    );
    let s = TestServer::start();
    let api = Api::new(&s);
    s.create_staff(STAFF_EMAIL, Role::Support, STAFF_PASSWORD);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let activated = api.ok(activate(&s, &license, FINGERPRINT));
    let secret = activated["activation_secret"].as_str().unwrap().to_owned();
    let mut seq = 1;
    for _ in 0..3 {
        s.clock.advance(Duration::minutes(5));
        let lease = lease_of(&api.ok(heartbeat(&s, &id, &secret, FINGERPRINT, seq)));
        seq = lease["seq"].as_i64().unwrap();
    }
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": MESSAGE}),
    ));
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let heartbeats = detail["heartbeats"].as_array().unwrap().len();
    assert!(heartbeats >= 3, "{detail}");
    let token = api.token.clone();
    let dir = s.stop();

    // Fold each database's WAL into it, then keep the databases, the KEK and the CA
    // (template.db is rebuilt at every start).
    for db in ["registry.db", "tenants/public.db"] {
        let c = rusqlite::Connection::open(dir.path().join(db)).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    copy_tree(dir.path(), &out.join("data"), &|p: &Path| {
        let n = p.file_name().unwrap().to_string_lossy();
        n == "template.db" || n == "files" || n.ends_with("-wal") || n.ends_with("-shm")
    });
    let facts = json!({
        "licd_version": version,
        "tenant_schema": TENANT.version,
        "registry_schema": REGISTRY.version,
        "made_at": (t0() + Duration::minutes(15)).to_rfc3339(),
        "admin_email": ADMIN_EMAIL,
        "token": token,
        "staff_email": STAFF_EMAIL,
        "license_id": id,
        "activation_secret": secret,
        "fingerprint": FINGERPRINT,
        "heartbeats": heartbeats,
        "next_seq": seq,
        "directive": MESSAGE,
    });
    std::fs::write(
        out.join("fixture.json"),
        serde_json::to_string_pretty(&facts).unwrap() + "\n",
    )
    .unwrap();
}
