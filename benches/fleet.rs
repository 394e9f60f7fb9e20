//! The fleet benchmark, measured the way a site would see it: the release `licd serve`
//! as its own process on loopback, driven by `wrk` (Debian's package) with the Lua
//! scripts in `benches/wrk/`, with `/healthz` of the same process in the same run as the
//! HTTP ceiling. Run with `scripts/bench` (release build). Prints Markdown tables.
//! licd runs with its default configuration and log level (`info`); its log is appended
//! to `licd.log` beside the data directory.
//!
//! Seeds 100,000 licenses, each activated by the real activation code, plus licenses
//! left unactivated for the activation run; then, against plain HTTP and then HTTPS
//! (the same data, licd restarted with TLS on): interleaved rounds of `/healthz` and
//! heartbeats from appliances picked at random, at 32 and 64 connections; activations
//! and license issues; heartbeats while a health sweep re-assesses every installation
//! (over HTTP); the anonymous memory of the process; the bytes each license
//! takes on disk, table by table; and where the CPU went during the heartbeat runs at
//! 64 connections (`CpuBudget`: licd's threads by name, `wrk`, the cores left idle).
//!
//! `LICD_BENCH_LICENSES` (default 100,000), `LICD_BENCH_ROUNDS` (3),
//! `LICD_BENCH_SECS` (10 per window), `LICD_BENCH_SOAK_SECS` (0: licd started again, heartbeat load that long, then its memory).
//! `LICD_BENCH_DIR`: seed there (and keep it) rather than in a temporary directory;
//! seeded already, it is used as it is (for profiling: `licd serve` on it by hand).
//! Under `cargo test --all-targets` it runs small and short, as a test of itself.

// A benchmark measures real time: Instant::now is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use licd::clock::{Clock, SystemClock};
use licd::config::Config;
use licd::service::App;
use licd::service::appliance::{self, ActivateRequest};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

mod common;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What seeding left for the load generator.
struct Seeded {
    token: String,
    /// Lines `license id, activation secret, fingerprint`.
    appliances: PathBuf,
    /// Lines `license id, license key, Install ID` of licenses not activated yet.
    unbound: PathBuf,
    issue_secs: f64,
    activate_secs: f64,
    /// Bytes per table and index with `activated` licenses, all activated.
    sizes: Vec<(String, i64)>,
}

/// Issues `activated` licenses through the issuing code (1,000 per transaction) and
/// activates them through the activation code, on two threads; measures the database;
/// then issues `unbound` more for the activation run.
fn seed(config: &Config, work: &Path, activated: usize, unbound: usize) -> Seeded {
    let kept = work.join("seeded.txt");
    if let Ok(token) = std::fs::read_to_string(&kept) {
        return Seeded {
            token,
            appliances: work.join("appliances.txt"),
            unbound: work.join("unbound.txt"),
            issue_secs: 0.0,
            activate_secs: 0.0,
            sizes: table_sizes(
                &licd::store::layout::DataDir::new(&config.storage.data_dir).tenant_db("public"),
            ),
        };
    }
    let app = App::open(config.clone(), Arc::new(SystemClock)).unwrap();
    let tenant = app.tenants.public().unwrap();
    let now = SystemClock.now();
    let token = common::admin_token(&tenant, now);
    let started = Instant::now();
    let issued = common::issue_licenses(&app, &tenant, now, "install", activated);
    let issue_secs = started.elapsed().as_secs_f64();
    eprintln!("issued {activated} licenses in {issue_secs:.1}s");

    let started = Instant::now();
    let half = issued.len().div_ceil(2);
    let lines: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = issued
            .chunks(half.max(1))
            .map(|chunk| {
                let tenant = tenant.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(id, key, install)| {
                            let fingerprint = format!("fp-{id}");
                            let req = ActivateRequest {
                                license_key: key.clone(),
                                fingerprint: fingerprint.clone(),
                                install_id: install.clone(),
                                hostname: None,
                                csr: None,
                            };
                            let a = appliance::activate(&tenant, SystemClock.now(), id, &req, None)
                                .unwrap();
                            format!("{id} {} {fingerprint}\n", a.activation_secret)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let activate_secs = started.elapsed().as_secs_f64();
    eprintln!("activated {activated} in {activate_secs:.1}s");
    let appliances = work.join("appliances.txt");
    std::fs::write(&appliances, lines.concat()).unwrap();
    let unbound_path = work.join("unbound.txt");
    let sizes = table_sizes(&app.tenants.data_dir().tenant_db("public"));
    // Left unactivated for the activation run, so not in the sizes above.
    let mut f = std::fs::File::create(&unbound_path).unwrap();
    for (id, key, install) in common::issue_licenses(&app, &tenant, now, "unbound", unbound) {
        writeln!(f, "{id} {key} {install}").unwrap();
    }
    std::fs::write(&kept, &token).unwrap();
    Seeded {
        sizes,
        token,
        appliances,
        unbound: unbound_path,
        issue_secs,
        activate_secs,
    }
}

/// `licd serve` as its own process.
struct Licd {
    child: Child,
    base: String,
    /// Accepts the site CA's certificate (the HTTPS rounds).
    client: reqwest::blocking::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Licd {
    fn start(data_dir: &Path, tls: bool) -> Licd {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_licd"));
        // At its default log level (`info`), its log appended to a file beside the data
        // directory, as journald would take it.
        let log = data_dir.with_file_name("licd.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        cmd.arg("serve")
            .env_remove("LICD_CONFIG")
            .env_remove("LICD_LOG")
            .env("LICD_STORAGE__DATA_DIR", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        let base = if tls {
            cmd.env("LICD_TLS__ENABLED", "true")
                .env("LICD_TLS__HTTP", "off")
                .env("LICD_SERVER__LISTEN_HTTPS", format!("127.0.0.1:{port}"));
            format!("https://127.0.0.1:{port}")
        } else {
            cmd.env("LICD_TLS__ENABLED", "false")
                .env("LICD_SERVER__LISTEN", format!("127.0.0.1:{port}"));
            format!("http://127.0.0.1:{port}")
        };
        // Dropped (killed) if it never becomes ready.
        let licd = Licd {
            child: cmd.spawn().unwrap(),
            base,
            client: reqwest::blocking::Client::builder()
                .danger_accept_invalid_certs(true)
                .build()
                .unwrap(),
        };
        for _ in 0..600 {
            if licd
                .client
                .get(format!("{}/readyz", licd.base))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                return licd;
            }
            std::thread::sleep(StdDuration::from_millis(50));
        }
        panic!(
            "licd serve never became ready at {} (its log: {})",
            licd.base,
            log.display()
        );
    }

    /// Anonymous resident memory (`RssAnon`), in MiB.
    fn anon_mib(&self) -> f64 {
        common::anon_mib(&self.child.id().to_string())
    }

    /// Its `/metrics` text.
    fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    /// The health sweeps this process ran (the scheduler's first run comes within
    /// seconds of the start): how many, and their mean time in ms, from `/metrics`.
    fn sweeps(&self) -> (f64, f64) {
        let text = self.metrics();
        let value = |name: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let runs = value("licd_sweep_duration_seconds_count");
        let secs = value("licd_sweep_duration_seconds_sum");
        (
            runs,
            if runs > 0.0 {
                secs / runs * 1000.0
            } else {
                0.0
            },
        )
    }

    /// Waits (at most 120 s) for the first scheduled health sweep to end, which comes
    /// within seconds of the start. On a directory just seeded it catches up with the
    /// whole fleet (every installation assessed once, about 600 ms on the writer with
    /// 100,000), a one-off a site sees once; the sweeps after it find little to do.
    /// The timed runs measure what comes after.
    fn wait_first_sweep(&self) {
        let waited = Instant::now();
        while self.sweeps().0 < 1.0 && waited.elapsed() < StdDuration::from_secs(120) {
            std::thread::sleep(StdDuration::from_millis(100));
        }
    }

    /// Heartbeats licd has answered (`licd_heartbeats_total`, every tenant and outcome).
    fn heartbeats(&self) -> f64 {
        self.metrics()
            .lines()
            .filter(|l| l.starts_with("licd_heartbeats_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn stop(mut self) {
        // SIGTERM, a clean shutdown (the WAL checkpointed).
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Licd {
    /// A run that failed leaves no server behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One wrk run, as `benches/wrk/report.lua` prints it.
#[derive(Debug, Clone, Copy)]
struct Run {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The longest a request waited.
    max_ms: f64,
}

/// A `wrk` run under way.
struct Wrk {
    child: Child,
    script: String,
    /// What it printed on stderr, gathered by a thread of its own.
    stderr: std::thread::JoinHandle<String>,
    /// Told when the last thread has loaded its script.
    loaded: std::sync::mpsc::Receiver<()>,
}

impl Wrk {
    fn start(
        base: &str,
        script: &str,
        connections: usize,
        secs: u64,
        env: &[(&str, &Path)],
        token: &str,
    ) -> Wrk {
        let threads = 2;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/wrk");
        let mut cmd = Command::new("wrk");
        cmd.args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{secs}s"),
            "-s",
        ])
        .arg(dir.join(script))
        .arg(base)
        .env("LICD_BENCH_WRK", &dir)
        .env("LICD_BENCH_WRK_THREADS", threads.to_string())
        .env("LICD_BENCH_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .expect("wrk (Debian's package `wrk`; scripts/bench installs it)");
        let stderr = child.stderr.take().unwrap();
        let (tell, loaded) = std::sync::mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                let Ok(line) = line else { break };
                if line == "WRK-LOADED" {
                    let _ = tell.send(());
                } else {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            text
        });
        Wrk {
            child,
            script: script.to_owned(),
            stderr,
            loaded,
        }
    }

    /// Waits until its last thread has loaded its script (`loaded` in
    /// `benches/wrk/report.lua`): `wrk`'s clock starts there.
    fn wait_loaded(&mut self) {
        if self
            .loaded
            .recv_timeout(StdDuration::from_secs(300))
            .is_err()
        {
            let _ = self.child.kill();
            panic!("{}: wrk never said its threads were loaded", self.script);
        }
    }

    /// Waits for it to end; its report (`benches/wrk/report.lua`), which must show every
    /// request answered with a 2xx.
    fn finish(self) -> Run {
        let out = self.child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = self.stderr.join().unwrap();
        let script = &self.script;
        assert!(out.status.success(), "wrk failed: {stdout}{stderr}");
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("WRK "))
            .unwrap_or_else(|| panic!("no report from wrk: {stdout}"));
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let requests = field("requests");
        assert_eq!(
            field("non2xx") + field("socket_errors"),
            0.0,
            "{script}: every request must succeed: {stdout}"
        );
        assert!(requests > 0.0, "{script}: no requests: {stdout}");
        Run {
            rate: requests / (field("duration_us") / 1e6),
            p50_ms: field("p50_us") / 1000.0,
            p99_ms: field("p99_us") / 1000.0,
            max_ms: field("max_us") / 1000.0,
        }
    }
}

/// CPU time at one moment: each thread of licd (on a core, and runnable but waiting
/// for one, from `/proc/<pid>/task/<tid>/schedstat`), and the machine's busy and idle
/// (or I/O-wait) time (`/proc/stat`).
#[derive(Debug, Clone)]
struct CpuSnapshot {
    at: Instant,
    /// tid -> (thread name, ns on a core, ns waiting for one)
    threads: BTreeMap<u32, (String, u64, u64)>,
    busy_ns: u64,
    idle_ns: u64,
}

/// Clock ticks (`USER_HZ`) as ns: Linux reports 100 per second to user space.
const TICK_NS: u64 = 10_000_000;

impl CpuSnapshot {
    fn take(pid: u32) -> CpuSnapshot {
        let mut threads = BTreeMap::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
            let dir = task.unwrap().path();
            let (Ok(comm), Ok(stat)) = (
                std::fs::read_to_string(dir.join("comm")),
                std::fs::read_to_string(dir.join("schedstat")),
            ) else {
                continue; // the thread ended meanwhile
            };
            let mut f = stat.split_whitespace().map(|v| v.parse::<u64>().unwrap());
            let tid = dir.file_name().unwrap().to_string_lossy().parse().unwrap();
            let (on_core, waiting) = (f.next().unwrap(), f.next().unwrap());
            threads.insert(tid, (comm.trim().to_owned(), on_core, waiting));
        }
        let machine = std::fs::read_to_string("/proc/stat").unwrap();
        let cpu: Vec<u64> = machine
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        // user, nice, system, idle, iowait, irq, softirq, steal (guest time is in user).
        let idle = cpu[3] + cpu[4];
        CpuSnapshot {
            at: Instant::now(),
            threads,
            busy_ns: (cpu[..8].iter().sum::<u64>() - idle) * TICK_NS,
            idle_ns: idle * TICK_NS,
        }
    }
}

/// Where the CPU went over some windows of steady load, summed: licd's threads by
/// name, everything else (`wrk`, the kernel), and the cores left idle (or waiting for
/// the disk), against the cores'
/// time in the windows. A thread that ended during a window is missing (licd's threads
/// live as long as the process under steady load).
#[derive(Debug, Default)]
struct CpuBudget {
    /// thread name -> (ns on a core, ns waiting for one)
    threads: BTreeMap<String, (u64, u64)>,
    busy_ns: u64,
    idle_ns: u64,
    /// The windows' wall time times the cores.
    cores_ns: u64,
    requests: f64,
}

impl CpuBudget {
    fn add(&mut self, before: &CpuSnapshot, after: &CpuSnapshot, requests: f64) {
        for (tid, (name, on_core, waiting)) in &after.threads {
            let (b_core, b_wait) = before.threads.get(tid).map_or((0, 0), |(_, c, w)| (*c, *w));
            let e = self.threads.entry(name.clone()).or_default();
            e.0 += on_core - b_core;
            e.1 += waiting - b_wait;
        }
        self.busy_ns += after.busy_ns - before.busy_ns;
        self.idle_ns += after.idle_ns - before.idle_ns;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        self.cores_ns += (after.at - before.at).as_nanos() as u64 * cores;
        self.requests += requests;
    }

    /// Markdown rows: µs per heartbeat on a core and waiting for one.
    fn rows(&self) -> Vec<String> {
        let per = |ns: u64| ns as f64 / 1000.0 / self.requests;
        let mut out: Vec<String> = self
            .threads
            .iter()
            .filter(|(_, (c, _))| per(*c) >= 0.5)
            .map(|(name, (c, w))| {
                let what = match name.as_str() {
                    "actix-rt|system" => " (HTTP workers: parsing, routing, JSON, signing)",
                    "tokio-rt-worker" => " (blocking pool: the group commits)",
                    "licd-checkpoint" => " (WAL checkpoints)",
                    _ => "",
                };
                // A `|` in a thread's name would end the Markdown cell.
                let name = name.replace('|', "\\|");
                format!("| licd `{name}`{what} | {:.1} | {:.1} |", per(*c), per(*w))
            })
            .collect();
        let licd: u64 = self.threads.values().map(|(c, _)| c).sum();
        out.push(format!("| licd, all threads | {:.1} | |", per(licd)));
        out.push(format!(
            "| everything else: `wrk` (the load generator), the kernel's own threads | {:.1} | |",
            per(self.busy_ns.saturating_sub(licd))
        ));
        out.push(format!(
            "| cores idle or waiting for the disk | {:.1} | |",
            per(self.idle_ns)
        ));
        out.push(format!(
            "| the cores' time per heartbeat (wall time × cores) | {:.1} | |",
            per(self.cores_ns)
        ));
        out
    }
}

/// The runs of one measurement over the rounds: the range of rates, the worst p50 and
/// the range of p99s.
fn summary(runs: &[Run]) -> String {
    let range = |values: Vec<f64>, show: &dyn Fn(f64) -> String| -> String {
        let lo = values.iter().copied().fold(f64::MAX, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        if runs.len() > 1 {
            format!("{}–{}", show(lo), show(hi))
        } else {
            show(lo)
        }
    };
    let rate = range(runs.iter().map(|r| r.rate).collect(), &thousands);
    let p99 = range(runs.iter().map(|r| r.p99_ms).collect(), &|v| {
        format!("{v:.2}")
    });
    let p50 = runs.iter().map(|r| r.p50_ms).fold(0.0, f64::max);
    format!("{rate}/s, p50 {p50:.2} ms, p99 {p99} ms")
}

fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Heartbeats from appliances picked at random for `secs`. `wrk`'s threads load the
/// appliances one after another before its clock starts, and the first sends heartbeats
/// meanwhile (11 s with 1,000,000 appliances, docs/benchmarks.md, tenth pass): they count
/// in `wrk`'s total but not in its duration. So the rate is licd's own count
/// (`licd_heartbeats_total`) over `wrk`'s clock, less a margin at each end for its
/// connections to start and stop; `budget`, when given, gets the CPU of that window.
/// The percentiles are `wrk`'s, over all its requests.
fn heartbeats(
    licd: &Licd,
    seeded: &Seeded,
    connections: usize,
    secs: u64,
    budget: Option<&mut CpuBudget>,
) -> Run {
    let env = [("LICD_BENCH_APPLIANCES", seeded.appliances.as_path())];
    let mut wrk = Wrk::start(
        &licd.base,
        "heartbeat.lua",
        connections,
        secs,
        &env,
        &seeded.token,
    );
    wrk.wait_loaded();
    let margin = (StdDuration::from_secs(secs) / 10)
        .clamp(StdDuration::from_millis(200), StdDuration::from_secs(2));
    std::thread::sleep(margin);
    let (before, from) = (CpuSnapshot::take(licd.child.id()), licd.heartbeats());
    std::thread::sleep(StdDuration::from_secs(secs).saturating_sub(margin * 2));
    let (after, to) = (CpuSnapshot::take(licd.child.id()), licd.heartbeats());
    if let Some(budget) = budget {
        budget.add(&before, &after, to - from);
    }
    Run {
        rate: (to - from) / (after.at - before.at).as_secs_f64(),
        ..wrk.finish()
    }
}

/// Heartbeats at 64 connections while a health sweep re-assesses every installation, as
/// when a fleet's licenses start or end together: every license is made one issued (in
/// 2000) to start later than its issue, the instant the sweep starts from
/// (`installations.last_sweep`) is set back to 2000, and the sweep is asked for over the
/// API once `wrk` runs. (A license that started at or before its issue was assessed as
/// started then, so since tenant step 20 the sweep looks only at the others.) The
/// heartbeat run (`max_ms`: the longest a heartbeat waited, the rate over the window as
/// in `heartbeats`), with the sweep's report and time.
fn heartbeats_during_full_sweep(
    licd: &Licd,
    seeded: &Seeded,
    db: &Path,
    secs: u64,
) -> (Run, serde_json::Value, f64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(StdDuration::from_secs(10)).unwrap();
    let set_back = conn
        .execute(
            "UPDATE settings SET value = '2000-01-01T00:00:00.000000Z'
             WHERE key = 'installations.last_sweep'",
            [],
        )
        .unwrap();
    assert_eq!(set_back, 1, "no installations.last_sweep to set back");
    conn.execute(
        "UPDATE licenses SET issued_at = unixepoch('2000-01-01') * 1000000
         WHERE issued_at > unixepoch('2000-01-01') * 1000000",
        [],
    )
    .unwrap();
    drop(conn);
    // The checkpoint of that write, before the heartbeats.
    std::thread::sleep(StdDuration::from_secs(3));
    let env = [("LICD_BENCH_APPLIANCES", seeded.appliances.as_path())];
    let mut wrk = Wrk::start(&licd.base, "heartbeat.lua", 64, secs, &env, &seeded.token);
    wrk.wait_loaded();
    let margin = (StdDuration::from_secs(secs) / 10)
        .clamp(StdDuration::from_millis(200), StdDuration::from_secs(2));
    std::thread::sleep(margin);
    let (from, started) = (licd.heartbeats(), Instant::now());
    std::thread::scope(|s| {
        let sweep = s.spawn(|| {
            let report: serde_json::Value = licd
                .client
                .post(format!("{}/api/v1/licenses/health/sweep", licd.base))
                .bearer_auth(&seeded.token)
                .json(&serde_json::json!({}))
                .send()
                .unwrap()
                .json()
                .unwrap();
            (report, started.elapsed().as_secs_f64())
        });
        std::thread::sleep(StdDuration::from_secs(secs).saturating_sub(margin * 2));
        let rate = (licd.heartbeats() - from) / started.elapsed().as_secs_f64();
        let run = wrk.finish();
        let (report, took) = sweep.join().unwrap();
        (Run { rate, ..run }, report, took)
    })
}

/// Heartbeats and `/healthz` at 32 and 64 connections, interleaved over `rounds`; the
/// CPU of the heartbeat runs at 64 connections goes into `budget`.
fn heartbeat_rounds(
    licd: &Licd,
    seeded: &Seeded,
    rounds: usize,
    secs: u64,
    label: &str,
    rows: &mut Vec<(String, String)>,
    budget: &mut CpuBudget,
) {
    let mut results: Vec<(String, Vec<Run>)> = Vec::new();
    let mut push = |name: String, run: Run| match results.iter_mut().find(|(n, _)| *n == name) {
        Some((_, runs)) => runs.push(run),
        None => results.push((name, vec![run])),
    };
    for _ in 0..rounds {
        for c in [32, 64] {
            let hb = heartbeats(licd, seeded, c, secs, (c == 64).then_some(&mut *budget));
            push(format!("heartbeats over {label}, c={c}"), hb);
            let hz = Wrk::start(&licd.base, "healthz.lua", c, secs, &[], &seeded.token).finish();
            push(format!("`/healthz` over {label}, c={c}"), hz);
        }
    }
    for (name, runs) in results {
        rows.push((name, summary(&runs)));
    }
}

/// Bytes on disk per table and index (SQLite's `dbstat`), after a checkpoint.
fn table_sizes(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a smoke test
    // of the benchmark itself, small and short.
    let full = std::env::args().any(|a| a == "--bench");
    let n = env_usize("LICD_BENCH_LICENSES", if full { 100_000 } else { 300 });
    let rounds = env_usize("LICD_BENCH_ROUNDS", if full { 3 } else { 1 });
    let secs = env_usize("LICD_BENCH_SECS", if full { 10 } else { 1 }) as u64;
    let unbound = if full { 40_000 } else { 200 };
    let temp = tempfile::tempdir().unwrap();
    let work =
        std::env::var_os("LICD_BENCH_DIR").map_or_else(|| temp.path().to_owned(), PathBuf::from);
    let data_dir = work.join("data");
    let mut config = Config::default();
    config.storage.data_dir = data_dir.clone();
    let seeded = seed(&config, &work, n, unbound);
    let mut rows: Vec<(String, String)> = Vec::new();
    // Seeded by an earlier run (LICD_BENCH_DIR): nothing was timed.
    if seeded.issue_secs > 0.0 {
        rows.extend([
            (
                format!("seeding: {n} licenses issued, in-process (1,000 per transaction)"),
                format!("{:.1} s", seeded.issue_secs),
            ),
            (
                format!("seeding: {n} activations, in-process, 2 threads"),
                format!(
                    "{:.1} s ({}/s)",
                    seeded.activate_secs,
                    thousands(n as f64 / seeded.activate_secs)
                ),
            ),
        ]);
    }
    let sizes = &seeded.sizes;

    let licd = Licd::start(&data_dir, false);
    let anon_start = licd.anon_mib();
    licd.wait_first_sweep();
    let mut http_budget = CpuBudget::default();
    heartbeat_rounds(
        &licd,
        &seeded,
        rounds,
        secs,
        "HTTP",
        &mut rows,
        &mut http_budget,
    );
    let env = [("LICD_BENCH_UNBOUND", seeded.unbound.as_path())];
    let act = Wrk::start(
        &licd.base,
        "activate.lua",
        32,
        secs.min(10),
        &env,
        &seeded.token,
    )
    .finish();
    rows.push(("activations over HTTP, c=32".into(), summary(&[act])));
    let iss = Wrk::start(&licd.base, "issue.lua", 32, secs, &env, &seeded.token).finish();
    rows.push(("license issues over HTTP, c=32".into(), summary(&[iss])));
    let soak = env_usize("LICD_BENCH_SOAK_SECS", 0) as u64;
    let anon_loaded = licd.anon_mib();
    let mut memory = vec![
        ("anonymous memory after start".to_owned(), anon_start),
        (
            "anonymous memory after the runs above".to_owned(),
            anon_loaded,
        ),
    ];
    let (runs, mean_ms) = licd.sweeps();
    rows.push((
        "health sweep of the whole fleet (scheduled, on the writer)".into(),
        format!("{runs} runs, {mean_ms:.1} ms each on average"),
    ));
    let db = licd::store::layout::DataDir::new(&data_dir).tenant_db("public");
    let (run, report, took) = heartbeats_during_full_sweep(&licd, &seeded, &db, secs);
    rows.push((
        "heartbeats over HTTP, c=64, while a sweep re-assesses every installation".into(),
        format!(
            "{}, max {:.0} ms; the sweep: {} installations in {took:.1} s",
            summary(&[run]),
            run.max_ms,
            report["installations_assessed"]
        ),
    ));
    licd.stop();

    let licd = Licd::start(&data_dir, true);
    licd.wait_first_sweep();
    let mut https_budget = CpuBudget::default();
    heartbeat_rounds(
        &licd,
        &seeded,
        rounds,
        secs,
        "HTTPS",
        &mut rows,
        &mut https_budget,
    );
    licd.stop();

    if soak > 0 {
        // The memory goal's own measure: a process that has started and then taken
        // heartbeats only, for `soak` seconds.
        let licd = Licd::start(&data_dir, false);
        let started = licd.anon_mib();
        let run = heartbeats(&licd, &seeded, 64, soak, None);
        rows.push((
            format!("heartbeats over HTTP, c=64, {soak} s, licd started again"),
            summary(&[run]),
        ));
        memory.extend([
            ("anonymous memory, licd started again".to_owned(), started),
            (
                format!("anonymous memory after {soak} s of heartbeats (that process)"),
                licd.anon_mib(),
            ),
        ]);
        licd.stop();
    }

    println!("| measurement | result |");
    println!("|---|---|");
    for (k, v) in &rows {
        println!("| {k} | {v} |");
    }
    for (k, v) in &memory {
        println!("| {k} | {v:.1} MiB |");
    }
    for (label, budget) in [("HTTP", &http_budget), ("HTTPS", &https_budget)] {
        println!();
        println!(
            "| CPU per heartbeat, c=64 over {label} ({} heartbeats) | µs on a core | µs waiting for a core |",
            thousands(budget.requests)
        );
        println!("|---|---|---|");
        for row in budget.rows() {
            println!("{row}");
        }
    }
    println!();
    println!("| table or index ({n} activated licenses) | bytes | per license |");
    println!("|---|---|---|");
    let total: i64 = sizes.iter().map(|(_, b)| b).sum();
    for (name, bytes) in sizes.iter().filter(|(_, b)| *b >= 4096 * 4) {
        println!(
            "| {name} | {} | {:.0} |",
            thousands(*bytes as f64),
            *bytes as f64 / n as f64
        );
    }
    println!(
        "| all | {} | {:.0} |",
        thousands(total as f64),
        total as f64 / n as f64
    );
}
