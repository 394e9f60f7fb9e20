//! `/metrics` parsed by a Prometheus text-format parser: the counters move when
//! appliances call, gauges describe the fleet, and access follows `metrics.*`.

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate, heartbeat};
use serde_json::json;

/// Every sample in a scrape, as (name, labels, value).
/// A sample: metric name, sorted labels, value.
pub(crate) type Sample = (String, Vec<(String, String)>, f64);

pub(crate) fn scrape(s: &TestServer) -> Vec<Sample> {
    let r = client().get(s.url("/metrics")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let body = r.text().unwrap();
    // A strict OpenMetrics parser: the whole body must parse, up to the `# EOF` marker.
    let (rest, families) = nom_openmetrics::parser::openmetrics(&body)
        .unwrap_or_else(|e| panic!("not OpenMetrics text: {e:?}\n{body}"));
    assert!(rest.trim().is_empty(), "left over: {rest}");
    families
        .iter()
        .flat_map(|f| f.samples.iter())
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels()
                .iter()
                .map(|l| (l.name.to_owned(), l.value.clone()))
                .collect();
            labels.sort();
            (s.name().to_owned(), labels, s.number())
        })
        .collect()
}

pub(crate) fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| {
            n == name
                && want
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| *v)
        .sum()
}

#[test]
fn counters_move_with_heartbeats_and_gauges_describe_the_fleet() {
    let s = TestServer::start();
    let before = scrape(&s);
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let activated = api.ok(activate(&s, &license, "fp-1"));
    let secret = activated["activation_secret"].as_str().unwrap();
    for seq in 1..=3 {
        assert_eq!(heartbeat(&s, id, secret, "fp-1", seq).status(), 200);
    }
    expect_problem(
        heartbeat(&s, id, "lact_wrong", "fp-1", 0),
        401,
        "activation_invalid",
    );
    api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    let after = scrape(&s);

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(moved("licd_heartbeats_total", &[("outcome", "ok")]), 3.0);
    assert_eq!(
        moved(
            "licd_heartbeats_total",
            &[("outcome", "activation_invalid")]
        ),
        1.0
    );
    assert_eq!(moved("licd_activations_total", &[("outcome", "ok")]), 1.0);
    // The staff sweep, and maybe a scheduled one.
    assert!(moved("licd_sweep_runs_total", &[]) >= 1.0);
    let route = "/api/v1/licenses/{id}/heartbeat";
    assert_eq!(
        moved(
            "licd_http_requests_total",
            &[("route", route), ("status", "200"), ("method", "POST")]
        ),
        3.0
    );
    assert!(
        after.iter().any(
            |(n, l, _)| n.starts_with("licd_http_request_duration_seconds")
                && l.iter().any(|(k, v)| k == "route" && v == route)
        ),
        "latency histogram for the heartbeat route"
    );
    assert_eq!(
        value(
            &after,
            "licd_licenses",
            &[("tenant", "public"), ("state", "active")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "licd_installations",
            &[("tenant", "public"), ("stage", "none")]
        ),
        1.0
    );
    assert!(
        value(
            &after,
            "licd_certificate_expiry_timestamp_seconds",
            &[("certificate", "ca")]
        ) > 1.7e9
    );
    assert!(
        value(
            &after,
            "licd_database_size_bytes",
            &[("database", "tenant:public")]
        ) > 0.0
    );
}

#[test]
fn forwarded_requests_are_not_local() {
    let s = TestServer::start();
    let r = client()
        .get(s.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .unwrap();
    expect_problem(r, 403, "forbidden");
}

#[test]
fn a_configured_token_is_required() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.metrics.token = Some("scrape-token-0123456789".into());
    });
    expect_problem(
        client().get(s.url("/metrics")).send().unwrap(),
        401,
        "unauthenticated",
    );
    let wrong = client()
        .get(s.url("/metrics"))
        .bearer_auth("scrape-token-0123456780")
        .send()
        .unwrap();
    expect_problem(wrong, 401, "unauthenticated");
    let right = client()
        .get(s.url("/metrics"))
        .bearer_auth("scrape-token-0123456789")
        .send()
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().unwrap().contains("licd_http_requests_total"));
}
