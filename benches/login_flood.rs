//! Heartbeat latency with and without a flood of bad sign-ins (issue 10, item 4): a real
//! server on loopback; appliances heartbeat at a steady pace while, in the second
//! phase, attackers send wrong-password sign-ins as fast as they are answered, each
//! request from another loopback address (127.0.0.0/8, so per-address throttling does
//! not stop them) and for another email (so per-account throttling does not either).
//! Run with `scripts/bench login-flood` (release build). Prints a Markdown table.
//!
//! Environment: LICD_BENCH_FLOOD_SECS (length of each phase, default 30),
//! LICD_BENCH_FLOOD_CLIENTS (concurrent attackers, default 32),
//! LICD_BENCH_HEARTBEAT_CLIENTS (default 8, each pausing 10 ms between heartbeats),
//! LICD_BENCH_WORKERS (HTTP workers, default 2).

// A benchmark measures real time: Instant::now is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, Duration, Utc};
use licd::clock::{Clock, ManualClock};
use licd::config::Config;
use licd::domain::license::LicenseRequest;
use licd::service::bootstrap::{AdminSeed, ensure_first_admin};
use licd::service::{Actor, App, licenses};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

/// Distinct source addresses the attackers rotate through (127.0.1.0 - 127.0.1.199):
/// one client, and so at most a few connections, each (file descriptors stay low).
const SOURCES: u32 = 200;
const PAUSE: StdDuration = StdDuration::from_millis(10);

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

/// The process's resident set (the server runs in this process), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn source(i: u32) -> IpAddr {
    let n = 256 + i % SOURCES;
    IpAddr::V4(Ipv4Addr::new(127, 0, (n >> 8) as u8, (n & 0xff) as u8))
}

#[derive(Default)]
struct FloodCounts {
    sent: AtomicUsize,
    invalid: AtomicUsize,
    throttled: AtomicUsize,
    busy: AtomicUsize,
    other: AtomicUsize,
}

async fn flood(
    clients: Arc<Vec<reqwest::Client>>,
    base: String,
    worker: usize,
    stop: Arc<AtomicBool>,
    counts: Arc<FloodCounts>,
) {
    let mut n = worker;
    while !stop.load(Ordering::Relaxed) {
        let c = &clients[n % clients.len()];
        let r = c
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": format!("intruder-{n}@example.com"), "password": "letmein-123"}))
            .send()
            .await;
        counts.sent.fetch_add(1, Ordering::Relaxed);
        let slot = match r.map(|r| r.status().as_u16()) {
            Ok(401) => &counts.invalid,
            Ok(429) => &counts.throttled,
            Ok(503) => &counts.busy,
            _ => &counts.other,
        };
        slot.fetch_add(1, Ordering::Relaxed);
        n += 7919;
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this briefly as a
    // smoke test of the benchmark itself.
    let full = std::env::args().any(|a| a == "--bench");
    let phase = StdDuration::from_secs(
        env_usize("LICD_BENCH_FLOOD_SECS", if full { 30 } else { 1 }) as u64,
    );
    let attackers = env_usize("LICD_BENCH_FLOOD_CLIENTS", if full { 32 } else { 8 });
    let beaters = env_usize("LICD_BENCH_HEARTBEAT_CLIENTS", 8);
    let appliances_n = beaters * 16;

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_owned();
    config.server.workers = env_usize("LICD_BENCH_WORKERS", 2);
    config.tls.enabled = false;
    let password_workers = licd::service::password_pool::default_size();
    let clock = ManualClock::new(
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    let app = Arc::new(App::open(config, Arc::new(clock.clone())).unwrap());
    let tenant = app.tenants.public().unwrap();
    let now = clock.now();
    let seed = AdminSeed {
        email: Some("bench@example.com".into()),
        password: Some("bench-password-1".into()),
    };
    ensure_first_admin(&tenant, now, &seed, 12).unwrap();
    let reqs: Vec<LicenseRequest> = (0..appliances_n)
        .map(|i| LicenseRequest {
            name: "bench".into(),
            install_id: format!("install-{i}"),
            organization: "Bench Corp".into(),
            organization_id: None,
            internal_users: 100,
            external_users: 10,
            features: vec![],
            flags: vec![],
            not_before: None,
            expires_at: now + Duration::days(365),
        })
        .collect();
    let ids: Vec<(String, String, String)> =
        licenses::issue_many(&app, &tenant, now, &Actor::Cli, &reqs)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.license_key, r.install_id))
            .collect();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sockets = licd::server::Sockets {
        http: Some(listener),
        https: None,
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
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let appliances: Vec<(String, String, String)> = rt.block_on(async {
        for _ in 0..100 {
            if client.get(format!("{base}/readyz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        common::activate_all(&client, &base, &ids).await
    });
    // One client per source address: each connection comes from its own address.
    let flood_clients: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..SOURCES)
            .map(|i| {
                reqwest::Client::builder()
                    .local_address(source(i))
                    .pool_max_idle_per_host(4)
                    .build()
                    .unwrap()
            })
            .collect(),
    );

    let measure = |with_flood: bool| {
        rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let counts = Arc::new(FloodCounts::default());
            let mut attackers_running = Vec::new();
            if with_flood {
                for w in 0..attackers {
                    attackers_running.push(tokio::spawn(flood(
                        flood_clients.clone(),
                        base.clone(),
                        w,
                        stop.clone(),
                        counts.clone(),
                    )));
                }
                // Let the flood build up before measuring.
                tokio::time::sleep(StdDuration::from_millis(200)).await;
            }
            let until = Instant::now() + phase;
            let per = appliances.len() / beaters;
            let tasks: Vec<_> = (0..beaters)
                .map(|w| {
                    tokio::spawn(common::heartbeats(
                        client.clone(),
                        base.clone(),
                        appliances[w * per..(w + 1) * per].to_vec(),
                        until,
                        PAUSE,
                    ))
                })
                .collect();
            let mut lat = Vec::new();
            for t in tasks {
                lat.extend(t.await.unwrap());
            }
            stop.store(true, Ordering::Relaxed);
            for a in attackers_running {
                a.await.unwrap();
            }
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
            (lat, counts)
        })
    };

    let rss_before = rss_mib();
    let (quiet, _) = measure(false);
    let (flooded, counts) = measure(true);
    let rss_after = rss_mib();
    server.stop();

    let secs = phase.as_secs_f64();
    let row = |label: &str, lat: &[f64]| {
        println!(
            "| {label} | {:.0}/s | {:.2} ms | {:.2} ms | {:.2} ms |",
            lat.len() as f64 / secs,
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.last().copied().unwrap_or(0.0),
        );
    };
    println!(
        "Heartbeats: {beaters} clients, {} ms pause; phases of {secs:.0} s; {password_workers} password worker(s).",
        PAUSE.as_millis()
    );
    println!();
    println!("| phase | heartbeats | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    row("no flood", &quiet);
    row(
        &format!("{attackers} attackers, {SOURCES} loopback addresses"),
        &flooded,
    );
    let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    println!();
    println!(
        "Flood: {} sign-ins ({:.0}/s): {} checked (401), {} throttled (429), {} busy (503), {} other. RSS {rss_before:.0} MiB before, {rss_after:.0} MiB after.",
        get(&counts.sent),
        get(&counts.sent) as f64 / secs,
        get(&counts.invalid),
        get(&counts.throttled),
        get(&counts.busy),
        get(&counts.other),
    );
    let ratio = percentile(&flooded, 0.99) / percentile(&quiet, 0.99).max(0.001);
    println!("p99 under flood / p99 without: {ratio:.2}x");
}
