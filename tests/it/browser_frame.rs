//! The console's frame in a real browser (issue 12, items 1, 7 and 8): the grouped
//! navigation at 1280 and 390 px, no horizontal scroll of the page at 390 px, the menu
//! that opens and closes, role trimming, the forced password change, the first-run page
//! over plain HTTP, axe-core on the main pages, and the screenshots in docs/screenshots/.
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, sign_in, wait_for};
use crate::harness::*;
use crate::licensing::{Api, activate, heartbeat};
use chrono::Duration;
use fantoccini::Locator;
use licd::domain::permissions::Role;
use serde_json::{Value, json};

pub const WIDE: (u32, u32) = (1280, 900);
pub const NARROW: (u32, u32) = (390, 844);

/// What the seeded data is called, for the pages that need an id.
pub struct Seeded {
    pub license_id: String,
    pub install_id: String,
}

/// Realistic data: several licenses with long names and long Install IDs, two
/// appliances sending heartbeats, a revoked and a suspended license, staff with long
/// addresses, API and provisioning tokens. Deterministic apart from generated ids and
/// secrets (the harness clock is fixed).
pub fn seed(s: &TestServer) -> Seeded {
    let api = Api::new(s);
    let now = s.clock.now_utc();
    let issue = |name: &str, org: &str, install: &str, internal: u32, days: i64| -> Value {
        api.ok(api.post(
            "/api/v1/licenses",
            json!({
                "name": name, "organization": org, "install_id": install,
                "internal_users": internal, "external_users": internal / 5,
                "features": ["sso", "audit-export", "high-availability"],
                "expires_at": (now + Duration::days(days)).to_rfc3339(),
            }),
        ))
    };
    let plant = issue(
        "Northwind Industrial Automation — Plant 7 production line controller",
        "Northwind Industrial Automation GmbH",
        "northwind-rotterdam-plant-7.production-line-controller.appliance-0001",
        250,
        365,
    );
    let lab = issue(
        "Contoso Research Laboratories staging cluster",
        "Contoso Research Laboratories",
        "5b9e3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        25,
        20,
    );
    issue(
        "Fabrikam Logistics warehouse scanners (trial)",
        "Fabrikam Logistics",
        "fabrikam-warehouse-scanners-eu-west-3.trial",
        10,
        30,
    );
    let revoked = issue(
        "Tailspin Toys retired kiosk fleet",
        "Tailspin Toys",
        "tailspin-kiosks-retired-2025-fleet-00042",
        5,
        90,
    );
    let suspended = issue(
        "Wide World Importers customs gateway",
        "Wide World Importers",
        "wwi-customs-gateway-primary.datacenter-frankfurt.example",
        40,
        180,
    );
    for (license, fp) in [
        (&plant, "fp-northwind-plant-7-controller-a"),
        (&lab, "fp-contoso-staging-node-1"),
    ] {
        let act = api.ok(activate(s, license, fp));
        let id = license["id"].as_str().unwrap();
        let secret = act["activation_secret"].as_str().unwrap();
        api.ok(heartbeat(s, id, secret, fp, 1));
    }
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{}/revoke", id_of(&revoked)),
        json!({"reason": "customer closed the kiosk programme"}),
    ));
    api.ok(api.post(
        &format!("/api/v1/licenses/{}/suspend", id_of(&suspended)),
        json!({"reason": "invoice overdue"}),
    ));
    s.create_staff(
        "maximilian.vanderberg-hohenstein@northwind-industrial.example",
        Role::Support,
        "a-good-long-password",
    );
    s.create_staff(
        "onboarding.team@example.com",
        Role::Onboarding,
        "a-good-long-password",
    );
    api.ok(api.post(
        "/api/v1/provisioning-tokens",
        json!({
            "name": "Northwind factory image, line 7", "max_uses": 10,
            "template": {"organization": "Northwind Industrial Automation GmbH", "internal_users": 25, "duration_days": 365, "features": ["sso"]},
        }),
    ));
    Seeded {
        license_id: id_of(&plant),
        install_id: plant["install_id"].as_str().unwrap().to_owned(),
    }
}

/// The main pages, by a short name (used for screenshots).
pub fn main_pages(seeded: &Seeded) -> Vec<(&'static str, String)> {
    vec![
        ("dashboard", "/".to_owned()),
        ("licenses", "/licensing".to_owned()),
        (
            "license-detail",
            format!("/licensing/licenses/{}", seeded.license_id),
        ),
        ("installations", "/installations".to_owned()),
        (
            "installation-detail",
            format!("/installations/{}", seeded.install_id),
        ),
        ("heartbeats", "/licensing/heartbeats".to_owned()),
        ("provisioning", "/licensing/provisioning".to_owned()),
        ("signing-keys", "/licensing/signing".to_owned()),
        ("licensing-settings", "/licensing/settings".to_owned()),
        ("organizations", "/customers/organizations".to_owned()),
        ("billing-revenue", "/billing".to_owned()),
        ("staff-users", "/users".to_owned()),
        ("api-tokens", "/tokens".to_owned()),
        ("tls", "/settings/tls".to_owned()),
        ("enterprise", "/enterprise".to_owned()),
        ("audit", "/audit".to_owned()),
    ]
}

/// Loads a page and waits for its main content.
async fn open(b: &Browser, s: &TestServer, path: &str) {
    b.client.goto(&s.url(path)).await.unwrap();
    wait_for(b, "main#main").await;
}

/// Fails when the page body is wider than the window, naming the elements that stick out.
async fn assert_no_horizontal_scroll(b: &Browser, what: &str) {
    let v = b
        .client
        .execute(
            "const iw = window.innerWidth;
             const out = [...document.querySelectorAll('body *')]
               .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > iw + 0.5; })
               .filter(e => !e.closest('.card, .table-scroll') || e.matches('.card, .table-scroll'))
               .slice(0, 8)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right));
             return { scroll: document.documentElement.scrollWidth, inner: iw, out: out };",
            vec![],
        )
        .await
        .unwrap();
    let scroll = v["scroll"].as_u64().unwrap();
    let inner = v["inner"].as_u64().unwrap();
    assert!(
        scroll <= inner,
        "{what}: the page is {scroll} px wide in a {inner} px window; sticking out: {}",
        v["out"]
    );
}

/// Whether the element is rendered: it has a size and is not in hidden or skipped
/// content (a closed <details>'s content is skipped unless CSS shows it).
async fn displayed(b: &Browser, css: &str) -> bool {
    let v = b
        .client
        .execute(
            "const e = document.querySelector(arguments[0]);
             if (!e) throw new Error('no element ' + arguments[0]);
             const r = e.getBoundingClientRect();
             return r.width > 0 && r.height > 0 &&
               e.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });",
            vec![json!(css)],
        )
        .await
        .unwrap();
    v.as_bool().unwrap()
}

/// The navigation's groups as shown: (group label, link labels).
async fn nav_groups(b: &Browser) -> Vec<(String, Vec<String>)> {
    let v = b
        .client
        .execute(
            "return [...document.querySelectorAll('#main-nav .nav-group')].map(g => [
               g.querySelector('.nav-group-label').textContent.trim(),
               [...g.querySelectorAll('a')].map(a => a.textContent.trim())]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

fn groups(expected: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    expected
        .iter()
        .map(|(g, links)| {
            (
                (*g).to_owned(),
                links.iter().map(|l| (*l).to_owned()).collect(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn navigation_is_grouped_and_fits_at_1280_and_390_px() {
    let s = TestServer::start();
    let seeded = seed(&s);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.set_viewport(WIDE.0, WIDE.1).await;
        sign_in(&b, &s).await;

        // Wide: a sidebar, always shown, with the groups in order and no empty group.
        assert_eq!(
            nav_groups(&b).await,
            groups(&[
                ("Fleet", &["Dashboard", "Installations", "Heartbeats"]),
                (
                    "Licensing",
                    &[
                        "Licenses",
                        "Provisioning",
                        "Signing keys",
                        "Licensing settings"
                    ]
                ),
                ("Customers", &["Organizations", "Customer accounts"]),
                ("Billing", &["Revenue", "Invoices", "Subscriptions", "Price list"]),
                (
                    "Administration",
                    &["Staff users", "Enterprise", "TLS", "Outbox", "API tokens", "Audit log"]
                ),
            ])
        );
        assert!(displayed(&b, "#main-nav").await, "the sidebar is shown");
        // Without JavaScript (which opens the <details> on wide screens) CSS alone shows
        // the sidebar.
        b.client
            .execute(
                "document.getElementById('nav-menu').removeAttribute('open');",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            displayed(&b, "#main-nav").await,
            "the sidebar is shown without the open attribute"
        );
        b.client.refresh().await.unwrap();
        wait_for(&b, "#nav-menu[open]").await;
        assert!(!displayed(&b, "#nav-toggle").await, "no menu button at 1280 px");
        assert_eq!(b.text("#main-nav [aria-current=page]").await, "Dashboard");
        let (nav_x, main_x) = {
            let nav = b.client.find(Locator::Css("#main-nav")).await.unwrap();
            let main = b.client.find(Locator::Css("main#main")).await.unwrap();
            (
                nav.rectangle().await.unwrap().0,
                main.rectangle().await.unwrap().0,
            )
        };
        assert!(nav_x < main_x, "the sidebar is left of the content");
        b.click("#main-nav a[href='/licensing']").await;
        wait_for(&b, "#licenses").await;
        assert_eq!(b.text("#main-nav [aria-current=page]").await, "Licenses");
        for (name, path) in main_pages(&seeded) {
            open(&b, &s, &path).await;
            assert_no_horizontal_scroll(&b, &format!("{name} at 1280 px")).await;
        }

        // Narrow: the menu is closed, opens and closes; no page is wider than the window.
        b.set_viewport(NARROW.0, NARROW.1).await;
        open(&b, &s, "/").await;
        assert!(displayed(&b, "#nav-toggle").await, "a menu button at 390 px");
        assert!(!displayed(&b, "#main-nav").await, "the menu starts closed");
        b.click("#nav-toggle").await;
        assert!(displayed(&b, "#main-nav").await, "the menu opened");
        assert_no_horizontal_scroll(&b, "the open menu at 390 px").await;
        b.click("#nav-toggle").await;
        assert!(!displayed(&b, "#main-nav").await, "the menu closed");
        b.click("#nav-toggle").await;
        b.click("#main-nav a[href='/installations']").await;
        wait_for(&b, "#installations").await;
        assert_eq!(b.client.current_url().await.unwrap().path(), "/installations");
        assert!(!displayed(&b, "#main-nav").await, "a new page starts closed");
        for (name, path) in main_pages(&seeded) {
            open(&b, &s, &path).await;
            assert_no_horizontal_scroll(&b, &format!("{name} at 390 px")).await;
        }
        // The skip link is the first thing a keyboard reaches, and leads to the content.
        open(&b, &s, "/licensing").await;
        let first = b
            .client
            .execute(
                "document.activeElement.blur(); return document.querySelector('a, button, summary, input').id;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(first, "skip-link");
        assert_eq!(
            b.client
                .find(Locator::Css("#skip-link"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .as_deref(),
            Some("#main")
        );
        b.close().await;
    });
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn navigation_is_trimmed_to_the_role_and_the_forced_password_page_offers_only_sign_out() {
    let s = TestServer::start();
    s.create_staff("support@example.com", Role::Support, "a-good-long-password");
    s.create_staff(
        "onboarding@example.com",
        Role::Onboarding,
        "a-good-long-password",
    );
    let tenant = s.app.tenants.public().unwrap();
    let created = licd::service::staff::create(
        &tenant,
        s.clock.now_utc(),
        &licd::service::Actor::Cli,
        licd::service::staff::NewStaffInput {
            email: "newhire@example.com".into(),
            display_name: String::new(),
            role: Role::Support,
            password: None,
        },
        12,
    )
    .unwrap();
    let otp = created.one_time_password.unwrap();
    runtime().block_on(async {
        let b = Browser::start().await;
        let sign_in_as = async |b: &Browser, email: &str, password: &str| {
            b.client.delete_all_cookies().await.unwrap();
            b.client.goto(&s.url("/login")).await.unwrap();
            b.fill("#email", email).await;
            b.fill("#password", password).await;
            b.click("#sign-in").await;
            wait_for(b, "#logout").await;
        };
        for (width, height) in [WIDE, NARROW] {
            b.set_viewport(width, height).await;
            sign_in_as(&b, "support@example.com", "a-good-long-password").await;
            assert_eq!(
                nav_groups(&b).await,
                groups(&[
                    ("Fleet", &["Dashboard", "Installations", "Heartbeats"]),
                    ("Licensing", &["Licenses", "Provisioning"]),
                    ("Customers", &["Organizations", "Customer accounts"]),
                    (
                        "Billing",
                        &["Revenue", "Invoices", "Subscriptions", "Price list"]
                    ),
                    ("Administration", &["TLS", "API tokens", "Audit log"]),
                ]),
                "support at {width} px"
            );
            sign_in_as(&b, "onboarding@example.com", "a-good-long-password").await;
            assert_eq!(
                nav_groups(&b).await,
                groups(&[
                    ("Fleet", &["Dashboard", "Installations", "Heartbeats"]),
                    ("Licensing", &["Licenses", "Provisioning"]),
                    ("Customers", &["Organizations", "Customer accounts"]),
                    ("Administration", &["TLS", "API tokens"]),
                ]),
                "onboarding at {width} px"
            );
        }

        // A one-time password: the frame shows no navigation and no link that would only
        // send the user back to /password; signing out works.
        sign_in_as(&b, "newhire@example.com", &otp).await;
        wait_for(&b, "#forced-change").await;
        assert!(b.client.find(Locator::Css("nav")).await.is_err());
        assert!(b.client.find(Locator::Css("#nav-menu")).await.is_err());
        let links = b
            .client
            .execute(
                "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                   .filter(h => !h.startsWith('#') && !h.startsWith('/api/'));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(links, json!([]), "links on the forced password page");
        b.click("#logout").await;
        wait_for(&b, "#login-form").await;
        b.close().await;
    });
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn the_plain_http_listener_serves_a_first_run_page_that_continues_to_https() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tls.enabled = true;
    });
    let http = s.http_base.clone().unwrap();
    let https_port = s.base.rsplit(':').next().unwrap().to_owned();
    let c = client();
    // Real HTTP: the page, with the security headers, and the fingerprint of the very
    // certificate /ca.pem serves.
    let r = c.get(format!("{http}/")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let html = r.text().unwrap();
    let pem = c
        .get(format!("{http}/ca.pem"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let served = licd::pki::ca::der_sha256(&parsed.contents);
    let shown = s.app.ca.fingerprint();
    assert_eq!(shown.replace(':', "").to_lowercase(), served);
    assert!(html.contains(&shown), "{html}");
    for system in ["Debian", "RHEL", "macOS", "Windows", "Firefox"] {
        assert!(html.contains(system), "{system}");
    }
    // The stylesheet comes over plain HTTP too; everything else keeps redirecting.
    assert_eq!(
        c.get(format!("{http}/static/app.css"))
            .send()
            .unwrap()
            .status(),
        200
    );
    for path in ["/login", "/licensing", "/static/app.js", "/api/v1/me"] {
        let r = c.get(format!("{http}{path}")).send().unwrap();
        assert_eq!(r.status(), 308, "{path}");
    }
    let r = c.post(format!("{http}/")).send().unwrap();
    assert_eq!(r.status(), 308, "only GET / is the page");

    runtime().block_on(async {
        let b = Browser::start().await;
        for (width, height) in [WIDE, NARROW] {
            b.set_viewport(width, height).await;
            b.client.goto(&format!("{http}/")).await.unwrap();
            wait_for(&b, "#first-run-title").await;
            assert_eq!(b.client.current_url().await.unwrap().scheme(), "http");
            assert_eq!(b.text("#first-run-fingerprint").await, shown);
            assert_no_horizontal_scroll(&b, &format!("first-run page at {width} px")).await;
            // The stylesheet applied (the CSP lets it in): the card has its border.
            let radius = b
                .client
                .execute(
                    "return getComputedStyle(document.querySelector('main.card')).borderTopLeftRadius;",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(radius, "8px");
        }
        let href = b
            .client
            .find(Locator::Css("#continue-https"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(href, format!("https://127.0.0.1:{https_port}/"));
        b.click("#continue-https").await;
        wait_for(&b, "#login-form").await;
        let here = b.client.current_url().await.unwrap();
        assert_eq!(here.scheme(), "https", "{here}");
        assert_eq!(here.path(), "/login");
        b.close().await;
    });
}

/// axe-core, vendored (tests/fixtures/axe-core/: version in its README).
const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

/// Runs axe-core on the page and returns its serious and critical violations, one
/// readable paragraph each (rule, impact, what to do, the elements and why).
pub(crate) async fn axe_serious(b: &Browser) -> Vec<String> {
    // Injected through WebDriver (not a <script> tag), so the page's CSP stays as it is.
    b.client.execute(AXE, vec![]).await.unwrap();
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => `${v.id} (${v.impact}): ${v.help} [${v.helpUrl}]\n` + v.nodes.map(n =>
                   `    ${n.target.join(' ')}: ${(n.failureSummary || '').split('\\n').join(' ')}`).join('\\n'))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn axe_core_finds_no_serious_violations_on_the_main_pages_at_both_widths() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.tls.enabled = true;
    });
    let seeded = seed(&s);
    let t = s.app.tenants.public().unwrap();
    licd::service::portal_auth::create(
        &s.app,
        &t,
        s.clock.now_utc(),
        "customer@example.com",
        "Customer",
        "a-good-long-password",
        true,
    )
    .unwrap();
    let http = s.http_base.clone().unwrap();
    runtime().block_on(async {
        let b = Browser::start().await;
        b.client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(std::time::Duration::from_secs(60)),
                None,
                None,
            ))
            .await
            .unwrap();
        let mut found = Vec::new();
        b.client.goto(&s.url("/login")).await.unwrap();
        wait_for(&b, "#login-form").await;
        b.fill("#email", ADMIN_EMAIL).await;
        b.fill("#password", ADMIN_PASSWORD).await;
        b.click("#sign-in").await;
        wait_for(&b, "#logout").await;
        for (width, height) in [WIDE, NARROW] {
            b.set_viewport(width, height).await;
            let mut pages = main_pages(&seeded);
            pages.push(("password", "/password".to_owned()));
            for (name, path) in pages {
                open(&b, &s, &path).await;
                for v in axe_serious(&b).await {
                    found.push(format!("{name} at {width} px: {v}"));
                }
            }
            // With the menu open on narrow screens, too.
            if width == NARROW.0 {
                open(&b, &s, "/").await;
                b.click("#nav-toggle").await;
                for v in axe_serious(&b).await {
                    found.push(format!("open menu at {width} px: {v}"));
                }
            }
            b.client.goto(&format!("{http}/")).await.unwrap();
            wait_for(&b, "#first-run-title").await;
            for v in axe_serious(&b).await {
                found.push(format!("first-run page at {width} px: {v}"));
            }
        }
        // Signed out: the login page.
        b.client.delete_all_cookies().await.unwrap();
        b.client.goto(&s.url("/login")).await.unwrap();
        wait_for(&b, "#login-form").await;
        for v in axe_serious(&b).await {
            found.push(format!("login: {v}"));
        }
        // The customer portal: signed out, then as a verified customer.
        for path in ["/portal/signup", "/portal/password/forgot", "/portal/login"] {
            open(&b, &s, path).await;
            for v in axe_serious(&b).await {
                found.push(format!("{path}: {v}"));
            }
        }
        b.fill("#email", "customer@example.com").await;
        b.fill("#password", "a-good-long-password").await;
        b.click("#sign-in").await;
        wait_for(&b, "#portal-logout").await;
        for (width, height) in [WIDE, NARROW] {
            b.set_viewport(width, height).await;
            for path in ["/portal/", "/portal/account"] {
                open(&b, &s, path).await;
                for v in axe_serious(&b).await {
                    found.push(format!("{path} at {width} px: {v}"));
                }
            }
        }
        b.close().await;
        assert!(
            found.is_empty(),
            "axe-core found {} serious or critical violations:\n{}",
            found.len(),
            found.join("\n")
        );
    });
}

/// Writes docs/screenshots/<page>-<width>.png for the main pages: the test suite
/// regenerates them, so they cannot go stale silently (a changed page shows in the diff).
#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn screenshots_of_the_main_pages_at_both_widths() {
    let s = TestServer::start();
    let seeded = seed(&s);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let wanted = [
        "dashboard",
        "licenses",
        "license-detail",
        "installations",
        "heartbeats",
        "staff-users",
        "audit",
        "enterprise",
    ];
    runtime().block_on(async {
        let b = Browser::start().await;
        b.set_viewport(WIDE.0, WIDE.1).await;
        sign_in(&b, &s).await;
        for (width, height) in [WIDE, NARROW] {
            b.set_viewport(width, height).await;
            for (name, path) in main_pages(&seeded) {
                if !wanted.contains(&name) {
                    continue;
                }
                open(&b, &s, &path).await;
                // No caret or hover state in the picture.
                b.client
                    .execute(
                        "document.activeElement.blur(); window.scrollTo(0, 0);",
                        vec![],
                    )
                    .await
                    .unwrap();
                let png = if width == WIDE.0 {
                    b.client.screenshot().await.unwrap()
                } else {
                    b.full_page_png(4000).await
                };
                assert!(png.starts_with(b"\x89PNG"), "{name}");
                std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
            }
        }
        // The narrow menu, open.
        open(&b, &s, "/").await;
        b.click("#nav-toggle").await;
        let png = b.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("menu-open-{}.png", NARROW.0)), png).unwrap();
        b.close().await;
    });
}
