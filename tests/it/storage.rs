use crate::harness::*;
use licd::domain::permissions::Role;

#[test]
fn data_survives_a_restart() {
    let s = TestServer::start();
    let id = s.create_staff("keep@example.com", Role::Onboarding, "keep-password-1");
    let token = s.token_for(id);
    let install_id = s.app.tenants.public().unwrap().install_id.clone();
    let dir = s.stop();
    let s = TestServer::start_in(dir, |_| {});
    assert_eq!(s.app.tenants.public().unwrap().install_id, install_id);
    let r = client()
        .get(s.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let (c, _) = api_login(&s, "keep@example.com", "keep-password-1");
    assert_eq!(c.get(s.url("/api/v1/me")).send().unwrap().status(), 200);
}

#[test]
fn a_newer_database_is_refused_with_a_clear_message() {
    let s = TestServer::start();
    let dir = s.stop();
    let db = rusqlite::Connection::open(dir.path().join("tenants/public.db")).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    let out = run(licd().args([
        "audit",
        "verify",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("public.db"), "{t}");
    let supported = licd::store::migrate::TENANT.version;
    assert!(
        t.contains(&format!(
            "schema version 99 is newer than this licd supports ({supported})"
        )),
        "{t}"
    );
    // `serve` refuses too, before listening.
    let out = run(licd().args([
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("newer than this licd supports"),
        "{}",
        text(&out)
    );
}

#[test]
fn data_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start();
    let d = s.data_dir();
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("registry.db"), 0o600);
    assert_eq!(mode("tenants/public.db"), 0o600);
    assert_eq!(mode("template.db"), 0o600);
    assert_eq!(mode("keys"), 0o700);
    assert_eq!(mode("tenants"), 0o750);
}

#[test]
fn commands_on_a_missing_data_dir_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = run(licd().args([
        "admin",
        "reset-password",
        "--email",
        "a@b.c",
        "--data-dir",
        missing.to_str().unwrap(),
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a licd data directory"),
        "{}",
        text(&out)
    );
    assert!(
        !missing.exists(),
        "an admin command must not create a data dir"
    );
}

#[test]
fn admin_cli_manages_accounts_and_tokens() {
    let s = TestServer::start();
    let dir = s.stop();
    let data = dir.path().to_str().unwrap();
    let out = run(licd().args([
        "admin",
        "create",
        "--email",
        "cli@example.com",
        "--role",
        "support",
        "--data-dir",
        data,
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("one-time password"));
    let out = run(licd().args([
        "admin",
        "create",
        "--email",
        "x@example.com",
        "--role",
        "king",
        "--data-dir",
        data,
    ]));
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown role"), "{}", text(&out));
    let out = run(licd().args([
        "admin",
        "token",
        "create",
        "--email",
        "cli@example.com",
        "--name",
        "auto",
        "--data-dir",
        data,
    ]));
    assert!(out.status.success(), "{}", text(&out));
    // The account still has its one-time password: the token is held back like a session.
    assert!(
        text(&out).contains("must still change a one-time password"),
        "{}",
        text(&out)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("licd_"));
    let out = run(licd().args([
        "admin",
        "token",
        "create",
        "--email",
        "ghost@example.com",
        "--name",
        "x",
        "--data-dir",
        data,
    ]));
    assert!(!out.status.success());
    assert!(text(&out).contains("no staff account has the email ghost@example.com"));

    let s = TestServer::start_in(dir, |_| {});
    expect_problem(
        client()
            .get(s.url("/api/v1/audit"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        403,
        "password_change_required",
    );
    assert_eq!(
        client()
            .get(s.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status(),
        200
    );
    let dir = s.stop();
    let out = run(licd().args([
        "admin",
        "disable",
        "--email",
        "cli@example.com",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let s = TestServer::start_in(dir, |_| {});
    assert_eq!(
        client()
            .get(s.url("/api/v1/audit"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status(),
        401
    );
}

/// The local CA: made on first start with a 0600 key, served at /ca.pem with its
/// fingerprint, exported by `licd ca export`, and kept across restarts.
#[test]
fn the_local_ca_is_made_once_served_and_exported() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start();
    let d = s.data_dir();
    let key_mode = std::fs::metadata(d.join("ca/ca.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
    let on_disk = std::fs::read_to_string(d.join("ca/ca.pem")).unwrap();
    let r = client().get(s.url("/ca.pem")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-pem-file");
    let fp = r.headers()["x-licd-ca-fingerprint"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(fp, s.app.ca.fingerprint());
    assert_eq!(r.text().unwrap(), on_disk);
    let dir = s.stop();
    let out = run(licd().args(["ca", "export", "--data-dir", dir.path().to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), on_disk);
    assert!(text(&out).contains(&fp));
    let s = TestServer::start_in(dir, |_| {});
    assert_eq!(s.app.ca.fingerprint(), fp, "the CA survives a restart");
    // A world-readable CA key stops startup, naming the file.
    let dir = s.stop();
    std::fs::set_permissions(
        dir.path().join("ca/ca.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = run(licd().args([
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("ca/ca.key") && text(&out).contains("mode 644"),
        "{}",
        text(&out)
    );
}
