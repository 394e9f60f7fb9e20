//! Prometheus metrics (OpenMetrics text, via `prometheus-client`): counters and
//! histograms recorded as things happen, and gauges filled in at scrape time from the
//! databases (licenses by state, installations by stage, certificate expiry, sizes).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route pattern (`/api/v1/licenses/{id}`), never the raw path.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The tenant the call was routed to (`public`, `t_...`).
    pub tenant: String,
    /// `ok` or the problem code (`license_revoked`, `activation_invalid`, ...).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    pub tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantStateLabels {
    pub tenant: String,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantStageLabels {
    pub tenant: String,
    pub stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertLabels {
    /// `ca` or `server`.
    pub certificate: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DbLabels {
    /// `registry` or `tenant:<name>`.
    pub database: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobRunLabels {
    pub job: String,
    /// `ok` or `failed`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub job: String,
}

fn sweep_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric licd exports; one per process, shared by the HTTP layer and the jobs.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub activations: Family<OutcomeLabels, Counter>,
    pub heartbeats: Family<OutcomeLabels, Counter>,
    pub provisions: Family<OutcomeLabels, Counter>,
    pub sweep_runs: Family<TenantLabels, Counter>,
    pub sweep_duration: Family<TenantLabels, Histogram, fn() -> Histogram>,
    pub tenants_open: Gauge,
    pub tenants: Gauge,
    pub licenses: Family<TenantStateLabels, Gauge>,
    pub installations: Family<TenantStageLabels, Gauge>,
    pub cert_expiry: Family<CertLabels, Gauge>,
    pub db_size: Family<DbLabels, Gauge>,
    pub job_runs: Family<JobRunLabels, Counter>,
    pub job_failing: Family<JobLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("licd"),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            activations: Family::default(),
            heartbeats: Family::default(),
            provisions: Family::default(),
            sweep_runs: Family::default(),
            sweep_duration: Family::new_with_constructor(sweep_histogram),
            tenants_open: Gauge::default(),
            tenants: Gauge::default(),
            licenses: Family::default(),
            installations: Family::default(),
            cert_expiry: Family::default(),
            db_size: Family::default(),
            job_runs: Family::default(),
            job_failing: Family::default(),
        };
        m.register_all()
    }

    fn register_all(mut self) -> Metrics {
        let registry = &mut self.registry;
        registry.register(
            "http_requests",
            "HTTP requests by method, route pattern and status",
            self.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route pattern",
            self.http_duration.clone(),
        );
        registry.register(
            "activations",
            "Appliance activations by outcome (ok or the problem code)",
            self.activations.clone(),
        );
        registry.register(
            "heartbeats",
            "Appliance heartbeats by outcome (ok or the problem code)",
            self.heartbeats.clone(),
        );
        registry.register(
            "provisions",
            "Provisioning-token redemptions by outcome (ok or the problem code)",
            self.provisions.clone(),
        );
        registry.register(
            "sweep_runs",
            "Health sweeps run by tenant (scheduled and on demand)",
            self.sweep_runs.clone(),
        );
        registry.register(
            "sweep_duration_seconds",
            "How long a tenant's health sweep took",
            self.sweep_duration.clone(),
        );
        registry.register(
            "licenses",
            "Licenses by tenant and stored state",
            self.licenses.clone(),
        );
        registry.register(
            "installations",
            "Installations by tenant and violation stage",
            self.installations.clone(),
        );
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "When the local CA and the served certificate expire (Unix time)",
            self.cert_expiry.clone(),
        );
        registry.register(
            "database_size_bytes",
            "Size of each database file with its write-ahead log",
            self.db_size.clone(),
        );
        registry.register(
            "job_runs",
            "Scheduled job runs by job and outcome (ok or failed)",
            self.job_runs.clone(),
        );
        registry.register(
            "tenants_open",
            "Tenants whose database is open now (public always; others on use, closed when idle)",
            self.tenants_open.clone(),
        );
        registry.register(
            "tenants",
            "Tenants this server hosts (ready ones)",
            self.tenants.clone(),
        );
        registry.register(
            "job_failing",
            "1 while a scheduled job's last run failed",
            self.job_failing.clone(),
        );
        self
    }

    /// Records one answered HTTP request. Methods outside the standard set count as
    /// `OTHER`, so clients cannot create series at will.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        const KNOWN: &[&str] = &[
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
        ];
        let method = if KNOWN.contains(&method) {
            method
        } else {
            "OTHER"
        };
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts a scheduled job's run and whether it is failing now.
    pub fn job_run(&self, job: &str, ok: bool) {
        self.job_runs
            .get_or_create(&JobRunLabels {
                job: job.to_owned(),
                outcome: if ok { "ok" } else { "failed" }.to_owned(),
            })
            .inc();
        self.job_failing
            .get_or_create(&JobLabels {
                job: job.to_owned(),
            })
            .set(i64::from(!ok));
    }

    pub fn sweep(&self, tenant: &str, took: Duration) {
        let labels = TenantLabels {
            tenant: tenant.to_owned(),
        };
        self.sweep_runs.get_or_create(&labels).inc();
        self.sweep_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition of everything.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Measures how long something took, for the latency metrics: the one place that reads
/// the machine's monotonic time (decisions follow `clock::Clock` instead).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Counts an appliance call's outcome in its tenant: `ok`, or the problem code it was
/// answered with.
pub fn outcome(family: &Family<OutcomeLabels, Counter>, tenant: &str, code: Option<&str>) {
    family
        .get_or_create(&OutcomeLabels {
            tenant: tenant.to_owned(),
            outcome: code.unwrap_or("ok").to_owned(),
        })
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_was_recorded() {
        let m = Metrics::new();
        m.request("GET", "/healthz", 200, Duration::from_millis(2));
        outcome(&m.heartbeats, "public", None);
        outcome(&m.heartbeats, "t_acme", Some("license_revoked"));
        m.sweep("t_acme", Duration::from_millis(3));
        let text = m.encode().unwrap();
        assert!(text.contains(
            "licd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ));
        assert!(
            text.contains("licd_heartbeats_total{tenant=\"t_acme\",outcome=\"license_revoked\"} 1")
        );
        assert!(text.contains("licd_heartbeats_total{tenant=\"public\",outcome=\"ok\"} 1"));
        assert!(text.contains("licd_sweep_runs_total{tenant=\"t_acme\"} 1"));
        assert!(text.contains("licd_http_request_duration_seconds_bucket"));
        m.request("FOO1", "unmatched", 405, Duration::from_millis(1));
        m.request("FOO2", "unmatched", 405, Duration::from_millis(1));
        let text = m.encode().unwrap();
        assert!(text.contains(
            "licd_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 2"
        ));
        assert!(!text.contains("FOO1"));
    }
}
