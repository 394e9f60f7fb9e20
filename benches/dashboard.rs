//! Dashboard benchmark: the console's dashboard (`GET /`) rendered for a signed-in
//! super_admin by a real server on loopback, over a data dir holding 100,000 licenses,
//! 100,000 installations and 1,000,000 heartbeat rows. Run with `scripts/bench
//! dashboard` (release build). Prints a Markdown table.
//!
//! The data is seeded with SQL in one transaction through the store's own schema (its
//! triggers keep the aggregate tables, as they do for every write), with the server
//! closed; then the server opens the data dir, as after a restart.

// A benchmark measures real time: Instant::now is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, Duration, Utc};
use licd::clock::{Clock, ManualClock};
use licd::config::Config;
use licd::domain::license::LicenseRequest;
use licd::service::bootstrap::{AdminSeed, ensure_first_admin};
use licd::service::{Actor, App, fleet_overview, licenses};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

const LICENSES: i64 = 100_000;
const HEARTBEATS: i64 = 1_000_000;
const REQUESTS: usize = 200;
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password-1";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn open(dir: &std::path::Path, clock: &ManualClock) -> Arc<App> {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_owned();
    config.server.workers = 2;
    config.tls.enabled = false;
    Arc::new(App::open(config, Arc::new(clock.clone())).unwrap())
}

/// Fills the tenant database: licenses copied from one real license (so keys and kid are
/// real), in every state, issued over 12 weeks, expiring over 400 days, half of the
/// active ones silent; an installation per license, some in each stage; heartbeats of
/// the active licenses, one every 2 s going back from `now` (23 days for a million).
fn seed(db: &std::path::Path, now: DateTime<Utc>, licenses: i64, heartbeats: i64) {
    let mut raw = rusqlite::Connection::open(db).unwrap();
    raw.busy_timeout(StdDuration::from_secs(30)).unwrap();
    let tx = raw.transaction().unwrap();
    let epoch = now.timestamp();
    let at = |seconds_ago: &str| {
        format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {epoch} - ({seconds_ago}), 'unixepoch')")
    };
    // The times of licenses, their state rows and installations are microseconds
    // (tenant steps 24, 25 and 22).
    let at_micros = |seconds_ago: &str| format!("(({epoch} - ({seconds_ago})) * 1000000)");
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE n AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {licenses}) SELECT i FROM c;
         INSERT INTO licenses (id, name, install_id, organization, internal_users, external_users, features, flags,
            not_before, expires_at, issued_at, signed_by, state, suspend_reason, bound_fingerprint,
            activated_at, subscription_status, subscription_period_end, revoked_at, revoke_reason)
         SELECT 'bench-' || n.i, 'Plant ' || n.i, 'inst-' || n.i, 'Org ' || (n.i % 500), 50, 10, l.features, l.flags,
            l.not_before, {expires}, {issued}, l.signed_by,
            CASE WHEN n.i % 100 < 60 THEN 'active' WHEN n.i % 100 < 75 THEN 'issued' WHEN n.i % 100 < 85 THEN 'locked'
                 WHEN n.i % 100 < 90 THEN 'suspended' WHEN n.i % 100 < 95 THEN 'revoked' ELSE 'expired' END,
            CASE WHEN n.i % 100 BETWEEN 85 AND 89 THEN 'staff' END,
            CASE WHEN n.i % 100 < 60 THEN 'fp-' || n.i END,
            CASE WHEN n.i % 100 < 60 THEN {issued} END,
            'none', NULL, NULL, NULL
         FROM n JOIN (SELECT * FROM licenses LIMIT 1) l;
         UPDATE heartbeat_state SET last_seen_at = {seen}
         WHERE license_no IN (SELECT no FROM licenses
                              WHERE id LIKE 'bench-%' AND CAST(substr(id, 7) AS INTEGER) % 100 < 60);
         INSERT INTO installations (install_id, internal_users, external_users, usage_at, condition, violation_since, stage, updated_at)
         SELECT 'inst-' || n.i, 12, 3, {now_micros},
            CASE WHEN n.i % 50 = 0 THEN 'over_limit' ELSE 'compliant' END,
            CASE WHEN n.i % 50 = 0 THEN {now_micros} END,
            CASE WHEN n.i % 50 = 0 THEN 'admin_warning' WHEN n.i % 97 = 0 THEN 'expiry_soon' ELSE 'none' END,
            {now_micros}
         FROM n;
         DROP TABLE n;",
        expires = at_micros("-(n.i % 400) * 86400 - 3600"),
        issued = at_micros("(n.i % 84) * 86400 + 7200"),
        seen = at_micros(
            "((SELECT CAST(substr(id, 7) AS INTEGER) FROM licenses WHERE no = license_no) % 120) * 60"
        ),
        now_micros = at_micros("0"),
    ))
    .unwrap();
    // Heartbeats oldest first (ids grow with time, as the retention job expects).
    tx.execute_batch(&format!(
        "INSERT INTO heartbeats (license_id, at, fingerprint, seq, internal_users, external_users, state)
         SELECT 'bench-' || (1 + j % {licenses}), {hb_at}, 'fp', j, 12, 3, 'active'
         FROM (WITH RECURSIVE c(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM c WHERE j < {heartbeats}) SELECT j FROM c);",
        hb_at = at(&format!("({heartbeats} - j) * 2")),
    ))
    .unwrap();
    tx.commit().unwrap();
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this small and short
    // as a smoke test of the benchmark itself.
    let full = std::env::args().any(|a| a == "--bench");
    let (licenses_n, heartbeats_n, requests) = if full {
        (LICENSES, HEARTBEATS, REQUESTS)
    } else {
        (1_000, 10_000, 10)
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(
        DateTime::parse_from_rfc3339("2026-06-01T12:30:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    let now = clock.now();

    // Make the data dir, the admin and one real license, then close it.
    let db_path = {
        let app = open(dir.path(), &clock);
        let tenant = app.tenants.public().unwrap();
        let seed_admin = AdminSeed {
            email: Some(EMAIL.into()),
            password: Some(PASSWORD.into()),
        };
        ensure_first_admin(&tenant, now, &seed_admin, 12).unwrap();
        let template = LicenseRequest {
            name: "template".into(),
            install_id: "template".into(),
            organization: "Bench Corp".into(),
            organization_id: None,
            internal_users: 50,
            external_users: 10,
            features: vec!["sso".into()],
            flags: vec![],
            not_before: None,
            expires_at: now + Duration::days(365),
        };
        licenses::issue_many(&app, &tenant, now, &Actor::Cli, &[template]).unwrap();
        app.tenants.data_dir().tenant_db("public")
    };
    let started = Instant::now();
    seed(&db_path, now, licenses_n, heartbeats_n);
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {licenses_n} licenses and {heartbeats_n} heartbeats in {seed_secs:.1}s");

    // What the dashboard would cost counted from the rows themselves (for comparison).
    let raw = rusqlite::Connection::open(&db_path).unwrap();
    let t = Instant::now();
    let direct: i64 = raw
        .query_row(
            "SELECT count(*) FROM (SELECT state, count(*) FROM licenses GROUP BY state)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let _: i64 = raw
        .query_row(
            "SELECT count(*) FROM (SELECT substr(at, 1, 13), count(*) FROM heartbeats WHERE at >= ?1 GROUP BY 1)",
            [licd::store::ts(now - Duration::days(7))],
            |r| r.get(0),
        )
        .unwrap();
    let direct_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(direct > 0);
    drop(raw);

    // The server opens the seeded data dir.
    let app = open(dir.path(), &clock);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sockets = licd::server::Sockets {
        http: Some(listener),
        https: None,
        redirect_plain: false,
        manual_jobs: true,
    };
    let server = common::Server::start(app.clone(), sockets);
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .timeout(StdDuration::from_secs(60))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());

    let get = || {
        let t = Instant::now();
        let r = client.get(format!("{base}/")).send().unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().unwrap();
        (t.elapsed().as_secs_f64() * 1e3, body)
    };
    // The first view after start also reads the order of silent appliances from the
    // state rows (`store::heard`); the views after it count in memory.
    let anon_before = common::anon_mib("self");
    let (first_ms, first) = get();
    let anon_after = common::anon_mib("self");
    // The page shows the seeded fleet (plus the template license, issued).
    let total = licenses_n + 1;
    assert!(
        first.contains(&format!("id=\"licenses-total\">{total}<")),
        "the dashboard does not show {total} licenses"
    );
    assert!(first.contains("id=\"chart-heartbeats\""));
    for _ in 0..requests / 10 {
        get();
    }
    let mut lat: Vec<f64> = (0..requests).map(|_| get().0).collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (p50, p99, max) = (
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );

    // The figures alone (the use case, no HTTP, no template).
    let tenant = app.tenants.public().unwrap();
    let mut figures: Vec<f64> = (0..requests)
        .map(|_| {
            let t = Instant::now();
            fleet_overview::fleet(&tenant, now).unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    figures.sort_by(|a, b| a.partial_cmp(b).unwrap());

    server.stop();

    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| seeding {licenses_n} licenses, {licenses_n} installations, {heartbeats_n} heartbeats (SQL, one transaction, triggers on) | {seed_secs:.1} s |"
    );
    println!(
        "| `GET /` as super_admin, {requests} requests one after another | p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms |"
    );
    println!(
        "| the first `GET /` after start (reads the order of silent appliances from the state rows) | {first_ms:.2} ms, anonymous memory {anon_before:.1} → {anon_after:.1} MiB |"
    );
    println!(
        "| of which the figures (`fleet_overview::fleet`, no HTTP) | p50 {:.2} ms, p99 {:.2} ms |",
        percentile(&figures, 0.5),
        percentile(&figures, 0.99)
    );
    println!(
        "| for comparison: licenses per state and 7 days of heartbeats per hour counted from the rows | {direct_ms:.1} ms |"
    );
    println!("| dashboard page size | {} KiB |", first.len() / 1024);
}
