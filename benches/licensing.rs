//! Licensing benchmark: a real server on loopback with 100,000 licenses, measured from
//! real HTTP clients. Run with `scripts/bench` (release build). Prints a Markdown table.
//!
//! Measures: heartbeats/s with p50/p99 latency at 32 and 64 concurrent clients, license
//! issues/s over HTTP, offline verifications/s, and sweep time over 100,000 and
//! 1,000,000 licenses.

// A benchmark measures real time: Instant::now is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, Duration, Utc};
use licd::clock::{Clock, ManualClock};
use licd::config::Config;
use licd::service::{Actor, App, sweep};
use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

const LICENSES: usize = 100_000;
const APPLIANCES: usize = 2_000;
const HEARTBEAT_SECONDS: u64 = 10;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a smoke test
    // of the benchmark itself, small and short.
    let full = std::env::args().any(|a| a == "--bench");
    let licenses_n = env_usize("LICD_BENCH_LICENSES", if full { LICENSES } else { 300 });
    let window = StdDuration::from_secs(if full { HEARTBEAT_SECONDS } else { 1 });
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_owned();
    config.server.workers = 2;
    config.tls.enabled = true;
    let clock = ManualClock::new(
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    let mut app = App::open(config, Arc::new(clock.clone())).unwrap();
    app.enable_tls().unwrap();
    let app = Arc::new(app);
    let tenant = app.tenants.public().unwrap();
    let now = clock.now();
    let token = common::admin_token(&tenant, now);

    // Seed licenses through the real issuing code, batched 1,000 per transaction.
    let started = Instant::now();
    let ids = common::issue_licenses(&app, &tenant, now, "install", licenses_n);
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {licenses_n} licenses in {seed_secs:.1}s");

    // Serve over loopback.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Both serve the whole app here, to compare them.
    let tls_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tls_base = format!(
        "https://localhost:{}",
        tls_listener.local_addr().unwrap().port()
    );
    let sockets = licd::server::Sockets {
        http: Some(listener),
        https: Some(tls_listener),
        redirect_plain: false,
        manual_jobs: false,
    };
    let server = common::Server::start(app.clone(), sockets);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            if client.get(format!("{base}/readyz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
    });

    // Activate appliances.
    let appliances: Vec<(String, String, String)> = rt.block_on(async {
        common::activate_all(&client, &base, &ids[..APPLIANCES.min(ids.len())]).await
    });

    // The clock is fixed in the past, so the certificate is "expired" for the client;
    // the handshake and record costs are what is measured.
    let tls_client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut rows: Vec<(String, String)> = Vec::new();
    for (concurrency, client, base, label) in [
        (32usize, &client, &base, "HTTP"),
        (64, &client, &base, "HTTP"),
        (32, &tls_client, &tls_base, "HTTPS"),
    ] {
        let before = tenant.group_commit_stats();
        let (count, lat) = rt.block_on(common::heartbeat_load(
            client,
            base,
            &appliances,
            concurrency,
            window,
        ));
        let after = tenant.group_commit_stats();
        eprintln!(
            "{concurrency} clients: {} heartbeats in {} commits",
            after.1 - before.1,
            after.0 - before.0
        );
        let mut lat = lat;
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let rate = count as f64 / window.as_secs_f64();
        rows.push((
            format!("heartbeats over {label}, {concurrency} clients"),
            format!(
                "{rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                percentile(&lat, 0.5),
                percentile(&lat, 0.99)
            ),
        ));
    }

    // Issues over HTTP, 16 concurrent clients.
    let issue_n = if full { 4_000 } else { 160 };
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for w in 0..16 {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..issue_n / 16 {
                    let body = json!({"name": "b", "install_id": format!("issue-{w}-{i}"), "internal_users": 5,
                        "expires_at": "2027-06-01T00:00:00Z"});
                    let r = client.post(format!("{base}/api/v1/licenses")).bearer_auth(&token).json(&body).send().await.unwrap();
                    assert_eq!(r.status(), 201);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let issue_rate = issue_n as f64 / started.elapsed().as_secs_f64();
    rows.push((
        "license issues over HTTP, 16 clients".into(),
        format!("{issue_rate:.0}/s"),
    ));

    // Offline verification.
    let keys = tenant.keyring().unwrap().verifying.clone();
    let started = Instant::now();
    let mut verified = 0usize;
    while started.elapsed() < window.min(StdDuration::from_secs(2)) {
        let (_, key, install) = &ids[verified % ids.len()];
        licd::pki::verify::verify_license(key, &keys, Some(install), now).unwrap();
        verified += 1;
    }
    let verify_rate = verified as f64 / started.elapsed().as_secs_f64();
    rows.push((
        "offline verifications, 1 thread".into(),
        format!("{verify_rate:.0}/s"),
    ));

    // The heartbeat use case alone (no HTTP), one thread: the storage + signing cost.
    let direct: Vec<(String, String, String)> = appliances.iter().take(200).cloned().collect();
    let mut seqs = vec![0i64; direct.len()];
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < window.min(StdDuration::from_secs(3)) {
        let k = n % direct.len();
        let (id, secret, fp) = &direct[k];
        let req = licd::service::appliance::HeartbeatRequest {
            fingerprint: fp.clone(),
            seq: seqs[k],
            internal_users: Some(10),
            external_users: Some(2),
        };
        let credential = licd::service::appliance::ApplianceCredential::Secret(secret.clone());
        let reply =
            licd::service::appliance::heartbeat(&tenant, clock.now(), id, &credential, &req)
                .unwrap();
        seqs[k] = reply.claims.seq;
        n += 1;
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    rows.push((
        "heartbeat use case without HTTP, 1 thread".into(),
        format!("{:.0}/s ({per:.0} µs each)", 1e6 / per),
    ));
    server.stop();

    // Sweeps. "no-op": nothing is due (the common case). "1% due": that many lock.
    let sweep_at = |label: &str, rows: &mut Vec<(String, String)>| {
        let t = Instant::now();
        let r = sweep::run(&app, &tenant, clock.now(), &Actor::System, false).unwrap();
        rows.push((
            format!("sweep, {label}"),
            format!(
                "{:.3} s ({} examined, {} changed)",
                t.elapsed().as_secs_f64(),
                r.examined,
                r.transitions.len()
            ),
        ));
    };
    // Straight to the database file, as an operator's tool would (WAL: the server keeps
    // serving meanwhile).
    let raw = rusqlite::Connection::open(app.tenants.data_dir().tenant_db("public")).unwrap();
    raw.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    let total: i64 = raw
        .query_row("SELECT count(*) FROM licenses", [], |r| r.get(0))
        .unwrap();
    sweep_at(&format!("{total} licenses, nothing due"), &mut rows);
    clock.advance(Duration::days(15));
    sweep_at(
        &format!(
            "{total} licenses, {} appliances past grace",
            appliances.len()
        ),
        &mut rows,
    );
    clock.set(now);

    // Grow to 1,000,000 by copying rows (fresh ids, same claims), every one active, as a
    // fleet is: 99% heard from just now, 1% heard from 13 days ago. Then sweep with
    // nothing due, and again 2 days later, when that 1% is past its grace window (14
    // days). (This fixture was 99% `issued` until issue 17's sixth pass, which hid a
    // sweep that walked every active license.)
    clock.set(now);
    let target = env_usize(
        "LICD_BENCH_SWEEP_LICENSES",
        if full { 1_000_000 } else { 0 },
    ) as i64;
    let extra = (target - total).max(0);
    let active_copies = target / 100;
    let t = Instant::now();
    let copy = |prefix: &str, seen: DateTime<Utc>, n: i64| {
        raw.execute_batch(&format!(
                    "INSERT INTO licenses (id, name, install_id, organization, internal_users, external_users, features,
                       flags, not_before, expires_at, issued_at, signed_by, state, suspend_reason, bound_fingerprint,
                       activated_at, subscription_status, subscription_period_end, revoked_at,
                       revoke_reason)
                     SELECT '{prefix}-' || n.value, name, install_id || '-{prefix}-' || n.value, organization,
                       internal_users, external_users, features, flags, not_before, expires_at, issued_at, signed_by,
                       'active', suspend_reason, bound_fingerprint, activated_at, subscription_status,
                       subscription_period_end, revoked_at, revoke_reason
                     FROM (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE value < {n})
                           SELECT value FROM c) n
                     JOIN (SELECT * FROM licenses LIMIT 1) l;
                     UPDATE heartbeat_state SET last_seen_at = {seen}
                     WHERE license_no IN (SELECT no FROM licenses
                                          WHERE id >= '{prefix}-' AND id < '{prefix}.')",
                    seen = licd::store::micros(seen),
                ))
            .unwrap();
    };
    if extra > active_copies {
        copy("active", now, extra - active_copies);
        copy("silent", now - Duration::days(13), active_copies);
        // The copies' pages go from the WAL into the database file now, as part of the
        // fixture: otherwise the sweep's commit below would pay for that checkpoint.
        raw.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        eprintln!(
            "grew to {target} licenses in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        sweep_at(&format!("{target} licenses, nothing due"), &mut rows);
        clock.advance(Duration::days(2));
        sweep_at(
            &format!("{target} licenses, {active_copies} appliances past grace"),
            &mut rows,
        );
    }

    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| seeding {licenses_n} licenses (issue code, 1,000 per transaction) | {seed_secs:.1} s ({:.0}/s) |",
        licenses_n as f64 / seed_secs
    );
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}
