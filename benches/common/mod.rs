//! What the benchmarks share: a real licd server on its own thread, serving the given
//! sockets until `stop`; waiting for it; a heartbeat load from concurrent appliances.
// Not every benchmark uses every helper.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use licd::domain::license::LicenseRequest;
use licd::server::Sockets;
use licd::service::bootstrap::{AdminSeed, ensure_first_admin};
use licd::service::tenant::Tenant;
use licd::service::{Actor, App, licenses, staff, tokens};
use serde_json::{Value, json};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Server {
    /// Starts `app` on `sockets` (actix runs on a system of its own, on a new thread).
    pub fn start(app: Arc<App>, sockets: Sockets) -> Server {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new()
                .block_on(licd::server::run(app, sockets, async {
                    let _ = stopped.await;
                }))
                .unwrap();
        });
        Server { stop, thread }
    }

    /// Shuts the server down and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().unwrap();
    }
}

/// Waits until `{base}/readyz` answers 200.
pub fn wait_ready(base: &str) {
    let client = reqwest::blocking::Client::new();
    for _ in 0..400 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{base} never became ready");
}

/// Heartbeats from `concurrency` clients, each cycling through its share of
/// `appliances` (id, activation secret, fingerprint) until `window` has passed; returns
/// how many were answered and each one's latency in ms.
pub async fn heartbeat_load(
    client: &reqwest::Client,
    base: &str,
    appliances: &[(String, String, String)],
    concurrency: usize,
    window: Duration,
) -> (usize, Vec<f64>) {
    let deadline = Instant::now() + window;
    let per = appliances.len() / concurrency;
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mine: Vec<(String, String, String)> = appliances[w * per..(w + 1) * per].to_vec();
        let (client, base) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(heartbeats(
            client,
            base,
            mine,
            deadline,
            Duration::ZERO,
        )));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len(), all)
}

/// Activates one appliance per `(license id, license key, Install ID)`, fingerprints
/// `fp-0`, `fp-1`, ...; returns `(license id, activation secret, fingerprint)` each.
pub async fn activate_all(
    client: &reqwest::Client,
    base: &str,
    licenses: &[(String, String, String)],
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, (id, key, install)) in licenses.iter().enumerate() {
        let fp = format!("fp-{i}");
        let r: Value = client
            .post(format!("{base}/api/v1/licenses/{id}/activate"))
            .json(&json!({"license_key": key, "fingerprint": fp, "install_id": install}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.push((
            id.clone(),
            r["activation_secret"].as_str().unwrap().to_owned(),
            fp,
        ));
    }
    out
}

/// One client's heartbeats, cycling through `mine` (id, activation secret, fingerprint)
/// until `until`, waiting `pause` after each; returns each one's latency in ms.
pub async fn heartbeats(
    client: reqwest::Client,
    base: String,
    mine: Vec<(String, String, String)>,
    until: Instant,
    pause: Duration,
) -> Vec<f64> {
    let mut seqs = vec![0i64; mine.len()];
    let mut lat = Vec::new();
    let mut i = 0;
    while Instant::now() < until {
        let k = i % mine.len();
        let (id, secret, fp) = &mine[k];
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/licenses/{id}/heartbeat"))
            .bearer_auth(secret)
            .json(&json!({"fingerprint": fp, "seq": seqs[k], "internal_users": 10, "external_users": 2}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let v: Value = r.json().await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        seqs[k] = v["claims"]["seq"].as_i64().unwrap();
        i += 1;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    lat
}

/// The license the benchmarks issue: 100 + 10 users for a year, for `install`.
pub fn bench_license(install: &str, now: DateTime<Utc>) -> LicenseRequest {
    LicenseRequest {
        name: "bench".into(),
        install_id: install.into(),
        organization: "Bench Corp".into(),
        organization_id: None,
        internal_users: 100,
        external_users: 10,
        features: vec!["sso".into()],
        flags: vec![],
        not_before: None,
        expires_at: now + chrono::Duration::days(365),
    }
}

/// Issues `n` licenses for Install IDs `{prefix}-0`, `{prefix}-1`, ... through the real
/// issuing code, 1,000 per transaction; returns (id, license key, Install ID) each.
pub fn issue_licenses(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    prefix: &str,
    n: usize,
) -> Vec<(String, String, String)> {
    let mut out = Vec::with_capacity(n);
    for batch in 0..n.div_ceil(1000) {
        let reqs: Vec<_> = (batch * 1000..n.min((batch + 1) * 1000))
            .map(|i| bench_license(&format!("{prefix}-{i}"), now))
            .collect();
        let rows = licenses::issue_many(app, tenant, now, &Actor::Cli, &reqs).unwrap();
        out.extend(
            rows.into_iter()
                .map(|r| (r.id, r.license_key, r.install_id)),
        );
    }
    out
}

/// Creates the first admin (`bench@example.com`) and returns an API token of theirs.
pub fn admin_token(tenant: &Tenant, now: DateTime<Utc>) -> String {
    let seed = AdminSeed {
        email: Some("bench@example.com".into()),
        password: Some("bench-password-1".into()),
    };
    ensure_first_admin(tenant, now, &seed, 12).unwrap();
    let admin = staff::id_by_email(tenant, "bench@example.com").unwrap();
    tokens::create(tenant, now, &Actor::Cli, admin, "bench", None)
        .unwrap()
        .secret
}

/// The anonymous resident memory (`RssAnon`) of process `pid` (`self` for this one), in
/// MiB.
pub fn anon_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}
