//! Many tenants cheaply: a tenant other than `public` is opened on first use (its schema
//! brought up to date then), closed when idle unless something holds it, and a closed
//! tenant is opened by the scheduler only when something in it is due. Observed from
//! outside: the server's open file descriptors (the test process is the server
//! process), `/metrics`, the registry and the tenant's database file.

use crate::harness::*;
use crate::metrics::{scrape, value};
use crate::tenancy::{create, licensed_server};
use chrono::{DateTime, Duration, Utc};
use licd::domain::license::LicenseRequest;
use licd::service::Actor;
use licd::store::migrate::TENANT;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A licensed server (tenancy on) whose default tenant holds a valid license, and the
/// tenant `t_acme` made through the API.
fn with_tenant() -> (crate::enterprise::Vendor, TestServer) {
    let v = crate::enterprise::vendor();
    let s = licensed_server(&v, tempfile::tempdir().unwrap());
    let public = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &public.install_id, 5, now, 365);
    licd::service::enterprise::install(&s.app, &public, now, &Actor::Cli, &key).unwrap();
    assert_eq!(create(&s, "Acme", "t_acme").status(), 201);
    (v, s)
}

/// The tenant's database files (with WAL and shared memory) held open by this process.
fn fds_on(s: &TestServer, schema_name: &str) -> usize {
    let db = std::fs::canonicalize(s.data_dir())
        .unwrap()
        .join(format!("tenants/{schema_name}.db"));
    let db = db.to_str().unwrap().to_owned();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_str().is_some_and(|t| t.starts_with(&db)))
        .count()
}

fn tenant_db(s: &TestServer, schema_name: &str) -> PathBuf {
    s.data_dir().join(format!("tenants/{schema_name}.db"))
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// When the registry says a closed tenant's scheduled work is next due.
fn due_at(s: &TestServer, schema_name: &str) -> Option<String> {
    use rusqlite::OptionalExtension;
    rusqlite::Connection::open(s.data_dir().join("registry.db"))
        .unwrap()
        .query_row(
            "SELECT due_at FROM tenant_schedule WHERE schema_name = ?1",
            [schema_name],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    licd::store::ts(t)
}

/// A client that sends `host` to this server (as a browser would for a tenant domain).
fn host_client(s: &TestServer, host: &str) -> (reqwest::blocking::Client, String) {
    let base = reqwest::Url::parse(&s.url("/")).unwrap();
    let port = base.port().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let c = reqwest::blocking::Client::builder()
        .resolve(host, addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (c, format!("http://{host}:{port}"))
}

/// Takes a tenant database one schema step back (as an older licd left it): the last
/// step's (25) state rows kept by license id again, each time as text, and activations
/// naming their license by id, with the tables' indexes and triggers as step 24 left
/// them (made by running steps 1 to 24); its version one lower. (The licenses keep
/// their numbers, which step 25 rebuilds the table from.)
fn one_step_back(path: &Path) {
    let earlier = rusqlite::Connection::open_in_memory().unwrap();
    for (_, step) in TENANT
        .numbered_steps()
        .take_while(|(n, _)| *n < TENANT.version)
    {
        earlier
            .execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", step.sql))
            .unwrap();
    }
    let definitions: Vec<String> = earlier
        .prepare(
            "SELECT sql FROM sqlite_schema
             WHERE tbl_name IN ('activations', 'heartbeat_state') AND sql IS NOT NULL
             ORDER BY type = 'table' DESC, tbl_name, type, name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let c = rusqlite::Connection::open(path).unwrap();
    c.create_scalar_function(
        "text_of",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |cx| {
            let v: Option<i64> = cx.get(0)?;
            Ok(v.map(|v| licd::store::ts(chrono::DateTime::from_timestamp_micros(v).unwrap())))
        },
    )
    .unwrap();
    c.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         CREATE TABLE state_25 AS SELECT l.id, text_of(h.last_seen_at), h.last_heartbeat_id,
             h.activation_id, h.last_seq, h.last_lease_hash, h.active, h.credential_digest,
             h.assessed_at, h.assessed_until, h.assessed_stage, h.assessed_internal_users,
             h.assessed_external_users, h.seen_day
         FROM heartbeat_state h JOIN licenses l ON l.no = h.license_no;
         CREATE TABLE activations_25 AS SELECT a.id, l.id, a.fingerprint, a.hostname,
             a.secret_hash, a.created_at, a.superseded_at, a.superseded_reason, a.last_seq,
             a.last_lease_hash
         FROM activations a JOIN licenses l ON l.no = a.license_no;
         DROP TABLE heartbeat_state;
         DROP TABLE activations;
         {};
         INSERT INTO activations SELECT * FROM activations_25;
         INSERT INTO heartbeat_state SELECT * FROM state_25;
         DROP TABLE activations_25;
         DROP TABLE state_25;
         COMMIT;",
        definitions.join(";\n")
    ))
    .unwrap();
    c.pragma_update(None, "user_version", TENANT.version - 1)
        .unwrap();
}

/// Issues a license in Acme's tenant, in-process, now: its view as JSON.
fn issue_in_acme(s: &TestServer, expires: DateTime<Utc>) -> Value {
    let t = s.app.tenants.get("t_acme").unwrap();
    let req = LicenseRequest {
        name: "Plant 7".into(),
        install_id: "I-acme-1".into(),
        organization: "Acme".into(),
        organization_id: None,
        internal_users: 5,
        external_users: 0,
        features: vec![],
        flags: vec![],
        not_before: None,
        expires_at: expires,
    };
    let license =
        licd::service::licenses::issue(&s.app, &t, s.clock.now_utc(), &Actor::Cli, &req).unwrap();
    serde_json::to_value(&license).unwrap()
}

fn jwks_kid(c: &reqwest::blocking::Client, base: &str) -> String {
    let r = c
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().unwrap();
    body["keys"][0]["kid"].as_str().unwrap().to_owned()
}

#[test]
fn a_tenant_stays_closed_after_a_restart_until_a_request_needs_it_and_is_upgraded_then() {
    let (v, s) = with_tenant();
    let acme_kid = s
        .app
        .tenants
        .get("t_acme")
        .unwrap()
        .keyring()
        .unwrap()
        .jwks()
        .keys[0]
        .kid
        .clone()
        .unwrap();
    // A license of Acme's, to carry across the upgrade.
    let expires = s.clock.now_utc() + Duration::days(30);
    let license = issue_in_acme(&s, expires);
    let dir = s.stop();
    // acme.localhost routes to t_acme, whose database an older licd left a step behind.
    rusqlite::Connection::open(dir.path().join("registry.db"))
        .unwrap()
        .execute(
            "INSERT INTO domains (domain, schema_name, created_at) VALUES ('acme.localhost', 't_acme', '2026-06-01T09:00:00.000000Z')",
            [],
        )
        .unwrap();
    one_step_back(&dir.path().join("tenants/t_acme.db"));

    let s = licensed_server(&v, dir);
    assert!(!s.app.tenants.is_open("t_acme"));
    assert_eq!(fds_on(&s, "t_acme"), 0);
    assert!(fds_on(&s, "public") > 0);
    let m = scrape(&s);
    assert_eq!(value(&m, "licd_tenants_open", &[]), 1.0);
    assert_eq!(value(&m, "licd_tenants", &[]), 2.0);
    assert_eq!(user_version(&tenant_db(&s, "t_acme")), TENANT.version - 1);

    // A request for the default tenant leaves it closed.
    let public_kid = jwks_kid(&client(), &s.url(""));
    assert_ne!(public_kid, acme_kid);
    assert!(!s.app.tenants.is_open("t_acme"));

    // One for its host opens it: its own keys answer, and its schema is current.
    let (c, base) = host_client(&s, "acme.localhost");
    assert_eq!(jwks_kid(&c, &base), acme_kid);
    assert!(s.app.tenants.is_open("t_acme"));
    assert!(fds_on(&s, "t_acme") > 0);
    assert_eq!(user_version(&tenant_db(&s, "t_acme")), TENANT.version);
    assert_eq!(value(&scrape(&s), "licd_tenants_open", &[]), 2.0);
    // Its license is as it was issued, its key with it.
    let t = s.app.tenants.get("t_acme").unwrap();
    let id = license["id"].as_str().unwrap();
    let detail = licd::service::licenses::detail(&t, s.clock.now_utc(), id).unwrap();
    let detail = serde_json::to_value(&detail).unwrap();
    for field in [
        "expires_at",
        "issued_at",
        "not_before",
        "license_key",
        "state",
    ] {
        assert_eq!(detail[field], license[field], "{field}: {detail}");
    }
}

#[test]
fn an_idle_tenant_closes_unless_something_holds_it_and_opens_again_on_use() {
    let (_v, s) = with_tenant();
    assert_eq!(s.app.config.tenancy.idle_close().num_minutes(), 15);
    // Creation leaves it open.
    assert!(s.app.tenants.is_open("t_acme"));
    s.clock.advance(Duration::minutes(14));
    licd::jobs::run_due(&s.app);
    assert!(s.app.tenants.is_open("t_acme"), "closed before 15 minutes");

    // Held (as a request holds its tenant) past the idle time: not closed.
    let held = s.app.tenants.get("t_acme").unwrap();
    s.clock.advance(Duration::minutes(16));
    assert!(licd::jobs::run_due(&s.app).contains(&"tenant-idle-close"));
    assert!(s.app.tenants.is_open("t_acme"), "closed while in use");
    drop(held);
    s.clock.advance(Duration::minutes(1));
    licd::jobs::run_due(&s.app);
    assert!(!s.app.tenants.is_open("t_acme"));
    assert_eq!(fds_on(&s, "t_acme"), 0);
    assert!(s.app.tenants.is_open("public"), "public never closes");
    // Nothing in it is dated: it is looked at again within a day.
    let closed_at = s.clock.now_utc();
    assert_eq!(
        due_at(&s, "t_acme"),
        Some(ts(
            closed_at + licd::service::tenant_opening::CLOSED_TENANT_CHECK
        ))
    );

    // Used again: open, and its schedule is no longer the registry's to keep.
    let t = s.app.tenants.get("t_acme").unwrap();
    assert_eq!(t.name(), "Acme");
    assert!(fds_on(&s, "t_acme") > 0);
    assert_eq!(due_at(&s, "t_acme"), None);
}

#[test]
fn the_scheduler_opens_a_closed_tenant_only_when_something_in_it_is_due() {
    let (_v, s) = with_tenant();
    let now = s.clock.now_utc();
    let expires = now + Duration::hours(2);
    let license = issue_in_acme(&s, expires);
    let id = license["id"].as_str().unwrap().to_owned();
    s.clock.advance(Duration::minutes(16));
    licd::jobs::run_due(&s.app);
    assert!(!s.app.tenants.is_open("t_acme"));
    // Its next dated change is the license's expiry.
    assert_eq!(
        due_at(&s, "t_acme"),
        Some(ts(expires + Duration::seconds(1)))
    );
    let sweeps =
        |s: &TestServer| value(&scrape(s), "licd_sweep_runs_total", &[("tenant", "t_acme")]);
    let before = sweeps(&s);
    let state = |s: &TestServer| -> String {
        rusqlite::Connection::open(tenant_db(s, "t_acme"))
            .unwrap()
            .query_row("SELECT state FROM licenses WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .unwrap()
    };

    // A minute before: the sweep runs and leaves it closed.
    s.clock.set(expires - Duration::minutes(1));
    assert!(licd::jobs::run_due(&s.app).contains(&"licensing-sweep"));
    assert_eq!(sweeps(&s), before);
    assert!(!s.app.tenants.is_open("t_acme"));
    assert_eq!(state(&s), "issued");

    // Once expired: opened, swept, closed again. Its installation is in violation
    // now; the next date is within a day.
    s.clock.set(expires + Duration::seconds(5));
    assert!(licd::jobs::run_due(&s.app).contains(&"licensing-sweep"));
    assert_eq!(sweeps(&s), before + 1.0);
    assert_eq!(state(&s), "expired");
    assert!(!s.app.tenants.is_open("t_acme"));
    assert_eq!(fds_on(&s, "t_acme"), 0);
    let checked = s.clock.now_utc() + licd::service::tenant_opening::CLOSED_TENANT_CHECK;
    assert_eq!(due_at(&s, "t_acme"), Some(ts(checked)));

    // Daily checks until the installation's violation is less than a day from its first
    // stage (14 days after the expiry), which is then due to the second.
    s.clock
        .set(expires + Duration::days(13) + Duration::hours(1));
    licd::jobs::run_due(&s.app);
    let admin_warning = expires + Duration::days(14) + Duration::seconds(1);
    assert_eq!(due_at(&s, "t_acme"), Some(ts(admin_warning)));
    let stage = |s: &TestServer| -> String {
        rusqlite::Connection::open(tenant_db(s, "t_acme"))
            .unwrap()
            .query_row(
                "SELECT stage FROM installations WHERE install_id = 'I-acme-1'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(stage(&s), "none");
    s.clock.set(admin_warning);
    licd::jobs::run_due(&s.app);
    assert_eq!(stage(&s), "admin_warning");
    assert!(!s.app.tenants.is_open("t_acme"));
}

#[test]
fn appliance_calls_and_sweeps_are_counted_per_tenant() {
    let (v, s) = with_tenant();
    let dir = s.stop();
    rusqlite::Connection::open(dir.path().join("registry.db"))
        .unwrap()
        .execute(
            "INSERT INTO domains (domain, schema_name, created_at) VALUES ('acme.localhost', 't_acme', '2026-06-01T09:00:00.000000Z')",
            [],
        )
        .unwrap();
    let s = licensed_server(&v, dir);
    let t = s.app.tenants.get("t_acme").unwrap();
    let now = s.clock.now_utc();
    let license = issue_in_acme(&s, now + Duration::days(30));
    let id = license["id"].as_str().unwrap();
    let (c, base) = host_client(&s, "acme.localhost");
    let r = c
        .post(format!("{base}/api/v1/licenses/{id}/activate"))
        .json(&json!({
            "license_key": license["license_key"], "fingerprint": "fp-1",
            "install_id": "I-acme-1", "hostname": "box-1",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let secret = r.json::<Value>().unwrap()["activation_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    for seq in 1..=2 {
        let r = c
            .post(format!("{base}/api/v1/licenses/{id}/heartbeat"))
            .bearer_auth(&secret)
            .json(&json!({"fingerprint": "fp-1", "seq": seq}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The same license id on the default tenant's host is not found there.
    let r = client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .bearer_auth(&secret)
        .json(&json!({"fingerprint": "fp-1", "seq": 3}))
        .send()
        .unwrap();
    assert_ne!(r.status(), 200);
    licd::service::sweep::run_recorded(&s.app, &t, now, &Actor::System, false).unwrap();

    let m = scrape(&s);
    let acme =
        |name: &str, outcome: &str| value(&m, name, &[("tenant", "t_acme"), ("outcome", outcome)]);
    assert_eq!(acme("licd_activations_total", "ok"), 1.0);
    assert_eq!(acme("licd_heartbeats_total", "ok"), 2.0);
    assert_eq!(
        value(
            &m,
            "licd_heartbeats_total",
            &[("tenant", "public"), ("outcome", "ok")]
        ),
        0.0
    );
    assert!(
        value(&m, "licd_heartbeats_total", &[("tenant", "public")]) >= 1.0,
        "the refused heartbeat counts for public"
    );
    assert_eq!(
        value(&m, "licd_sweep_runs_total", &[("tenant", "t_acme")]),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "licd_licenses",
            &[("tenant", "t_acme"), ("state", "active")]
        ),
        1.0
    );
}

/// A closed tenant's pending email wakes it: its next attempt is in the registry's
/// schedule, and the scheduler opens the tenant then and sends it (without this the
/// message would wait until the tenant's next request or daily check).
#[test]
fn a_closed_tenant_is_opened_to_retry_its_pending_email() {
    use crate::smtp_sink::{SmtpSink, unused_port};
    let v = crate::enterprise::vendor();
    let port = unused_port();
    let jwks = v.jwks.clone();
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.licensing.trusted_issuers = vec![jwks];
        c.tenancy.enabled = true;
        c.tenancy.api_key = Some(crate::tenancy::ENV_KEY.into());
        c.email.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.email.from = Some("licensing@acme.test".into());
    });
    let public = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &public.install_id, 5, now, 365);
    licd::service::enterprise::install(&s.app, &public, now, &Actor::Cli, &key).unwrap();
    assert_eq!(create(&s, "Acme", "t_acme").status(), 201);

    {
        let t = s.app.tenants.get("t_acme").unwrap();
        licd::service::outbox::send_test(&t, s.clock.now_utc(), &Actor::Cli, "ops@acme.test")
            .unwrap();
    }
    licd::jobs::run_due(&s.app);
    // The idle tenant closes with its message still pending (due now or within the
    // backoff).
    s.clock.advance(Duration::minutes(16));
    licd::jobs::run_due(&s.app);
    assert!(!s.app.tenants.is_open("t_acme"));
    let closed = s.clock.now_utc();
    let due = due_at(&s, "t_acme").unwrap();
    assert!(
        due >= ts(closed) && due <= ts(closed + Duration::minutes(2)),
        "due at {due}, closed at {closed}: the retry, not the daily check"
    );

    let sink = SmtpSink::start_on(port);
    s.clock.advance(Duration::minutes(3));
    licd::jobs::run_due(&s.app);
    assert_eq!(
        sink.messages().len(),
        1,
        "sent by the closed tenant's visit"
    );
    assert!(!s.app.tenants.is_open("t_acme"), "closed again after it");
}
