//! The dashboard in a real browser (issue 12, item 2): its figures and its three charts
//! (bar and point counts, titles, the numbers behind the disclosure) against a fleet
//! made with known times (`dashboard::seed_known_fleet`).
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, sign_in, wait_for};
use crate::dashboard::seed_known_fleet;
use crate::harness::*;
use fantoccini::Locator;
use serde_json::{Value, json};

async fn js(b: &Browser, script: &str) -> Value {
    b.client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// A chart's SVG title, how many bars it has, whether it draws a line, and the rows of
/// its table whose count is not zero (label, count), read from the page.
async fn chart(b: &Browser, id: &str) -> (String, u64, bool, u64, Vec<(String, i64)>) {
    let v = js(
        b,
        &format!(
            "const svg = document.getElementById('{id}');
             const rows = [...document.querySelectorAll('#{id}-table tbody tr')]
               .map(tr => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]);
             return {{ title: document.getElementById('{id}-title').textContent,
                      bars: svg.querySelectorAll('rect.chart-bar').length,
                      line: svg.querySelector('polyline.chart-line') !== null,
                      labelled: svg.getAttribute('aria-labelledby'),
                      rows: rows }};"
        ),
    )
    .await;
    assert_eq!(v["labelled"], json!(format!("{id}-title {id}-desc")));
    let rows: Vec<(String, i64)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_i64().unwrap()))
        .collect();
    let all = rows.len() as u64;
    (
        v["title"].as_str().unwrap().to_owned(),
        v["bars"].as_u64().unwrap(),
        v["line"].as_bool().unwrap(),
        all,
        rows.into_iter().filter(|(_, n)| *n != 0).collect(),
    )
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn the_dashboard_shows_the_seeded_fleet_and_its_charts() {
    let s = TestServer::start();
    let known = seed_known_fleet(&s);
    let stage_none: i64 = rusqlite::Connection::open(s.data_dir().join("tenants/public.db"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM installations WHERE stage = 'none'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&s.url("/")).await.unwrap();
        wait_for(&b, "#licenses-by-state").await;
        b.screenshot("dashboard").await;

        // Licenses by state.
        for (state, n) in [
            ("issued", "1"),
            ("active", "2"),
            ("locked", "0"),
            ("suspended", "0"),
            ("revoked", "1"),
            ("expired", "0"),
        ] {
            assert_eq!(b.text(&format!("#state-{state}")).await, n, "{state}");
        }
        assert_eq!(b.text("#licenses-total").await, "4");
        assert_eq!(b.text("#stage-none").await, stage_none.to_string());
        assert_eq!(b.text("#stage-read_only").await, "0");

        // Bravo has been silent since 10:00 (it is 14:30): named, linked, grace left.
        assert_eq!(b.text("#silent-count").await, "1");
        let silent = b.text("#silent-appliances tbody").await;
        for want in ["Bravo", "Bravo Ltd", "bravo.install", "4 h 30 min", "13 d 19 h"] {
            assert!(silent.contains(want), "{want}: {silent}");
        }
        let hrefs = js(
            &b,
            "return [...document.querySelectorAll('#silent-appliances tbody a')].map(a => a.getAttribute('href'));",
        )
        .await;
        assert_eq!(
            hrefs,
            json!([
                format!("/licensing/licenses/{}", known.bravo),
                "/installations/bravo.install"
            ])
        );

        // Alpha expires in 20 days, less the 5 h 30 min gone.
        assert_eq!(b.text("#expiring-count").await, "1");
        let expiring = b.text("#expiring-licenses tbody").await;
        assert!(
            expiring.contains("Alpha") && expiring.contains("19 d 18 h"),
            "{expiring}"
        );
        assert!(
            b.client
                .find(Locator::Css(&format!(
                    "#expiring-licenses a[href='/licensing/licenses/{}']",
                    known.alpha
                )))
                .await
                .is_ok()
        );

        // licd's own license (no license installed: unlicensed, no stage).
        assert_eq!(b.text("#own-license-stage").await, "none");

        // The charts: titles, one bar per hour / week, a line over 30 days, and the
        // numbers behind each disclosure.
        let (title, bars, _, rows, nonzero) = chart(&b, "chart-heartbeats").await;
        assert_eq!(title, "Heartbeats per hour, last 7 days");
        assert_eq!((bars, rows), (168, 168));
        assert_eq!(
            nonzero,
            vec![
                ("Jun 1 10:00".to_owned(), 2),
                ("Jun 1 11:00".to_owned(), 1),
                ("Jun 1 14:00".to_owned(), 1)
            ]
        );
        let (title, bars, _, rows, nonzero) = chart(&b, "chart-issued").await;
        assert_eq!(title, "Licenses issued per week, last 12 weeks");
        assert_eq!((bars, rows), (12, 12));
        assert_eq!(nonzero, vec![("Jun 1".to_owned(), 4)]);
        let (title, bars, line, rows, nonzero) = chart(&b, "chart-appliances").await;
        assert_eq!(title, "Active appliances per day, last 30 days");
        assert_eq!((bars, line, rows), (0, true, 30));
        assert_eq!(nonzero, vec![("Jun 1".to_owned(), 2)]);

        // The table is behind a disclosure: hidden until opened.
        assert!(
            !b.client
                .find(Locator::Css("#chart-heartbeats-table"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
        b.click("#chart-heartbeats-heading ~ details summary").await;
        assert!(
            b.client
                .find(Locator::Css("#chart-heartbeats-table"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
        b.screenshot("dashboard-fleet").await;

        // A state links to the license list filtered by it.
        b.click("#licenses-by-state a[href='/licensing?state=active']")
            .await;
        wait_for(&b, "#licenses").await;
        let list = b.text("#licenses").await;
        assert!(
            list.contains("Alpha") && list.contains("Bravo") && !list.contains("Charlie"),
            "{list}"
        );

        // A stage links to the installations filtered by it.
        b.client.goto(&s.url("/")).await.unwrap();
        b.click("#installations-by-stage a[href='/installations?stage=none']")
            .await;
        wait_for(&b, "select[name=stage]").await;
        let chosen = js(&b, "return document.querySelector('select[name=stage]').value;").await;
        assert_eq!(chosen, json!("none"));
        b.close().await;
    });
}
