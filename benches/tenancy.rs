//! Tenancy benchmark: what many tenants cost. Run with `scripts/bench tenancy` (release
//! build). Prints a Markdown table.
//!
//! Measures: creating a tenant over the API (median, p99); with 1,000 tenants (the rest
//! made through the service code, as `licd tenant create` would), a real `licd serve`
//! process from start to `/readyz`, its idle resident memory and open file descriptors;
//! the scheduled jobs over 1,000 closed tenants with nothing due; heartbeats/s on a
//! tenant's host name against the default tenant's on the same server.

// A benchmark measures real time: Instant::now is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, Duration, Utc};
use licd::clock::{Clock, ManualClock, SystemClock};
use licd::config::Config;
use licd::domain::license::{LICENSE_TYP, LicenseClaims, LicenseRequest};
use licd::pki::KeyPair;
use licd::service::tenancy::{self, NewTenant};
use licd::service::{Actor, App, enterprise, licenses};
use serde_json::json;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

const KEY: &str = "bench-tenancy-key-0123456789abcdef0123";
const TENANT_HOST: &str = "bench-tenant.localhost";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn config(dir: &Path, jwks: &Path) -> Config {
    let mut c = Config::default();
    c.storage.data_dir = dir.to_owned();
    c.server.workers = 2;
    c.tls.enabled = false;
    c.tenancy.enabled = true;
    c.tenancy.api_key = Some(KEY.into());
    c.licensing.trusted_issuers = vec![jwks.to_owned()];
    c
}

/// A vendor key and its JWKS file, and the default tenant's own license signed by it.
fn license_public(app: &App, vendor: &KeyPair, now: DateTime<Utc>) {
    let public = app.tenants.public().unwrap();
    let claims = LicenseClaims {
        iss: "vendor".into(),
        sub: uuid::Uuid::new_v4().to_string(),
        jti: uuid::Uuid::new_v4().to_string(),
        aud: format!("licd:install:{}", public.install_id),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + Duration::days(365)).timestamp(),
        name: "licd bench".into(),
        org: "Bench".into(),
        internal_users: 100,
        external_users: 0,
        features: vec![],
        flags: vec![],
        ver: 1,
    };
    let key = licd::pki::jws::sign(vendor, LICENSE_TYP, &claims).unwrap();
    enterprise::install(app, &public, now, &Actor::Cli, &key).unwrap();
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this small and short.
    let full = std::env::args().any(|a| a == "--bench");
    let tenants_n: usize = if full { 1_000 } else { 12 };
    let api_creates: usize = if full { 100 } else { 4 };
    let window = StdDuration::from_secs(if full { 10 } else { 1 });
    let dir = tempfile::tempdir().unwrap();
    let vendor = KeyPair::generate().unwrap();
    let jwks = dir.path().join("vendor.jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_string(&licd::pki::keys::Jwks {
            keys: vec![vendor.public().to_jwk()],
        })
        .unwrap(),
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut rows: Vec<(String, String)> = Vec::new();
    // Whole seconds: tenants close when unused for more than the idle time, in seconds.
    let start = DateTime::from_timestamp(SystemClock.now().timestamp(), 0).unwrap();
    let clock = ManualClock::new(start);

    // 1. Creation over the API.
    let app = Arc::new(App::open(config(&data, &jwks), Arc::new(clock.clone())).unwrap());
    license_public(&app, &vendor, clock.now());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = common::Server::start(
        app.clone(),
        licd::server::Sockets {
            http: Some(listener),
            manual_jobs: true,
            ..Default::default()
        },
    );
    let client = reqwest::blocking::Client::new();
    common::wait_ready(&base);
    let mut lat = Vec::new();
    for i in 0..api_creates {
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/tenants"))
            .bearer_auth(KEY)
            .json(&json!({"name": format!("Tenant {i}"), "schema_name": format!("t_api{i:04}")}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows.push((
        format!("create a tenant over the API ({api_creates}, one after another)"),
        format!(
            "median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            lat.last().unwrap()
        ),
    ));
    server.stop();

    // 2. The rest through the service code, closing them as they go idle.
    let started = Instant::now();
    for i in api_creates..tenants_n {
        let input = NewTenant {
            name: format!("Tenant {i}"),
            schema_name: format!("t_lib{i:04}"),
        };
        tenancy::create(&app, clock.now(), &Actor::Cli, input).unwrap();
        if i % 50 == 0 {
            clock.advance(Duration::seconds(1));
            app.tenants
                .close_idle(clock.now(), Duration::zero())
                .unwrap();
        }
    }
    clock.advance(Duration::seconds(1));
    app.tenants
        .close_idle(clock.now(), Duration::zero())
        .unwrap();
    let lib_secs = started.elapsed().as_secs_f64();
    rows.push((
        format!(
            "create {} more through the service code",
            tenants_n - api_creates
        ),
        format!(
            "{lib_secs:.1} s ({:.1} ms each)",
            lib_secs * 1000.0 / (tenants_n - api_creates) as f64
        ),
    ));
    // A host name for one of them, for the heartbeats below.
    let heartbeat_tenant = format!("t_lib{:04}", tenants_n - 1);
    app.tenants.checkpoint_all();
    drop(app);
    rusqlite::Connection::open(data.join("registry.db"))
        .unwrap()
        .execute(
            "INSERT INTO domains (domain, schema_name, created_at) VALUES (?1, ?2, ?3)",
            [
                TENANT_HOST,
                &heartbeat_tenant,
                &licd::store::ts(clock.now()),
            ],
        )
        .unwrap();

    // 3. A real `licd serve` over the 1,000 tenants: start to /readyz, idle memory, fds.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = dir.path().join("licd.toml");
    std::fs::write(
        &toml,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nworkers = 2\n[storage]\ndata_dir = \"{}\"\n[tls]\nenabled = false\n[tenancy]\nenabled = true\n[licensing]\ntrusted_issuers = [\"{}\"]\n[log]\nlevel = \"warn\"\n",
            data.display(),
            jwks.display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_licd"))
        .args(["--config", toml.to_str().unwrap(), "serve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready_url = format!("http://127.0.0.1:{port}/readyz");
    let ready = loop {
        if let Ok(r) = client.get(&ready_url).send()
            && r.status() == 200
        {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(60),
            "never ready"
        );
        std::thread::sleep(StdDuration::from_millis(5));
    };
    std::thread::sleep(StdDuration::from_secs(if full { 3 } else { 1 }));
    let pid = child.id();
    let rss = status_kib(pid, "VmRSS:");
    let anon = status_kib(pid, "RssAnon:");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let open_line = metrics
        .lines()
        .find(|l| l.starts_with("licd_tenants_open "))
        .unwrap_or("licd_tenants_open ?")
        .to_owned();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    rows.push((
        format!("`licd serve` with {tenants_n} tenants: start to /readyz"),
        format!("{:.0} ms", ready.as_secs_f64() * 1000.0),
    ));
    rows.push((
        "… idle resident memory".into(),
        format!(
            "VmRSS {:.1} MiB, RssAnon {:.1} MiB",
            rss as f64 / 1024.0,
            anon as f64 / 1024.0
        ),
    ));
    rows.push((
        "… open file descriptors".into(),
        format!("{fds} ({open_line})"),
    ));

    // 4. The scheduled jobs over the closed tenants, nothing due in any of them.
    clock.set(SystemClock.now());
    let app = Arc::new(App::open(config(&data, &jwks), Arc::new(clock.clone())).unwrap());
    let t = Instant::now();
    let ran = licd::jobs::run_due(&app);
    let first = t.elapsed();
    clock.advance(Duration::seconds(5));
    let t = Instant::now();
    let ran_again = licd::jobs::run_due(&app);
    let sweep_only = t.elapsed();
    assert!(ran_again.contains(&"licensing-sweep"), "{ran_again:?}");
    let (open, ready_n) = app.tenants.open_counts().unwrap();
    assert_eq!(open, 1, "the jobs opened tenants");
    rows.push((
        format!(
            "scheduled sweep over {ready_n} tenants, nothing due ({})",
            ran_again.join(", ")
        ),
        format!(
            "{:.1} ms (tenants opened: {})",
            sweep_only.as_secs_f64() * 1000.0,
            open - 1
        ),
    ));
    rows.push((
        format!("… every job at once ({})", ran.join(", ")),
        format!("{:.1} ms", first.as_secs_f64() * 1000.0),
    ));

    // 5. Heartbeats: the default tenant's host against a tenant's, same server.
    let now = clock.now();
    let appliances_each = 256;
    let seeded = |schema: &str| -> Vec<(String, String, String)> {
        let t = app.tenants.get(schema).unwrap();
        let reqs: Vec<LicenseRequest> = (0..appliances_each)
            .map(|i| LicenseRequest {
                name: "bench".into(),
                install_id: format!("{schema}-{i}"),
                organization: "Bench".into(),
                organization_id: None,
                internal_users: 100,
                external_users: 10,
                features: vec![],
                flags: vec![],
                not_before: None,
                expires_at: now + Duration::days(365),
            })
            .collect();
        licenses::issue_many(&app, &t, now, &Actor::Cli, &reqs)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.license_key, r.install_id))
            .collect()
    };
    let public_licenses = seeded("public");
    let tenant_licenses = seeded(&heartbeat_tenant);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = common::Server::start(
        app.clone(),
        licd::server::Sockets {
            http: Some(listener),
            manual_jobs: true,
            ..Default::default()
        },
    );
    let public_base = format!("http://{addr}");
    let tenant_base = format!("http://{TENANT_HOST}:{}", addr.port());
    common::wait_ready(&public_base);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .resolve(TENANT_HOST, addr)
        .build()
        .unwrap();
    let activate = |base: &str, ids: &[(String, String, String)]| {
        rt.block_on(common::activate_all(&client, base, ids))
    };
    let public_appliances = activate(&public_base, &public_licenses);
    let tenant_appliances = activate(&tenant_base, &tenant_licenses);
    let mut rates: Vec<(&str, f64, f64)> = Vec::new();
    // Alternating, twice each, so that drift on a shared machine hits both alike.
    for (label, base, appliances) in [
        ("public", &public_base, &public_appliances),
        ("tenant", &tenant_base, &tenant_appliances),
        ("public", &public_base, &public_appliances),
        ("tenant", &tenant_base, &tenant_appliances),
    ] {
        let (count, mut lat) = rt.block_on(common::heartbeat_load(
            &client, base, appliances, 32, window,
        ));
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        rates.push((
            label,
            count as f64 / window.as_secs_f64(),
            percentile(&lat, 0.99),
        ));
    }
    server.stop();
    let mean = |who: &str| {
        let r: Vec<f64> = rates
            .iter()
            .filter(|(l, _, _)| *l == who)
            .map(|(_, r, _)| *r)
            .collect();
        r.iter().sum::<f64>() / r.len() as f64
    };
    let (p, t) = (mean("public"), mean("tenant"));
    for (label, rate, p99) in &rates {
        rows.push((
            format!("heartbeats, 32 clients, {label} host"),
            format!("{rate:.0}/s, p99 {p99:.2} ms"),
        ));
    }
    rows.push((
        "tenant heartbeat rate / default tenant's".into(),
        format!("{:.1}% ({t:.0}/s vs {p:.0}/s)", t / p * 100.0),
    ));

    println!("| measurement | result |");
    println!("|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}
